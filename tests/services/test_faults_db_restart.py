"""PostgreSQL restarted under load: the API answers 503 with Retry-After (never a 500 or a
hang) while it is down and recovers on its own; the worker backs off and carries on. Nothing is
lost and nothing is done twice.

These tests start a PostgreSQL of their own (initdb into a temporary directory, a free port on
127.0.0.1), so the shared server is never restarted. They skip, with the reason, where initdb
and pg_ctl cannot be found or run.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.sql import Store
from leadroute.services.intake import lead_id_for
from leadroute.services.routing import RoutingService
from tests.receivers import Reply, free_port, http_receiver
from tests.services.fixtures import CONFIG, activate, leads, org

pytestmark = pytest.mark.postgres

DOWN_SECONDS = 2.0  # how long the server stays stopped


def _bindir() -> Path | None:
    """The directory with initdb, pg_ctl and postgres: pg_config's, else a Debian one."""
    candidates: list[Path] = []
    try:
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, timeout=10, check=True
        )
        candidates.append(Path(found.stdout.strip()))
    except (OSError, subprocess.SubprocessError):
        pass
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        candidates.append(Path(pg_ctl).resolve().parent)
    for directory in candidates:
        if all((directory / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def _run_as() -> tuple[list[str], int | None]:
    """How to run PostgreSQL's programs: as ourselves, or (as root, which PostgreSQL refuses)
    as the `postgres` user through runuser. Skips if neither works."""
    if os.geteuid() != 0:
        return [], None
    runuser = shutil.which("runuser")
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL as")
    if runuser is None:
        pytest.skip("running as root and runuser is missing: cannot run PostgreSQL as postgres")
    return [runuser, "-u", "postgres", "--"], user.pw_uid


@dataclass
class PrivatePostgres:
    bindir: Path
    root: Path
    port: int
    prefix: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        done = subprocess.run(
            [*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
             str(self.root / "server.log"), "-w", "-t", "60", "-o", options, *args],
            capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        assert done.returncode == 0, f"pg_ctl {' '.join(args)}: {done.stdout}{done.stderr}"

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)

    def restart(self) -> None:
        """Stop (fast: sessions are cut, open transactions roll back), stay down, start."""
        self.pg_ctl("-m", "fast", "stop")
        time.sleep(DOWN_SECONDS)
        self.pg_ctl("start")


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    bindir = _bindir()
    if bindir is None:
        pytest.skip("initdb/pg_ctl not found (pg_config --bindir, /usr/lib/postgresql/*/bin)")
    prefix, uid = _run_as()
    root = Path(tempfile.mkdtemp(prefix="leadroute-pg-"))
    if uid is not None:
        os.chown(root, uid, -1)
    server = PrivatePostgres(bindir, root, free_port(), prefix)
    init = subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(server.data), "-A", "trust", "-U",
         "postgres", "-E", "UTF8", "--no-sync"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"initdb cannot run here: {(init.stderr or init.stdout).strip()[-300:]}")
    try:
        server.pg_ctl("start")
        yield server
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def _leadroute(url: str, log: Path, *args: str, **env: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "leadroute", *args],
            env={**os.environ, "LEADROUTE_DB": url, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop(process: subprocess.Popen[bytes]) -> bool:
    """SIGTERM; True if the process ended cleanly (uvicorn ends by re-raising the signal)."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30) in (0, -signal.SIGTERM)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
        raise AssertionError("the process did not stop on SIGTERM") from None


# -- the API ---------------------------------------------------------------------------------------

LEADS = 240
SENDERS = 4


@dataclass
class Sent:
    """What the client saw, per idempotency key: every answer in order, and when the last came."""

    answers: dict[str, list[int]] = field(default_factory=dict)
    finished_at: dict[str, float] = field(default_factory=dict)
    unavailable: list[httpx.Response] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _send(client: httpx.Client, index: int, sent: Sent) -> None:
    """POST one lead, retrying with the same Idempotency-Key while the answer says so."""
    key = f"restart-{index}"
    lead = {"email": f"p{index}@co{index}.com", "company": f"Co {index}", "country": "US"}
    deadline = time.monotonic() + 120
    codes: list[int] = []
    while time.monotonic() < deadline:
        try:
            response = client.post("/v1/leads", json=lead, headers={"Idempotency-Key": key})
        except httpx.HTTPError as exc:  # a hang (timeout) or a dropped connection
            with sent.lock:
                sent.problems.append(f"{key}: {type(exc).__name__}: {exc}")
            return
        codes.append(response.status_code)
        if response.status_code != 503:
            break
        with sent.lock:
            sent.unavailable.append(response)
        time.sleep(min(float(response.headers.get("Retry-After", "1")), 1.0) / 2)
    with sent.lock:
        sent.answers[key] = codes
        sent.finished_at[key] = time.monotonic()


def _sender(port: int, api_key: str, indexes: range, sent: Sent) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
        for index in indexes:
            _send(client, index, sent)
            time.sleep(0.02)  # a steady stream, not a burst


def _wait_until_up(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the API did not start")


def test_api_answers_503_while_postgres_restarts_and_loses_no_lead(
    private_pg: PrivatePostgres, tmp_path: Path
) -> None:
    url = private_pg.create_database()
    store = Store(url)
    store.migrate()
    activate(store, org())
    api_key, _ = KeyStore(store).create("faults", ["ingest", "read"])
    port = free_port()
    log = tmp_path / "serve.log"
    server = _leadroute(url, log, "serve", "--port", str(port))
    try:
        _wait_until_up(port, server, log)
        sent = Sent()
        senders = [
            threading.Thread(target=_sender, args=(port, api_key, range(n, LEADS, SENDERS), sent))
            for n in range(SENDERS)
        ]
        for thread in senders:
            thread.start()
        while len(sent.answers) < LEADS // 3 and any(t.is_alive() for t in senders):
            time.sleep(0.01)
        store.dispose()  # this process's own connections do not outlive the server
        private_pg.restart()
        back_at = time.monotonic()
        for thread in senders:
            thread.join(timeout=300)
        assert not any(t.is_alive() for t in senders), "a client is still waiting: a hang"
        assert server.poll() is None, "the API process died"
        health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=10)
        assert health.status_code == 200
    finally:
        stopped = _stop(server)
    output = log.read_text(encoding="utf-8", errors="replace")
    assert stopped, output

    assert sent.problems == []  # no timeout, no dropped connection
    every = Counter(code for codes in sent.answers.values() for code in codes)
    assert set(every) <= {200, 201, 503}, every  # never a 500, a 409 or anything else
    assert every[503] > 0, "no request met the restart: it proved nothing"
    for response in sent.unavailable:
        assert response.headers.get("Retry-After", "").isdigit()
        body = response.json()
        assert body["retryable"] is True and "database is unavailable" in body["detail"]
    assert len(sent.answers) == LEADS
    assert all(codes[-1] in (200, 201) for codes in sent.answers.values())
    after = [k for k, at in sent.finished_at.items() if at > back_at]
    assert len(after) >= LEADS // 3, "too few leads answered after the restart"
    assert "Traceback" not in output, output[-3000:]

    expected = {lead_id_for(f"restart-{i}") for i in range(LEADS)}
    with store.engine.connect() as conn:
        stored = [r for (r,) in conn.execute(text("select id from leads"))]
        decisions = conn.execute(
            text("select lead_id, count(*), sum(case when is_current then 1 else 0 end) "
                 "from decisions group by lead_id")
        ).all()  # fmt: skip
        keys = dict(conn.execute(text("select key, status_code from idempotency")).all())
        open_load = conn.execute(
            text("select coalesce(sum(count), 0) from rep_counters where period = 'open'")
        ).scalar_one()
    store.dispose()
    assert len(stored) == len(set(stored)) == LEADS and set(stored) == expected
    assert {lead: (int(n), int(c)) for lead, n, c in decisions} == dict.fromkeys(expected, (1, 1))
    assert set(keys) == {f"restart-{i}" for i in range(LEADS)}
    assert set(keys.values()) <= {200, 201}  # every answer kept, no key left "in progress"
    assert open_load == LEADS  # every lead counted once in its rep's load


# -- the worker ------------------------------------------------------------------------------------

WEBHOOK_CONFIG = (
    CONFIG
    + """
notifications:
  channels:
    ops_hook: {webhook: {url: "URL", secret_env: FAULTS_HOOK_SECRET}}
  send:
    assigned: [ops_hook]
  retry: {max_attempts: 5, base_seconds: 1, max_seconds: 5}
"""
)


def _outbox(store: Store) -> Counter[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("select status, count(*) from outbox group by status")).all()
    return Counter({status: int(n) for status, n in rows})


def _wait_for_sent(store: Store, count: int, worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while _outbox(store)["sent"] < count and time.monotonic() < deadline:
        assert worker.poll() is None, log.read_text(encoding="utf-8")
        time.sleep(0.1)


def test_worker_survives_postgres_restarts_and_delivers_everything_once(
    private_pg: PrivatePostgres, tmp_path: Path
) -> None:
    url = private_pg.create_database()
    store = Store(url)
    store.migrate()
    with http_receiver(lambda _: Reply(204, delay=0.03)) as hook:
        activate(store, org(), WEBHOOK_CONFIG.replace("URL", hook.url("/leadroute")))
        routing = RoutingService(store)
        first, second = leads(120), leads(60, start=120)
        routing.route_batch([ParsedRow(i, x, None, {}) for i, x in enumerate(first)], batch_id="a")
        assert _outbox(store) == {"pending": 120}
        log = tmp_path / "worker.log"
        worker = _leadroute(url, log, "worker", "--interval", "0.2", FAULTS_HOOK_SECRET="s3cret")
        try:
            deadline = time.monotonic() + 60
            while len(hook.requests) < 20 and time.monotonic() < deadline:
                assert worker.poll() is None, log.read_text(encoding="utf-8")
                time.sleep(0.01)
            assert 0 < len(hook.requests) < 120, "the restart must come mid-delivery"
            store.dispose()
            private_pg.restart()  # while the worker sends
            _wait_for_sent(store, 120, worker, log)
            store.dispose()
            private_pg.restart()  # while the worker waits for work
            routing.route_batch(
                [ParsedRow(i, x, None, {}) for i, x in enumerate(second)], batch_id="b"
            )  # queued after the restart: only a worker that survived delivers them
            _wait_for_sent(store, 180, worker, log)
            assert worker.poll() is None, "the worker died"
        finally:
            stopped = _stop(worker)
        output = log.read_text(encoding="utf-8", errors="replace")
        assert stopped, output
        statuses = _outbox(store)
    store.dispose()
    assert statuses == {"sent": 180}, output[-3000:]  # none pending, sending or dead
    deliveries = Counter(r.headers["x-leadroute-delivery"] for r in hook.requests)
    assert len(deliveries) == 180 and set(deliveries.values()) == {1}  # each sent once
    assert "trying again in" in output and "the database is back; working again" in output
    assert "Traceback" not in output, output[-3000:]
