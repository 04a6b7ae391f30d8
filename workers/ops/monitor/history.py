"""The monitor's chart history, kept on the server: a fresh page shows the last hour at once.

A sampler (`Monitor.history_loop`, started with the app) records every domain's queue
figures from the status report each HAODIAN_MONITOR_HISTORY_EVERY_S (5 s) into a ring
buffer that covers HAODIAN_MONITOR_HISTORY_KEEP_S (3 h): ceil(keep / every) + 1 samples,
never more than MONITOR_HISTORY_MAX_POINTS (20,000), and none older than keep_s. One
sample is one flat array of doubles (its time, then each domain's FIELDS; NaN = unknown,
e.g. ack/s without the management API), 8 bytes a figure: the default 2,161 samples of
four domains take about 0.8 MB. Nothing goes to disk: a restarted monitor starts empty
(Prometheus, where it scrapes the broker and the workers, keeps the long view)."""

import math
from array import array
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from workers.ops import rates
from workers.settings import MONITOR_HISTORY_MAX_POINTS

FIELDS = ("ready", "unacked", "dlq", "retry", "publish_rate", "deliver_rate", "ack_rate",
          "committed_per_s", "lag_p99_s")
UNITS = {"ready": "messages", "unacked": "messages", "dlq": "messages", "retry": "messages",
         "publish_rate": "messages/s", "deliver_rate": "messages/s", "ack_rate": "messages/s",
         "committed_per_s": "messages/s", "lag_p99_s": "s"}
LABELS = {"ready": "ready", "unacked": "unacked", "dlq": "DLQ", "retry": "retry",
          "lag_p99_s": "lag p99"}
# The page's charts per domain: (id, title, unit, series); a chart's series share its unit.
CHARTS = (("messages", "queue depth", "messages", ("ready", "unacked")),
          ("rates", "message rates", "messages/s", ("publish_rate", "ack_rate",
                                                    "committed_per_s")))
CHARTED = tuple(f for *_, series in CHARTS for f in series)
PAGE_WINDOW_S = 3600.0  # what the page embeds and shows

Row = tuple[float, list[float | None]]


class Ring:
    """Samples (t, values) in time order, at most `capacity`: a new one pushes out the
    oldest. A sample not later than the newest (the clock stepped back) first removes those
    that claim to be later, so the times stay ordered."""

    def __init__(self, capacity: int, width: int) -> None:
        if capacity < 1 or width < 0:
            raise ValueError("a ring holds at least one sample of zero or more figures")
        self.width = width
        self._rows: deque[array[float]] = deque(maxlen=capacity)

    @property
    def capacity(self) -> int:
        return self._rows.maxlen or 0

    def __len__(self) -> int:
        return len(self._rows)

    def newest(self) -> float | None:
        return self._rows[-1][0] if self._rows else None

    def oldest(self) -> float | None:
        return self._rows[0][0] if self._rows else None

    def append(self, t: float, values: Sequence[float | None]) -> None:
        if len(values) != self.width:
            raise ValueError(f"a sample has {self.width} figures, not {len(values)}")
        while self._rows and self._rows[-1][0] >= t:
            self._rows.pop()
        self._rows.append(array("d", [t, *(math.nan if v is None else float(v)
                                           for v in values)]))

    def drop_before(self, t: float) -> None:
        while self._rows and self._rows[0][0] < t:
            self._rows.popleft()

    def window(self, since: float = -math.inf, until: float = math.inf) -> list[Row]:
        """The samples with since < t <= until, oldest first (walks back from the newest,
        so a recent window costs what it returns)."""
        found: list[Row] = []
        for row in reversed(self._rows):
            t = row[0]
            if t <= since:
                break
            if t <= until:
                found.append((t, [None if math.isnan(v) else v for v in row[1:]]))
        found.reverse()
        return found


def _plain(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value.is_integer() else round(value, 3)


class History:
    """The ring of one monitor's domains, fed with status reports, served as JSON."""

    def __init__(self, domains: Sequence[str], every_s: float, keep_s: float,
                 lag_window_s: float) -> None:
        self.domains = list(domains)
        self.every_s, self.keep_s = every_s, keep_s
        capacity = min(MONITOR_HISTORY_MAX_POINTS, math.ceil(keep_s / every_s) + 1)
        self.ring = Ring(capacity, len(self.domains) * len(FIELDS))
        self.labels = {**LABELS, **rates.labels(lag_window_s)}

    def record(self, report: dict[str, Any]) -> bool:
        """One sample from a status report, at its generation time; False when a report
        of that time was recorded already."""
        t = datetime.fromisoformat(report["generated_at"]).timestamp()
        if self.ring.newest() == t:
            return False
        values: list[float | None] = []
        for domain in self.domains:
            figures = report["domains"].get(domain, {})
            values.extend(_number(figures.get(f)) for f in FIELDS)
        self.ring.append(t, values)
        self.ring.drop_before(t - self.keep_s)
        return True

    def as_json(self, since: float = -math.inf, until: float = math.inf,
                fields: Sequence[str] = FIELDS) -> dict[str, Any]:
        """Columns: "t" (Unix seconds, oldest first) and per domain one list per field,
        null where a figure was unknown; with what the charts need to label them."""
        rows = self.ring.window(since, until)
        where = {f: i for i, f in enumerate(FIELDS)}
        wanted = [f for f in fields if f in where]
        domains = {}
        for n, domain in enumerate(self.domains):
            base = n * len(FIELDS)
            domains[domain] = {f: [_plain(v[base + where[f]]) for _, v in rows] for f in wanted}
        return {"every_s": self.every_s, "keep_s": self.keep_s, "capacity": self.ring.capacity,
                "samples": len(self.ring), "oldest": self.ring.oldest(),
                "series": {f: {"label": self.labels[f], "unit": UNITS[f]} for f in wanted},
                "charts": [{"id": c, "title": title, "unit": unit,
                            "series": [s for s in series if s in wanted]}
                           for c, title, unit, series in CHARTS],
                "t": [t for t, _ in rows], "domains": domains}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
