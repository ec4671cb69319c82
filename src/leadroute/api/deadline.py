"""How long a client may take to send a request: deadlines for the head and for the body.

uvicorn (0.55, HTTP/1.1 through h11) bounds only the wait between requests on a kept-alive
connection (`timeout_keep_alive`, armed once a response is complete). Nothing bounds a
connection that was opened and sends nothing, a request head that stops half-way, or a body that
trickles in: such connections stay open as long as the client wants (100 stalled connections
were all still open after 70 s). Three limits close them:

- `BodyDeadline` (ASGI middleware): the whole body of a request must arrive within `seconds` of
  the request reaching the application; otherwise the answer is 408 with a JSON `detail`
  and `Connection: close`, so the server closes the connection. The application's own read
  sees the client as gone (`http.disconnect`) and whatever it answers then is dropped.
- `head_deadline_protocol(seconds)` (a uvicorn HTTP protocol class, h11 with deadlines): a
  request head (request line and headers) must arrive complete within `seconds` of the
  connection opening, or of its first byte on a kept-alive connection; otherwise the
  connection is closed (after a 408 when part of a head came). The head's size is bounded
  by h11 already (16 KiB). The same class closes a connection whose response is complete
  while the client still trickles the rest of a body the application did not read (a 404,
  for instance) once `timeout_keep_alive` seconds have passed since the response.
- `timeout_keep_alive`: uvicorn's own wait for the next request on an idle connection.

`server_config(app, ...)` is the uvicorn configuration `leadroute serve` runs with. The
deadlines are what a slow client may take, not what the application may take to answer: a
request whose body has arrived is answered however long routing takes.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import h11
import orjson
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from leadroute.settings import Settings

# -- the body ------------------------------------------------------------------------------------


def _too_slow(seconds: float) -> str:
    return (
        f"request timeout: the body did not arrive within {seconds:g} s "
        "(send the whole request at once, or faster)"
    )


class BodyDeadline:
    """ASGI middleware: 408 (and the connection closed) for a request whose body has not
    arrived whole within `seconds` of the request reaching the application.

    `seconds` is LEADROUTE_BODY_TIMEOUT as the composition root reads it. Requests without a
    body (no `Content-Length`, or 0, and no `Transfer-Encoding`) pass as they are. An answer the
    application started before the deadline is left to finish, the application then seeing
    the client as gone."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError("the body deadline must be a positive number of seconds")
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        complete = False  # the whole body (or the client's disconnect) was received
        expired = False  # the deadline passed with the body incomplete
        started = False  # the application began its answer
        answered = False  # the 408 was sent

        async def timed_receive() -> Message:
            nonlocal complete, expired, answered
            if expired:
                return {"type": "http.disconnect"}
            if complete:
                return await receive()
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), remaining)
            except TimeoutError:
                expired = True
                if not started:
                    answered = True
                    await self._reject(send)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 408 is the answer; the application's own is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except Exception:
            if not answered:
                raise  # an error of the application, not of the deadline

    async def _reject(self, send: Send) -> None:
        body = orjson.dumps({"detail": _too_slow(self.seconds)})
        await send(
            {
                "type": "http.response.start",
                "status": 408,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        key = name.lower()
        if key == b"transfer-encoding":
            return True
        if key == b"content-length":
            return value.strip() not in (b"0", b"")
    return False


# -- the head (uvicorn's HTTP/1.1 protocol) -------------------------------------------------------

_HEAD_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)


class HeadDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for each request head (`head_timeout` seconds
    from the connection's opening or the head's first byte) and for the rest of a body the
    client still sends after its answer is complete (`timeout_keep_alive` seconds)."""

    head_timeout: ClassVar[float] = Settings.model_fields["header_timeout"].default

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            self._disarm()
        elif self.conn.our_state is h11.DONE and self.conn.their_state is h11.SEND_BODY:
            # answered, but the client is still sending a body nobody reads: it does not keep
            # the connection open (uvicorn's keep-alive timer restarts at every byte)
            self._disarm()
            self._arm(float(self.timeout_keep_alive))
        else:
            self._watch()

    def _watch(self) -> None:
        """Arm the head deadline when a head has begun, disarm it once the head is whole."""
        if self.transport.is_closing():
            self._disarm()
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            if self._client_timer is None and self.conn.trailing_data[0]:
                self._arm(self.head_timeout)
        elif not (state is h11.SEND_BODY and self.conn.our_state is h11.DONE):
            self._disarm()

    def _arm(self, seconds: float) -> None:
        if self._client_timer is None:
            self._client_timer = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._client_timer is not None:
            self._client_timer.cancel()
            self._client_timer = None

    def _expired(self) -> None:
        self._client_timer = None
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
            detail = "request timeout: the request head did not arrive within"
            body = orjson.dumps({"detail": f"{detail} {self.head_timeout:g} s"})
            self.transport.write(_HEAD_TIMEOUT_ANSWER % (len(body), body))
        self.transport.close()


def head_deadline_protocol(seconds: float) -> type[HeadDeadlineProtocol]:
    """uvicorn's `http` protocol class with a `seconds` deadline for each request head."""
    if not seconds > 0:
        raise ValueError("the header deadline must be a positive number of seconds")
    return type(  # a class per value: uvicorn builds the protocol from the class alone
        "HeadDeadlineProtocol", (HeadDeadlineProtocol,), {"head_timeout": float(seconds)}
    )


def server_config(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    header_timeout: float,
    keep_alive_timeout: int,
    log_level: str = "warning",
) -> uvicorn.Config:
    """The uvicorn configuration `leadroute serve` runs `app` with: HTTP/1.1 through h11 with
    the head deadline (`header_timeout`, LEADROUTE_HEADER_TIMEOUT as the composition root reads
    it) and uvicorn's keep-alive timeout (LEADROUTE_KEEP_ALIVE_TIMEOUT). The body deadline is
    `BodyDeadline`, in the app."""
    if keep_alive_timeout < 1:
        raise ValueError("the keep-alive timeout must be at least 1 s")
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        http=head_deadline_protocol(header_timeout),
        timeout_keep_alive=keep_alive_timeout,
    )
