"""Every form control on every console page has a label (a <label for> or an aria-label), and
every button has a name: the forms work with a keyboard and a screen reader."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import pytest

from leadroute.adapters.store.sql import Store
from tests.console.helpers import Console, console, login

PAGES = (
    "/console/login",
    "/console/",
    "/console/leads",
    "/console/leads/L1",
    "/console/reps",
    "/console/routing",
    "/console/routing/2/activate",
    "/console/backtest",
    "/console/analytics",
    "/console/account",
    "/console/users",
    "/console/audit",
)


class Controls(HTMLParser):
    """The form controls, labels and buttons of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.labelled: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.buttons: list[dict[str, str | None]] = []
        self._button: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))
        elif tag in ("select", "textarea") or (
            tag == "input" and found.get("type") not in ("hidden", "submit")
        ):
            self.controls.append(found | {"tag": tag})
        elif tag == "button":
            self._button, self._text = found, []

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            self.buttons.append(self._button | {"text": "".join(self._text).strip()})
            self._button = None


@pytest.fixture
def site(store: Store) -> Iterator[Console]:
    with console(store) as running:
        yield running


def test_every_control_has_a_label(site: Console, store: Store) -> None:
    draft = store.config(1)
    assert draft is not None
    store.save_config(
        content_hash="draft", name="draft", document={}, source=draft.source.replace("1h", "2h")
    )
    with login(site.base_url, "admin") as admin:
        checked = 0
        for path in PAGES:
            page = admin.get(path)
            assert page.status_code == 200, path
            parsed = Controls()
            parsed.feed(page.text)
            for control in parsed.controls:
                named = control.get("aria-label") or control.get("id") in parsed.labelled
                assert named, f"{path}: {control} has no label"
            for button in parsed.buttons:
                assert button["text"] or button.get("aria-label"), f"{path}: unnamed {button}"
            checked += len(parsed.controls)
        assert checked >= 10  # the pages' filters and forms were found and checked
