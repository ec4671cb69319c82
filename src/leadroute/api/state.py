"""What the API keeps between requests: one routing service per process, rebuilt when the
active config or the org changes (by this process at once, by another within `refresh` s).

`limits` gives the caps on one lead when the intake is (re)built: the composition root passes
the settings' (`Root.api_state`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from leadroute.adapters.store.sql import Store
from leadroute.domain.lead import LEAD_LIMITS, LeadLimits
from leadroute.services.activities import ActivityService
from leadroute.services.intake import LeadIntake
from leadroute.services.routing import RoutingService


@dataclass
class ApiState:
    store: Store
    limits: Callable[[], LeadLimits] = lambda: LEAD_LIMITS
    refresh: float = 2.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _intake: LeadIntake | None = None
    _version: tuple[object, ...] | None = None
    _checked: float = 0.0
    _guard: threading.Lock = field(default_factory=threading.Lock)

    @property
    def intake(self) -> LeadIntake:
        with self._guard:
            now = time.monotonic()
            if self._intake is None or now - self._checked >= self.refresh:
                version = self.store.routing_version()
                if self._intake is None or version != self._version:
                    if self._intake is not None:
                        self._intake.close()
                    routing = RoutingService(self.store)
                    self._intake = LeadIntake(routing, lock=self.lock, limits=self.limits())
                    self._version = version
                self._checked = now
            return self._intake

    @property
    def routing(self) -> RoutingService:
        return self.intake.routing

    def activities(self) -> ActivityService:
        return ActivityService(self.routing)

    def reset(self) -> None:
        """The config or org changed in this process: rebuild on the next request."""
        with self._guard:
            if self._intake is not None:
                self._intake.close()
            self._intake = None
