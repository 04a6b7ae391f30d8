"""Every rate an operator reads says over which window it was measured.

The broker's rates (publish, deliver, ack) are the RabbitMQ management API's, computed
between its last two statistics samples: 5 s apart by default (`collect_statistics_interval`
= 5000 ms). committed/s is the inbox rows committed over the status window
(HAODIAN_LAG_WINDOW_S, 300 s by default) divided by that window, read from PostgreSQL. The
two disagree whenever the load changed within the last minutes; the labels say why."""

BROKER_WINDOW_S = 5.0

NAMES = {"publish_rate": "publish/s", "deliver_rate": "deliver/s", "ack_rate": "ack/s",
         "committed_per_s": "committed/s"}


def span(seconds: float) -> str:
    """A window as people write it: 5 s, 90 s, 5 min, 90 min, 1 h, 2 h."""
    if seconds < 60 or seconds % 60:
        return f"{seconds:g} s"
    minutes = seconds / 60
    if minutes < 60 or minutes % 60:
        return f"{minutes:g} min"
    return f"{minutes / 60:g} h"


def windows_s(lag_window_s: float) -> dict[str, float]:
    """Each rate of the status report and its window in seconds."""
    return {"publish_rate": BROKER_WINDOW_S, "deliver_rate": BROKER_WINDOW_S,
            "ack_rate": BROKER_WINDOW_S, "committed_per_s": float(lag_window_s)}


def labels(lag_window_s: float) -> dict[str, str]:
    """Each rate's label with its window: {"ack_rate": "ack/s (5 s)", ...}."""
    return {key: f"{NAMES[key]} ({span(w)})" for key, w in windows_s(lag_window_s).items()}
