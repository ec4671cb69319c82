"""The worker while its database is unavailable: each pass that meets the outage is given up and
logged, the pause doubles up to a bound, and once the database is back the worker carries on
with what is due. Any other error still ends the worker."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.sql import Store
from leadroute.services.routing import RoutingService
from leadroute.services.worker import Worker
from tests.receivers import free_port
from tests.services.fixtures import activate, leads
from tests.services.test_worker import CONFIG, _org


class Stop(threading.Event):
    """A stop event that records every pause the worker asks for instead of sleeping; runs
    `on_pause` at each, and stops the worker after `pauses` of them."""

    def __init__(self, pauses: int, on_pause: object = None) -> None:
        super().__init__()
        self.waits: list[float | None] = []
        self.pauses = pauses
        self.on_pause = on_pause

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        if callable(self.on_pause):
            self.on_pause(len(self.waits))
        if len(self.waits) >= self.pauses:
            self.set()
        return self.is_set()


def test_the_pause_doubles_up_to_the_bound_while_the_database_refuses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone?connect_timeout=3")
    stop = Stop(pauses=6)
    with caplog.at_level(logging.WARNING, logger="leadroute.worker"):
        report = Worker(store).run(stop, interval=0.5, max_backoff=3.0)
    store.dispose()
    assert stop.waits == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert report.unavailable == 6 and report.fired == 0
    assert len(caplog.records) == 6
    assert all("the database is unavailable" in r.getMessage() for r in caplog.records)


def test_once_the_database_is_back_the_worker_fires_what_is_due(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "not-yet"  # SQLite cannot open a file in a folder that is not there
    url = f"sqlite:///{folder / 'leadroute.db'}"

    def bring_back(pause: int) -> None:
        if pause == 2:  # the database appears, with leads routed a day ago: timers are due
            folder.mkdir()
            store = Store(url)
            store.migrate()
            activate(store, _org(), CONFIG)  # type: ignore[arg-type]
            yesterday = datetime.now(UTC) - timedelta(days=1)
            rows = [ParsedRow(i, lead, None, {}) for i, lead in enumerate(leads(5), 1)]
            RoutingService(store, clock=lambda: yesterday).route_batch(rows, batch_id="b1")
            store.dispose()

    store = Store(url)
    stop = Stop(pauses=3, on_pause=bring_back)
    with caplog.at_level(logging.WARNING, logger="leadroute.worker"):
        report = Worker(store).run(stop, interval=0.25)
    store.dispose()
    assert stop.waits == [0.25, 0.5, 0.25]  # two outage pauses, then an idle one
    assert report.unavailable == 2
    assert (report.reminded, report.breached, report.reassigned) == (5, 5, 5)
    assert [r.getMessage() for r in caplog.records][-1] == "the database is back; working again"


def test_an_error_that_is_not_an_outage_ends_the_worker(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")  # never migrated: no tables
    with pytest.raises(Exception, match="no such table"):
        Worker(store).run(Stop(pauses=5), interval=0.1)
    store.dispose()
