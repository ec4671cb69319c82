"""Console sessions as the browser sees them: one cookie.

A logged-in browser's cookie holds a random token naming a session row in the store
(`services.console_auth`); logging out, a password change, a user's removal or an admin's "sign
out everywhere" delete the row, and the cookie opens nothing any more, on every server. The
forms of a logged-in page carry the session's own CSRF token, kept in that row.

Before login, the cookie holds a signed random nonce (HMAC-SHA256), which only guards the login
form against cross-site posts; its key is LEADROUTE_CONSOLE_SECRET or, unset, one per process
(then a login form must be posted to the server that showed it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from leadroute.adapters.store.session_store import StoredSession
from leadroute.services.console_auth import ConsoleAuth

COOKIE = "leadroute_console"
_ANONYMOUS = "a."


@dataclass(frozen=True, slots=True)
class Session:
    nonce: str  # before login: the signed nonce; after: the stored session's CSRF token
    username: str | None = None
    id: str | None = None  # the stored session's id (None before login)
    token: str | None = None  # the cookie value of a session started by this request


class Sessions:
    def __init__(self, auth: ConsoleAuth, secret: str | None = None) -> None:
        self.auth = auth
        self._key = (secret or secrets.token_hex(32)).encode()

    def _sign(self, data: bytes) -> str:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def anonymous(self) -> Session:
        return Session(secrets.token_urlsafe(16))

    def of(self, stored: StoredSession, token: str | None = None) -> Session:
        return Session(stored.csrf, stored.username, stored.id, token)

    def dump(self, session: Session) -> str:
        if session.id is not None:
            if session.token is None:
                raise ValueError("a stored session's cookie is set only when it starts")
            return session.token
        return f"{_ANONYMOUS}{session.nonce}.{self._sign(session.nonce.encode())}"

    def load(self, cookie: str | None) -> Session | None:
        """The session a cookie names, or None if it is missing, forged, ended or expired."""
        if not cookie:
            return None
        if cookie.startswith(_ANONYMOUS):
            nonce, _, signature = cookie[len(_ANONYMOUS) :].rpartition(".")
            if nonce and hmac.compare_digest(signature, self._sign(nonce.encode())):
                return Session(nonce)
            return None
        if len(cookie) > 100:
            return None
        stored = self.auth.session(cookie)
        return None if stored is None else self.of(stored)

    def csrf(self, session: Session) -> str:
        if session.id is not None:
            return session.nonce
        return self._sign(f"csrf:{session.nonce}".encode())

    def csrf_ok(self, session: Session, token: str) -> bool:
        return hmac.compare_digest(self.csrf(session), token)
