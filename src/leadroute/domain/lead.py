"""A lead as routing sees it: an id, typed fields, where it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    WEB_FORM = "web_form"
    LIST_IMPORT = "list_import"
    OUTBOUND = "outbound"
    MANUAL = "manual"
    API = "api"


@dataclass(frozen=True, slots=True)
class Lead:
    id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None
    channel: str | None = None
    received_at: datetime | None = None

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    @property
    def email_domain(self) -> str | None:
        email = self.fields.get("email")
        if isinstance(email, str) and "@" in email:
            return email.rsplit("@", 1)[1].strip().lower() or None
        return None
