"""Every setting in one place: defaults, then a TOML file, then FTSIM_* environment variables, then flags.

One `Settings` object is built at start and carried everywhere; nothing else reads the environment.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from simulator.core.errors import ConfigError
from simulator.core.violations import LEVELS


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    db: str = "ftsim.db"
    profile: str = "strict"
    engine: str = "rust"
    api_key: str | None = None
    basic_auth: str | None = None  # "user:password"
    insecure: bool = False
    accept_invalid: bool = False
    max_body: int = 1024 * 1024
    latency_budget: float = 1.0
    amount_tolerance: Decimal = Decimal("0.01")
    session_idle: float = 1800.0
    severity: Mapping[str, str] = field(default_factory=dict)
    threads: int = 64
    rabbit: str | None = None  # amqp://guest:guest@127.0.0.1:5672/%2F
    rabbit_queue: str = "ftsim.casino"
    rabbit_prefetch: int = 1000
    kafka: str | None = None  # bootstrap servers, host:port[,host:port]
    kafka_topic: str = "ftsim.casino"
    kafka_group: str = "ftsim"
    kafka_client: str = "kafka-python"
    batch_max: int = 500
    durability: str = "full"  # "normal": faster commits that a power loss may undo (load tests)
    pipeline_mapping: str = "phoenix,evenbet"  # upstream mappings: shipped names or TOML files, comma-separated
    pipeline_grace: float | None = None  # seconds an input waits for its FT events; None: each mapping's own
    pipeline_max_pending: int = 100_000  # inputs waiting at most; the oldest is closed beyond it

    @property
    def has_auth(self) -> bool:
        return bool(self.api_key or self.basic_auth)


_NAMES = {f.name: f for f in fields(Settings)}


def parse_severity(items) -> dict[str, str]:
    """`RULE=level` pairs, from a list of flags or a comma-separated environment variable."""
    if isinstance(items, str):
        items = [i for i in items.split(",") if i.strip()]
    out = {}
    for item in items:
        rule, sep, level = item.partition("=")
        rule, level = rule.strip(), level.strip()
        if not sep or not rule or level not in LEVELS:
            raise ConfigError(f"severity: expected RULE=LEVEL with LEVEL one of {', '.join(LEVELS)}, got {item!r}")
        out[rule] = level
    return out


def _coerce(name: str, value: Any) -> Any:
    kind = str(_NAMES[name].type)
    try:
        if name == "severity":
            return parse_severity(value) if not isinstance(value, Mapping) else parse_severity(
                [f"{k}={v}" for k, v in value.items()])
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(value)
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float | None"):
            return None if value in (None, "") else float(value)
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("Decimal"):
            return Decimal(str(value))
        return None if value is None else str(value)
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise ConfigError(f"{name}: cannot use {value!r} ({exc})") from None


def _check(s: Settings) -> Settings:
    if s.profile not in ("strict", "lenient", "ft"):
        raise ConfigError(f"profile: expected strict or lenient (or ft: FT's own validator), got {s.profile!r}")
    if s.engine not in ("rust", "python"):
        raise ConfigError(f"engine: expected rust or python, got {s.engine!r}")
    if s.basic_auth is not None and ":" not in s.basic_auth:
        raise ConfigError("basic_auth: expected USER:PASSWORD")
    if s.durability not in ("full", "normal"):
        raise ConfigError(f"durability: expected full or normal, got {s.durability!r}")
    if s.batch_max < 1:
        raise ConfigError(f"batch_max: expected at least 1, got {s.batch_max}")
    if s.rabbit_prefetch < 0:
        raise ConfigError(f"rabbit_prefetch: expected 0 or more, got {s.rabbit_prefetch}")
    if s.latency_budget <= 0:
        raise ConfigError(f"latency_budget: expected seconds > 0, got {s.latency_budget}")
    return s


def load_settings(config: str | None = None, env: Mapping[str, str] | None = None,
                  **flags: Any) -> Settings:
    """Build Settings from the layers; flags whose value is None are treated as not given."""
    values: dict[str, Any] = {}
    if config:
        try:
            with open(config, "rb") as fh:
                doc = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"config {config}: {exc}") from None
        doc = doc.get("ftsim", doc)
        for key, value in doc.items():
            key = key.replace("-", "_")
            if key not in _NAMES:
                raise ConfigError(f"config {config}: unknown setting {key!r}")
            values[key] = _coerce(key, value)
    env = os.environ if env is None else env
    for name in _NAMES:
        raw = env.get("FTSIM_" + name.upper())
        if raw is not None:
            value = _coerce(name, raw)
            values[name] = {**values.get(name, {}), **value} if name == "severity" else value
    severity = dict(values.get("severity", {}))
    for name, value in flags.items():
        if value is None:
            continue
        if name == "severity":
            severity.update(_coerce("severity", value))
        else:
            values[name] = _coerce(name, value)
    values["severity"] = severity
    return _check(replace(Settings(), **values))
