"""Wires the parts a running ftsim needs from one Settings: store, contract, intake, listeners' status.

Building a Runtime opens the database; importing this module does nothing.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from simulator.contract.catalog import catalog_of, unknown_rules
from simulator.contract.registry import load_registry
from simulator.core.errors import ConfigError
from simulator.intake import Intake
from simulator.settings import Settings
from simulator.store import open_store
from simulator.core.violations import Severities


@dataclass
class ChannelState:
    """What a listener reports about itself for /api/summary."""
    name: str
    connected: bool = False
    consumed: int = 0
    lag: int | None = None
    error: str | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"connected": self.connected, "consumed": self.consumed, "lag": self.lag, "error": self.error,
                **self.extra}


class Runtime:
    def __init__(self, settings: Settings, registry=None, hub=None):
        """registry: the event types to judge; the discovered ones unless a test brings its own.
        hub: in a worker of `ftsim serve --workers N`, the supervisor (simulator/hub.py), whose intake judges
        with the ledger and which holds the pairing, the operator calls and the listeners' states."""
        self.settings = settings
        self.registry = registry if registry is not None else load_registry()
        self.catalog = catalog_of(self.registry)
        unknown = unknown_rules(settings.severity, self.catalog)
        if unknown:
            raise ConfigError(f"severity: no rule {', '.join(unknown)}; `ftsim rules` lists them")
        self.severities = Severities({r.id: r.severity for r in self.catalog.values()}, settings.severity)
        self.store = open_store(settings.db, settings.durability, self.registry.tables())
        self.intake = Intake(self.store, self.registry, profile=settings.profile, severities=self.severities,
                             latency_budget=settings.latency_budget,
                             amount_tolerance=settings.amount_tolerance, engine=settings.engine)
        self.channels: dict[str, ChannelState] = {}
        self.last_message_at: float | None = None  # monotonic time of the last judged batch
        self.intake.subscribe(self._seen)
        self.hub = hub
        self.operator = None  # the calls to the operator's API, when one is configured (issue 10)
        if hub is not None:  # a worker: the supervisor judges with the ledger, feeds the pairing and the calls
            from simulator.hub import RemoteIntake, RemoteOperator, RemotePairing

            self.intake = RemoteIntake(self.intake, hub)
            self.operator = RemoteOperator(hub) if settings.operator_api else None
            self.pipeline = RemotePairing(hub)
            return
        if settings.operator_api:
            from simulator.operator.service import OperatorChecks

            self.operator = OperatorChecks(settings, self.store, self.severities)
            self.intake.subscribe(self.operator.on_verdicts)
        self.pipeline = _pipeline(settings, self.severities)
        self.intake.watch(self.pipeline.watch)

    def _seen(self, verdicts) -> None:
        self.last_message_at = time.monotonic()

    def channel(self, name: str) -> ChannelState:
        return self.channels.setdefault(name, ChannelState(name))

    def channel_states(self) -> dict[str, dict]:
        """The listeners' states, for /api/summary: a worker's are the supervisor's."""
        if self.hub is not None:
            return self.hub.call("runtime", "channel_states")
        return {name: state.as_dict() for name, state in self.channels.items()}

    def close(self) -> None:
        if self.operator is not None:  # its last calls are stored before the store closes
            self.operator.close()
        self.store.close()
        if self.hub is not None:
            self.hub.close()


def _pipeline(settings: Settings, severities: Severities):
    """The upstream pairing (inputs a driver registered, with the FT events they cause), in this process."""
    from simulator.upstream.mapping import load_mapping
    from simulator.upstream.pairing import Pairing

    names = [n.strip() for n in settings.pipeline_mapping.split(",") if n.strip()]
    return Pairing([load_mapping(n) for n in names], severities, grace=settings.pipeline_grace,
                   max_pending=settings.pipeline_max_pending)
