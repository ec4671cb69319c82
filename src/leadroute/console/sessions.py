"""Console sessions: a signed cookie (HMAC-SHA256) holding the username, a nonce and an expiry.

The secret comes from LEADROUTE_CONSOLE_SECRET; unset, each process makes one (sessions then
end when the process does). The CSRF token of a form is an HMAC of the session's nonce, so a
page of another site cannot know it; the nonce changes at login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass

COOKIE = "leadroute_console"
LIFETIME = 12 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    nonce: str
    username: str | None = None
    expires: float = 0.0


class Sessions:
    def __init__(self, secret: str | None = None) -> None:
        key = secret or os.environ.get("LEADROUTE_CONSOLE_SECRET") or secrets.token_hex(32)
        self._key = key.encode()

    def _sign(self, data: bytes) -> str:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def new(self, username: str | None = None) -> Session:
        return Session(secrets.token_urlsafe(16), username, time.time() + LIFETIME)

    def dump(self, session: Session) -> str:
        body = json.dumps([session.nonce, session.username, session.expires]).encode()
        encoded = base64.urlsafe_b64encode(body).decode()
        return f"{encoded}.{self._sign(encoded.encode())}"

    def load(self, cookie: str | None) -> Session | None:
        """The session in a cookie, or None if it is missing, forged or expired."""
        if not cookie or "." not in cookie:
            return None
        encoded, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(encoded.encode())):
            return None
        try:
            nonce, username, expires = json.loads(base64.urlsafe_b64decode(encoded))
        except (ValueError, TypeError):
            return None
        if not isinstance(nonce, str) or float(expires) < time.time():
            return None
        return Session(nonce, username if isinstance(username, str) else None, float(expires))

    def csrf(self, session: Session) -> str:
        return self._sign(f"csrf:{session.nonce}".encode())

    def csrf_ok(self, session: Session, token: str) -> bool:
        return hmac.compare_digest(self.csrf(session), token)
