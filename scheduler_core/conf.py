"""Typed view of the ``SCHEDULER`` Django setting, with defaults, read once."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from scheduler_core.errors import ConfigurationError, UnknownQueue

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class QueueConfig:
    name: str
    broker_url: str


@dataclass(frozen=True)
class SchedulerConfig:
    broker_url: str = DEFAULT_BROKER_URL
    queues: dict[str, QueueConfig] = field(default_factory=dict)
    scheduler_interval: float = 10.0  # seconds the scheduler sleeps at most between passes
    default_timeout: int = 300  # seconds a job may run
    default_result_ttl: int = 24 * 3600  # seconds a finished job is kept
    default_failure_ttl: int = 7 * 24 * 3600  # seconds a failed / canceled job is kept
    key_prefix: str = "taskctl"
    allowed_callables: tuple[str, ...] = ()  # dotted prefixes; empty = anything importable
    heartbeat_interval: float = 5.0  # seconds between worker heartbeats
    lease_ttl: float = 30.0  # a worker / job lease older than this is dead
    scheduler_lock_ttl: float = 5.0  # leader lease; a standby takes over within 2x this
    lookahead: float = 60.0  # seconds ahead that task occurrences are planned into "scheduled"
    connect_timeout: float = 3.0  # seconds; unreachable brokers fail fast
    # a larger result (as JSON) is not stored: a marker names its size (Redis refuses a value over
    # 512 MB, and one of many megabytes slows every reader of the record)
    max_result_bytes: int = 16 * 1024 * 1024
    metrics_token: str = ""  # bearer token of the site's metrics view ("": staff only)
    # An enqueue inside transaction.atomic() reaches the broker after the outermost commit, and
    # never after a rollback: a job never runs before (or without) the rows it was enqueued for.
    enqueue_on_commit: bool = True
    eager: bool = False  # enqueue runs the job in the caller at once (tests, scripts); no broker

    @property
    def misfire_grace(self) -> float:
        """Seconds an occurrence may be late and still count as on time (later: missed): twice
        the leader lease, i.e. a leader fail-over."""
        return max(2 * self.scheduler_lock_ttl, 1.0)

    def queue(self, name: str) -> QueueConfig:
        try:
            return self.queues[name]
        except KeyError:
            known = ", ".join(sorted(self.queues)) or "none"
            raise UnknownQueue(f"unknown queue {name!r} (configured: {known})") from None


_INT_KEYS = {"DEFAULT_TIMEOUT", "DEFAULT_RESULT_TTL", "DEFAULT_FAILURE_TTL", "MAX_RESULT_BYTES"}
_FLOAT_KEYS = {
    "SCHEDULER_INTERVAL",
    "HEARTBEAT_INTERVAL",
    "LEASE_TTL",
    "SCHEDULER_LOCK_TTL",
    "LOOKAHEAD",
    "CONNECT_TIMEOUT",
}
_BOOL_KEYS = {"ENQUEUE_ON_COMMIT", "EAGER"}
_KNOWN = (
    _INT_KEYS
    | _FLOAT_KEYS
    | _BOOL_KEYS
    | {"BROKER_URL", "QUEUES", "KEY_PREFIX", "ALLOWED_CALLABLES", "METRICS_TOKEN"}
)


def parse_config(raw: dict[str, Any]) -> SchedulerConfig:
    """Validate a ``SCHEDULER`` dict; every problem is a ConfigurationError naming the key."""
    if not isinstance(raw, dict):
        raise ConfigurationError("settings.SCHEDULER must be a dict")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise ConfigurationError(f"settings.SCHEDULER: unknown key(s) {', '.join(unknown)}")
    broker_url = str(raw.get("BROKER_URL", DEFAULT_BROKER_URL))
    queues_raw = raw.get("QUEUES", {"default": {}})
    if isinstance(queues_raw, (list, tuple)):
        queues_raw = {name: {} for name in queues_raw}
    if not isinstance(queues_raw, dict) or not queues_raw:
        raise ConfigurationError("settings.SCHEDULER['QUEUES'] must name at least one queue")
    queues: dict[str, QueueConfig] = {}
    for name, opts in queues_raw.items():
        if not isinstance(name, str) or not name or any(c in name for c in "{}: \t"):
            raise ConfigurationError(f"settings.SCHEDULER['QUEUES']: bad queue name {name!r}")
        opts = opts or {}
        if not isinstance(opts, dict):
            raise ConfigurationError(f"settings.SCHEDULER['QUEUES'][{name!r}] must be a dict")
        typos = sorted(str(k) for k in opts if k not in ("BROKER_URL", "broker_url"))
        if typos:  # a misspelt BROKER_URL would silently send the queue to the default broker
            raise ConfigurationError(
                f"settings.SCHEDULER['QUEUES'][{name!r}]: unknown key(s) {', '.join(typos)} "
                "(known: BROKER_URL)"
            )
        url = str(opts.get("BROKER_URL", opts.get("broker_url", broker_url)))
        queues[name] = QueueConfig(name=name, broker_url=url)
    kwargs: dict[str, Any] = {}
    for key in _INT_KEYS | _FLOAT_KEYS:
        if key in raw:
            try:
                kwargs[key.lower()] = (int if key in _INT_KEYS else float)(raw[key])
            except (TypeError, ValueError):
                raise ConfigurationError(f"settings.SCHEDULER[{key!r}] must be a number") from None
    for key in _BOOL_KEYS:
        if key in raw:
            if not isinstance(raw[key], bool):
                raise ConfigurationError(f"settings.SCHEDULER[{key!r}] must be True or False")
            kwargs[key.lower()] = raw[key]
    allowed = raw.get("ALLOWED_CALLABLES", ())
    if isinstance(allowed, str):
        allowed = (allowed,)
    prefix = str(raw.get("KEY_PREFIX", "taskctl"))
    if not prefix or any(c in prefix for c in "{}"):  # it is the cross-queue keys' hash tag
        raise ConfigurationError(f"settings.SCHEDULER['KEY_PREFIX']: bad prefix {prefix!r} (no {{ or }})")
    return SchedulerConfig(
        broker_url=broker_url,
        queues=queues,
        key_prefix=prefix,
        allowed_callables=tuple(allowed),
        metrics_token=str(raw.get("METRICS_TOKEN") or ""),
        **kwargs,
    )


_given: SchedulerConfig | None = None


def use_config(config: SchedulerConfig) -> None:
    """Use `config` instead of reading Django's settings: the CLI's broker-only commands read the
    settings module themselves and never set Django up."""
    global _given
    _given = config
    get_config.cache_clear()


@lru_cache(maxsize=1)
def get_config() -> SchedulerConfig:
    if _given is not None:
        return _given
    from django.conf import settings

    return parse_config(getattr(settings, "SCHEDULER", {}))


def reset_config() -> None:
    """Forget the cached or given config (tests that override settings call this)."""
    global _given
    _given = None
    get_config.cache_clear()


def on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    """`setting_changed` receiver: `override_settings(SCHEDULER=...)` takes effect at once (a
    config given by `use_config` stays: it was not read from the settings)."""
    if setting == "SCHEDULER":
        get_config.cache_clear()
