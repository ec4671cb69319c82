"""The public surface of `leadroute` is deliberate: this test pins it."""

from __future__ import annotations

import leadroute

EXPECTED = [
    "Account",
    "Decision",
    "Lead",
    "Org",
    "Outcome",
    "Rep",
    "Router",
    "RoutingConfig",
    "RoutingService",
    "Segment",
    "Store",
    "Team",
    "Territory",
    "__version__",
    "build_org",
    "compile_config",
    "load_config_file",
    "load_config_text",
    "load_org",
]


def test_public_surface_is_pinned() -> None:
    assert sorted(leadroute.__all__) == sorted(EXPECTED)


def test_every_public_name_resolves() -> None:
    for name in leadroute.__all__:
        assert getattr(leadroute, name) is not None


def test_unknown_attribute_raises() -> None:
    try:
        leadroute.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
