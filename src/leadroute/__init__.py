"""leadroute: lead routing with rules as code, fair distribution and a decision record per lead.

The public surface is what `__all__` lists; everything else is internal and may change.
Names are imported lazily, so `import leadroute` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Account": "leadroute.domain.org",
    "Decision": "leadroute.domain.decision",
    "Lead": "leadroute.domain.lead",
    "Org": "leadroute.domain.org",
    "Outcome": "leadroute.domain.decision",
    "Rep": "leadroute.domain.org",
    "Router": "leadroute.domain.engine",
    "RoutingConfig": "leadroute.domain.config",
    "RoutingService": "leadroute.services.routing",
    "Segment": "leadroute.domain.org",
    "Store": "leadroute.adapters.store.sql",
    "Team": "leadroute.domain.org",
    "Territory": "leadroute.domain.org",
    "build_org": "leadroute.domain.org",
    "compile_config": "leadroute.domain.config",
    "load_config_file": "leadroute.services.configs",
    "load_config_text": "leadroute.services.configs",
    "load_org": "leadroute.adapters.orgfile",
}

__all__ = [
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

if TYPE_CHECKING:
    from leadroute.adapters.orgfile import load_org
    from leadroute.adapters.store.sql import Store
    from leadroute.domain.config import RoutingConfig, compile_config
    from leadroute.domain.decision import Decision, Outcome
    from leadroute.domain.engine import Router
    from leadroute.domain.lead import Lead
    from leadroute.domain.org import Account, Org, Rep, Segment, Team, Territory, build_org
    from leadroute.services.configs import load_config_file, load_config_text
    from leadroute.services.routing import RoutingService


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'leadroute' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
