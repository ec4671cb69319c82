"""`leadroute erase` on a temporary SQLite store: preview, confirm, erase."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.sql import Store
from leadroute.cli.privacy import erase
from leadroute.domain.privacy import ERASED
from leadroute.services.routing import RoutingService
from tests.services import fixtures

runner = CliRunner()
cli = typer.Typer()
cli.command()(erase)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    store = Store(url)
    store.migrate()
    org = fixtures.org()
    config, seq = fixtures.activate(store, org)
    routing = RoutingService(store)
    routing.use(config, seq, org)
    rows = [ParsedRow(i + 1, lead) for i, lead in enumerate(fixtures.leads(3))]
    routing.route_batch(rows, batch_id="b1")
    store.dispose()
    return url


def _email(db: str, lead_id: str) -> str:
    store = Store(db)
    stored = store.lead(lead_id)
    store.dispose()
    assert stored is not None
    return str(stored.lead.fields["email"])


def test_erase_previews_and_stops_unless_confirmed(db: str) -> None:
    answer = runner.invoke(cli, ["--email", "P1@co1.com", "--db", db], input="n\n")
    assert answer.exit_code == 1
    assert "L00001" in answer.stdout and "would rewrite: 1 leads" in answer.stdout
    assert _email(db, "L00001") == "p1@co1.com"
    confirmed = runner.invoke(cli, ["--email", "p1@co1.com", "--db", db], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert "rewrote: 1 leads" in confirmed.stdout  # its decision quoted nothing personal
    assert _email(db, "L00001") == ERASED and _email(db, "L00002") == "p2@co2.com"


def test_erase_with_yes_by_lead_and_mistakes(db: str) -> None:
    done = runner.invoke(cli, ["--lead", "L00002", "--yes", "--db", db])
    assert done.exit_code == 0 and "erased at" in done.stdout
    assert _email(db, "L00002") == ERASED
    nobody = runner.invoke(cli, ["--email", "nobody@x.com", "--db", db])
    assert nobody.exit_code == 0 and "nothing stored" in nobody.stdout
    both = runner.invoke(cli, ["--email", "a@b.com", "--lead", "L1", "--db", db])
    assert both.exit_code == 1 and "exactly one" in both.stderr
    bad = runner.invoke(cli, ["--email", "bea", "--yes", "--db", db])
    assert bad.exit_code == 1 and "not an email" in bad.stderr
