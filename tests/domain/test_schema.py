"""The JSON Schema accepts every shipped template and the README example, and rejects junk."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from leadroute.domain.schema import config_schema
from leadroute.templates import template_names, template_path

ROOT = Path(__file__).parents[2]
VALIDATOR = jsonschema.Draft202012Validator(config_schema())


def test_schema_itself_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(config_schema())


@pytest.mark.parametrize("name", template_names())
def test_every_template_validates(name: str) -> None:
    document = yaml.safe_load(template_path(name).read_text(encoding="utf-8"))
    errors = [e.message for e in VALIDATOR.iter_errors(document)]
    assert errors == []


def test_readme_example_validates() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(name: territory x segment.*?)```", readme, re.S)
    assert block is not None
    assert list(VALIDATOR.iter_errors(yaml.safe_load(block.group(1)))) == []


@pytest.mark.parametrize(
    "document",
    [
        {"flow": [{"id": "x", "then": {"distribute": "a", "queue": "b"}}]},
        {"flow": [{"id": "x", "then": {"teleport": "a"}}]},
        {"flow": [{"id": "x", "when": {"employees": {"gte": "many"}}, "then": {"queue": "q"}}]},
        {"flow": [{"id": "x", "when": {"country": {"near": "US"}}, "then": {"queue": "q"}}]},
        {"flow": []},
    ],
)
def test_invalid_documents_are_rejected(document: dict[str, object]) -> None:
    assert list(VALIDATOR.iter_errors(document))
