"""Slow clients over real sockets, against a real uvicorn server on 127.0.0.1 configured as
`leadroute serve` runs it: connections that stall in the request head, in the body, or that
never send a byte are closed once their deadline passes (bodies and started heads answered 408
with a JSON `detail`), while the server keeps answering other requests, during and after.

The deadlines here are 2 s; a connection must be closed no earlier than its deadline and at
most 20 s after it (a generous margin for a busy machine: without the deadlines, such
connections stay open for as long as the client wants).
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from leadroute.api.deadline import BodyDeadline, server_config
from leadroute.domain.org import Rep, Territory, build_org
from tests.api.server import free_port
from tests.services.fixtures import activate

DEADLINE = 2.0
MARGIN = 20.0
CONFIG = """
name: deadlines
pools:
  sales: {members: [r1, r2], fairness_window: all}
queues:
  self_serve: {message: "Start now"}
flow:
  - id: sales
    when: {territory: na}
    then: {distribute: sales}
  - id: fallback
    fallback: true
    then: {queue: self_serve}
"""
LEAD = b'{"email": "ada@acme.com", "country": "US", "company": "Acme"}'
HEAD = (
    b"POST /v1/leads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n"
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A SQLite store with an org and an active config (the deadlines do not touch the
    database, so one database is enough)."""
    store = Store(f"sqlite:///{tmp_path / 'deadline.db'}")
    store.migrate()
    reps = [Rep(id=r, name=r, email=f"{r}@vendor.com", teams=("sales",)) for r in ("r1", "r2")]
    activate(
        store,
        build_org(reps=reps, territories=[Territory("na", "NA", frozenset({"US"}))]),
        CONFIG,
    )
    yield store
    store.dispose()


@contextmanager
def running(store: Store, *, keep_alive: int = 5) -> Iterator[int]:
    """The API on a free loopback port, with 2-second head and body deadlines; yield the port."""
    port = free_port()
    app = create_app(store, auth=False, body_timeout=DEADLINE)
    config = server_config(app, port=port, header_timeout=DEADLINE, keep_alive_timeout=keep_alive)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the API server did not start"
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass
class Stalled:
    kind: str
    sock: socket.socket
    received: bytes = b""
    closed_after: float | None = None  # seconds from the start of the test


def open_stalled(port: int, kind: str, data: bytes) -> Stalled:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if data:
        sock.sendall(data)
    sock.setblocking(False)
    return Stalled(kind, sock)


def wait_closed(stalled: list[Stalled], started: float, until: float) -> None:
    """Read every socket until the server closes it, or until `until` (monotonic)."""
    selector = selectors.DefaultSelector()
    for item in stalled:
        selector.register(item.sock, selectors.EVENT_READ, item)
    try:
        while selector.get_map() and time.monotonic() < until:
            for key, _ in selector.select(timeout=0.2):
                item = key.data
                try:
                    chunk = item.sock.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    chunk = b""
                if chunk:
                    item.received += chunk
                    continue
                item.closed_after = time.monotonic() - started
                selector.unregister(item.sock)
    finally:
        selector.close()
        for item in stalled:
            item.sock.close()


def routed(client: httpx.Client) -> None:
    """The server answers normal requests: its health, and a lead routed."""
    assert client.get("/v1/health").status_code == 200
    answer = client.post("/v1/leads", content=LEAD, headers={"content-type": "application/json"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["outcome"] == "routed"


def answer_of(received: bytes) -> tuple[int, dict[str, str]]:
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def test_stalled_connections_are_closed_and_the_server_keeps_answering(store: Store) -> None:
    with (
        running(store) as port,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
    ):
        routed(client)
        started = time.monotonic()
        stalled = [open_stalled(port, "body", HEAD % len(LEAD * 4) + LEAD * 2) for _ in range(100)]
        chunked = b"POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        chunked += b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n" % (len(LEAD), LEAD)
        stalled += [open_stalled(port, "chunked", chunked) for _ in range(10)]
        stalled += [
            open_stalled(port, "head", b"POST /v1/leads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")
            for _ in range(20)
        ]
        stalled += [open_stalled(port, "silent", b"") for _ in range(10)]

        for _ in range(3):  # while 140 connections hang, others are served
            routed(client)
        slow_but_in_time = socket.create_connection(("127.0.0.1", port), timeout=30)
        slow_but_in_time.sendall(HEAD % len(LEAD))
        for byte in range(0, len(LEAD), 20):
            time.sleep(0.1)
            slow_but_in_time.sendall(LEAD[byte : byte + 20])
        reply = slow_but_in_time.recv(65536)
        slow_but_in_time.close()
        assert reply.startswith(b"HTTP/1.1 201"), reply[:200]

        wait_closed(stalled, started, until=started + DEADLINE + MARGIN)
        routed(client)  # and after

    still_open = [s.kind for s in stalled if s.closed_after is None]
    assert not still_open, f"{len(still_open)} connections still open: {set(still_open)}"
    for item in stalled:
        assert item.closed_after is not None
        assert DEADLINE * 0.9 <= item.closed_after <= DEADLINE + MARGIN, (item.kind, item)
        if item.kind in ("body", "chunked"):
            status, body = answer_of(item.received)
            assert status == 408, item.received[:300]
            assert body == {
                "detail": "request timeout: the body did not arrive within 2 s "
                "(send the whole request at once, or faster)"
            }
            assert b"connection: close" in item.received.lower()
        elif item.kind == "head":
            status, body = answer_of(item.received)
            assert status == 408, item.received[:300]
            assert body["detail"] == "request timeout: the request head did not arrive within 2 s"
        else:
            assert item.received == b""  # nothing was asked: closed without an answer
    assert store.lead_counts() == {"routed": 6}  # the stalled requests stored nothing


def test_a_body_nobody_reads_does_not_keep_the_connection_open(store: Store) -> None:
    """The answer comes before the body (the health check reads none): the client trickling
    the rest of it is cut off `keep_alive` seconds after the answer, not kept for ever
    (uvicorn's own keep-alive timer restarts at every byte)."""
    with running(store, keep_alive=1) as port:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        started = time.monotonic()
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        sock.settimeout(0.2)
        received = b""
        closed_after = None
        while time.monotonic() - started < 1 + MARGIN:
            try:
                sock.sendall(b"x")
            except OSError:
                closed_after = time.monotonic() - started
                break
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                closed_after = time.monotonic() - started
                break
            received += chunk
        sock.close()
    assert received.startswith(b"HTTP/1.1 200"), received[:200]
    assert closed_after is not None, "the connection was still open"
    assert 0.9 <= closed_after <= 1 + MARGIN, closed_after


def test_a_positive_deadline_is_required() -> None:
    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("not called")

    with pytest.raises(ValueError):
        BodyDeadline(app, seconds=0)
    with pytest.raises(ValueError):
        server_config(app, header_timeout=-1, keep_alive_timeout=5)
    with pytest.raises(ValueError):
        server_config(app, header_timeout=1, keep_alive_timeout=0)


def test_leadroute_serve_takes_the_deadlines_from_settings_and_options(tmp_path: Path) -> None:
    """`leadroute serve` as a process: the head deadline from LEADROUTE_HEADER_TIMEOUT, the
    body deadline from --body-timeout (over LEADROUTE_BODY_TIMEOUT)."""
    port = free_port()
    env = {
        **os.environ,
        "LEADROUTE_DB": f"sqlite:///{tmp_path / 'serve.db'}",
        "LEADROUTE_HEADER_TIMEOUT": "1.5",
        "LEADROUTE_BODY_TIMEOUT": "600",
    }
    command = [sys.executable, "-m", "leadroute", "serve", "--port", str(port)]
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [*command, "--body-timeout", "1.5"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    assert client.get("/v1/health").status_code == 200
                    break
                except httpx.TransportError:
                    assert server.poll() is None, (tmp_path / "serve.log").read_text()
                    assert time.monotonic() < deadline, "leadroute serve did not start"
                    time.sleep(0.1)
            started = time.monotonic()
            stalled = [open_stalled(port, "body", HEAD % 100 + b"{") for _ in range(5)]
            stalled += [open_stalled(port, "head", b"GET /v1/health HTTP/1.1\r\n")]
            wait_closed(stalled, started, until=started + 1.5 + MARGIN)
            assert client.get("/v1/health").status_code == 200
        for item in stalled:
            assert item.closed_after is not None, item.kind
            assert 1.35 <= item.closed_after <= 1.5 + MARGIN, (item.kind, item.closed_after)
            assert answer_of(item.received)[0] == 408
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
            log.close()
