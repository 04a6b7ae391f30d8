"""What `haodian monitor` serves on /metrics: a registry of its own.

The monitor runs in a process that imports worker modules, so the default registry
holds worker gauges (`haodian_worker_ready 0`, outbox gauges, empty histograms) that
would make the worker alerts fire for the monitor target. Only what the monitor
measures is registered here: the scale advice and the dead letters kept in PostgreSQL
(the broker DLQs are a transit buffer emptied by the ingesters, so the broker's queue
depth is no longer the count an alert should watch)."""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry()

RECOMMENDED = Gauge("haodian_scale_recommended_processes",
                    "Worker processes a domain needs to keep lag under the target", ["domain"],
                    registry=REGISTRY)
ARRIVAL = Gauge("haodian_scale_arrival_per_second", "Measured arrival rate", ["domain"],
                registry=REGISTRY)


class DeadLetterCounts(Collector):
    """`haodian_dead_letters{place, reason}`: dead letters stored and not yet replayed.

    A snapshot replaced whole on each refresh, so a group that was replayed or purged
    disappears instead of lingering at its last value. Every place is present (0 when
    empty), which lets an alert tell "none" from "the monitor cannot see"."""

    def __init__(self) -> None:
        self.places: list[str] = []
        self.counts: dict[tuple[str, str], int] = {}
        self.refreshed_at = 0.0

    def replace(self, places: Iterable[str], groups: Mapping[str, Iterable[Mapping[str, Any]]],
                at: float) -> None:
        counts: dict[tuple[str, str], int] = {}
        for place, found in groups.items():
            for group in found:
                counts[(place, str(group["reason"]))] = int(group["count"])
        self.places, self.counts, self.refreshed_at = list(places), counts, at

    def collect(self) -> Iterator[Metric]:
        letters = GaugeMetricFamily("haodian_dead_letters",
                                    "Dead letters stored in PostgreSQL, not yet replayed",
                                    labels=["place", "reason"])
        totals = GaugeMetricFamily("haodian_dead_letters_place_total",
                                   "Dead letters stored per place (0 when none)",
                                   labels=["place"])
        for (place, reason), n in sorted(self.counts.items()):
            letters.add_metric([place, reason], n)
        for place in self.places:
            totals.add_metric([place], sum(n for (p, _), n in self.counts.items() if p == place))
        refreshed = GaugeMetricFamily("haodian_dead_letters_refreshed_timestamp_seconds",
                                      "When the monitor last counted the dead letters")
        refreshed.add_metric([], self.refreshed_at)
        yield letters
        yield totals
        yield refreshed


DEAD_LETTERS = DeadLetterCounts()
REGISTRY.register(DEAD_LETTERS)
