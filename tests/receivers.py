"""Real receivers on 127.0.0.1 for notification and CRM tests: an HTTP server that records
every request and answers from a function, fakes of the Salesforce and HubSpot APIs that check
requests as the real ones do and keep the records they change, and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Any = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class HttpReceiver:
    """Records every request; answers with `respond(request)` (default 200 "ok")."""

    def __init__(self, respond: Callable[[Request], Reply] | None = None, *, port: int = 0) -> None:
        self.respond = respond or (lambda _: Reply(body="ok"))
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                with receiver.lock:
                    receiver.requests.append(request)
                reply = receiver.respond(request)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:
                    self.send_response(reply.status)
                    if not isinstance(body, str):
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_POST = do_PATCH = do_PUT = do_GET = handle_any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@contextmanager
def http_receiver(
    respond: Callable[[Request], Reply] | None = None, *, port: int = 0
) -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(respond, port=port)
    try:
        yield receiver
    finally:
        receiver.stop()


class Failures:
    """Scripted failures: the next requests get these replies, then the fake answers."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []

    def next(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def take(self) -> Reply | None:
        return self.replies.pop(0) if self.replies else None


class FakeSalesforce:
    """The Lead sObject update of the Salesforce REST API: checks method, path, version,
    bearer token, content type and fields; applies the update to its records."""

    FIELDS = frozenset({"OwnerId", "Status"})

    def __init__(self, token: str, leads: dict[str, dict[str, Any]], version: str = "v60.0"):
        self.token, self.leads, self.version = token, leads, version
        self.failures = Failures()
        self.path = re.compile(rf"^/services/data/{re.escape(version)}/sobjects/Lead/([^/]+)$")

    def __call__(self, request: Request) -> Reply:
        scripted = self.failures.take()
        if scripted is not None:
            return scripted
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self.error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        match = self.path.match(request.path)
        if match is None:
            return self.error(404, "NOT_FOUND", "The requested resource does not exist")
        if request.method != "PATCH":
            return self.error(
                405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed"
            )
        if not request.headers.get("content-type", "").startswith("application/json"):
            return self.error(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be JSON")
        lead_id = match.group(1)
        if lead_id not in self.leads:
            return self.error(404, "NOT_FOUND", "Provided external ID field does not exist")
        fields = request.json()
        unknown = sorted(set(fields) - self.FIELDS)
        if unknown:
            return self.error(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject")
        self.leads[lead_id].update(fields)
        return Reply(204)

    @staticmethod
    def error(status: int, code: str, message: str) -> Reply:
        return Reply(status, [{"message": message, "errorCode": code}])


class FakeHubspot:
    """The CRM v3 contact update of the HubSpot API: checks method, path, bearer token and the
    `properties` body; applies the update to its contacts."""

    PROPERTIES = frozenset({"hubspot_owner_id", "hs_lead_status"})
    PATH = re.compile(r"^/crm/v3/objects/contacts/(\d+)$")

    def __init__(self, token: str, contacts: dict[str, dict[str, Any]]):
        self.token, self.contacts = token, contacts
        self.failures = Failures()

    def __call__(self, request: Request) -> Reply:
        scripted = self.failures.take()
        if scripted is not None:
            return scripted
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self.error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found")
        match = self.PATH.match(request.path)
        if match is None or request.method != "PATCH":
            return self.error(404, "OBJECT_NOT_FOUND", "resource not found")
        contact = self.contacts.get(match.group(1))
        if contact is None:
            return self.error(404, "OBJECT_NOT_FOUND", "resource not found")
        body = request.json()
        properties = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(properties, dict) or set(body) != {"properties"}:
            return self.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
        unknown = sorted(set(properties) - self.PROPERTIES)
        if unknown:
            message = f'Property "{unknown[0]}" does not exist'
            return self.error(400, "VALIDATION_ERROR", message)
        contact.update(properties)
        return Reply(200, {"id": match.group(1), "properties": contact})

    @staticmethod
    def error(status: int, category: str, message: str) -> Reply:
        return Reply(status, {"status": "error", "message": message, "category": category})


# -- SMTP ----------------------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler: keeps every message; RCPT and DATA answers can be scripted."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.rcpt_reply: str | None = None  # e.g. "550 5.1.1 no such user"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        found = []
        for envelope in self.envelopes:
            content = envelope.original_content or b""  # the bytes as received
            parsed = message_from_bytes(content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found


def password_check(user: str, password: str) -> Callable[..., AuthResult]:
    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == user.encode()
            and data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)  # False: the server answers 535

    return authenticate


@contextmanager
def smtp_receiver(**smtp_options: Any) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1: (its mailbox, its port)."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()
