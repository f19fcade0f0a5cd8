"""Every setting in one place: defaults, then a TOML file, then FTSIM_* environment variables, then flags.

One `Settings` object is built at start and carried everywhere; nothing else reads the environment.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from simulator.contract.plugin import PROFILES
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
    # the most Python threads an HTTP process runs requests on; granian starts them as requests wait and lets
    # idle ones go, so the number only matters when bodies stall: each holds its thread until its sender goes
    threads: int = 1024
    workers: int = 0  # processes taking HTTP (`ftsim serve --workers N`); 0: one per CPU this process may use
    rabbit: str | None = None  # amqp://guest:guest@127.0.0.1:5672/%2F
    rabbit_queue: str = "ftsim.casino"
    rabbit_prefetch: int = 1000
    kafka: str | None = None  # bootstrap servers, host:port[,host:port]
    kafka_topic: str = "ftsim.casino"
    kafka_group: str = "ftsim"
    kafka_client: str = "kafka-python"
    batch_max: int = 500
    durability: str = "full"  # "normal": faster commits that a power loss may undo (load tests)
    page_bytes: int = 8 * 1024 * 1024  # /api/messages: stored bytes one answer may carry (then next_offset)
    # The operator's API that ftsim calls as the CRM does (simulator/operator/); None: no calls.
    operator_api: str | None = None
    operator_api_key: str | None = field(default=None, repr=False)  # secrets: never in a repr or a log
    operator_basic: str | None = field(default=None, repr=False)  # "user:password"
    operator_oauth: str | None = None  # the token endpoint's URL
    operator_client_id: str | None = None
    operator_client_secret: str | None = field(default=None, repr=False)
    operator_oauth_method: str = "post"  # "get": the credentials as query parameters
    operator_timeout: float = 5.0
    operator_queue: int = 1000  # events waiting for their calls; more are dropped, and counted
    operator_workers: int = 4
    operator_rate: float = 20.0  # calls per second at most; 0: no limit
    operator_latency_budget: float = 1.0  # seconds the p99 of the operator's answers may take
    pipeline_mapping: str = "phoenix,evenbet"  # upstream mappings: shipped names or TOML files, comma-separated
    pipeline_grace: float | None = None  # seconds an input waits for its FT events; None: each mapping's own
    pipeline_max_pending: int = 100_000  # inputs waiting at most; the oldest is closed beyond it

    @property
    def has_auth(self) -> bool:
        return bool(self.api_key or self.basic_auth)

    @property
    def worker_count(self) -> int:
        if self.workers:
            return self.workers
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


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
            raise ValueError("expected true or false (also 1/0, yes/no, on/off)")
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
        raise ConfigError(f"{name}: cannot use {value!r}: {_plain(exc, kind)}") from None


def _plain(exc: Exception, kind: str) -> str:
    """What was expected, not Python's words for why not ("invalid literal for int() with base 10")."""
    if kind.startswith("bool"):
        return str(exc)
    if kind.startswith("int"):
        return "expected a whole number"
    if kind.startswith(("float", "Decimal")):
        return "expected a number"
    return str(exc)


def basic_auth_problem(value: str) -> str | None:
    """Why `value` cannot be Basic credentials, or None. An empty user or password would still count as
    credentials (has_auth), and so allow serving beyond loopback with a login anyone can guess."""
    user, sep, password = value.partition(":")
    if not sep:
        return "basic_auth: expected USER:PASSWORD"
    if not user or not password:
        return f"basic_auth: expected USER:PASSWORD, neither empty; the {'user' if not user else 'password'} is empty"
    return None


def _check(s: Settings) -> Settings:
    if s.profile not in PROFILES:
        raise ConfigError(f"profile: expected {' or '.join(PROFILES)}, got {s.profile!r}")
    if s.engine not in ("rust", "python"):
        raise ConfigError(f"engine: expected rust or python, got {s.engine!r}")
    if s.basic_auth is not None and (problem := basic_auth_problem(s.basic_auth)):
        raise ConfigError(problem)
    if s.durability not in ("full", "normal"):
        raise ConfigError(f"durability: expected full or normal, got {s.durability!r}")
    if s.workers < 0:
        raise ConfigError(f"workers: expected 1 or more (0: one per CPU), got {s.workers}")
    if s.batch_max < 1:
        raise ConfigError(f"batch_max: expected at least 1, got {s.batch_max}")
    if s.rabbit_prefetch < 0:
        raise ConfigError(f"rabbit_prefetch: expected 0 or more, got {s.rabbit_prefetch}")
    if s.page_bytes < 1024:
        raise ConfigError(f"page_bytes: expected at least 1024, got {s.page_bytes}")
    _check_operator(s)
    if s.latency_budget <= 0:
        raise ConfigError(f"latency_budget: expected seconds > 0, got {s.latency_budget}")
    return s


def _check_operator(s: Settings) -> None:
    methods = [name for name, on in (("operator_api_key", s.operator_api_key), ("operator_basic", s.operator_basic),
                                     ("operator_oauth", s.operator_oauth)) if on]
    if len(methods) > 1:
        raise ConfigError(f"operator: one authentication method at a time, got {' and '.join(methods)}")
    if s.operator_basic is not None and ":" not in s.operator_basic:
        raise ConfigError("operator_basic: expected USER:PASSWORD")
    if s.operator_oauth and not (s.operator_client_id and s.operator_client_secret):
        raise ConfigError("operator_oauth: needs operator_client_id and operator_client_secret")
    if s.operator_oauth_method not in ("post", "get"):
        raise ConfigError(f"operator_oauth_method: expected post or get, got {s.operator_oauth_method!r}")
    for url in (s.operator_api, s.operator_oauth):
        if url is not None and not url.startswith(("http://", "https://")):
            raise ConfigError(f"operator: expected an http:// or https:// URL, got {url!r}")
    if s.operator_timeout <= 0 or s.operator_latency_budget <= 0:
        raise ConfigError("operator_timeout and operator_latency_budget: expected seconds > 0")
    if s.operator_queue < 1 or s.operator_workers < 1 or s.operator_rate < 0:
        raise ConfigError("operator_queue and operator_workers: expected at least 1; operator_rate: 0 or more")


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
