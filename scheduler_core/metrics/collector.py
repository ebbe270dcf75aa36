"""The Prometheus collector: every series, built from one broker reading at scrape time.

Nothing is kept in this process: the counters and histogram buckets live in the broker (written by
the scripts that record outcomes), so any number of exporters, or a restarted one, report the same
figures, and every worker's jobs are counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from scheduler_core.broker.keys import REGISTRIES
from scheduler_core.metrics import series
from scheduler_core.metrics.reading import Reading, read

if TYPE_CHECKING:
    from scheduler_core.conf import SchedulerConfig


def families(reading: Reading) -> list[Metric]:
    """The metric families of one reading (pure: the tests build them from a reading too)."""
    up = GaugeMetricFamily(
        series.BROKER_UP, "Whether the queue's broker answered this scrape.", labels=["queue"]
    )
    jobs = GaugeMetricFamily(
        series.QUEUE_JOBS, "Jobs in each registry of a queue (expired terminal entries left out).",
        labels=["queue", "registry"],
    )  # fmt: skip
    workers = GaugeMetricFamily(
        series.WORKERS, "Live workers serving a queue, by state.", labels=["queue", "state"]
    )
    total = CounterMetricFamily(
        series.JOBS, "Job executions that ended, by outcome, since the queue's first job.",
        labels=["queue", "outcome"],
    )  # fmt: skip
    duration = HistogramMetricFamily(
        series.JOB_DURATION, "Run time of executions that finished, failed or were stopped.", labels=["queue"]
    )
    oldest = GaugeMetricFamily(
        series.OLDEST_QUEUED, "Seconds the oldest queued job has waited (0 when none).", labels=["queue"]
    )
    for q in reading.queues:
        up.add_metric([q.name], 1.0 if q.up else 0.0)
        if not q.up:
            continue
        for registry in REGISTRIES:
            jobs.add_metric([q.name, registry], q.counts[registry])
        outcomes, buckets, seconds = _stats(q.stats)
        for outcome, n in outcomes.items():
            total.add_metric([q.name, outcome], n)
        cumulative = 0
        points: list[tuple[str, float]] = []
        for bound in (*series.DURATION_BUCKETS, "+Inf"):
            cumulative += buckets.get(bound, 0)
            points.append((bound if bound == "+Inf" else repr(float(bound)), cumulative))  # 1 -> "1.0"
        duration.add_metric([q.name], points, seconds)
        oldest.add_metric([q.name], q.oldest_queued)
    out: list[Metric] = [up, jobs, total, duration, oldest]
    if reading.workers_up:
        for q in reading.queues:
            seen: Counter[str] = reading.workers.get(q.name) or Counter()
            for state in dict.fromkeys([*series.WORKER_STATES, *seen]):
                workers.add_metric([q.name, state], seen.get(state, 0))
        out.append(workers)
        leader = GaugeMetricFamily(
            series.SCHEDULER_LEADER, "1 when a scheduler holds the leader lock, else 0."
        )
        leader.add_metric([], 1.0 if reading.leader else 0.0)
        out.append(leader)
    lateness = GaugeMetricFamily(
        series.SCHEDULER_LATENESS,
        "Seconds the most overdue scheduled job has waited past its due time (0 when none is due).",
    )
    lateness.add_metric([], round(reading.lateness, 3))
    out.append(lateness)
    return out


def _stats(fields: dict[str, str]) -> tuple[dict[str, int], dict[str, int], float]:
    """A stats hash as (outcome -> executions, bucket bound -> runs, total run seconds)."""
    outcomes = dict.fromkeys(series.OUTCOMES, 0)
    buckets: dict[str, int] = {}
    seconds = 0.0
    for name, value in fields.items():
        if name == series.DURATION_SUM_FIELD:
            seconds = int(value) / 1e6
            continue
        outcome, _, bound = name.partition(":")
        outcomes[outcome] = outcomes.get(outcome, 0) + int(value)
        if bound:
            buckets[bound] = buckets.get(bound, 0) + int(value)
    return outcomes, buckets, seconds


class BrokerCollector(Collector):
    """Reads the broker on every scrape (one pipelined round trip per broker)."""

    def __init__(self, config: SchedulerConfig | None = None) -> None:
        self.config = config

    def _config(self) -> SchedulerConfig:
        from scheduler_core.conf import get_config

        return self.config or get_config()

    def collect(self) -> Iterator[Metric]:
        yield from families(read(self._config()))

    def describe(self) -> Iterator[Metric]:
        return iter(())  # no reading at registration: the broker is read at scrape time only


def make_registry(config: SchedulerConfig | None = None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BrokerCollector(config))
    return registry
