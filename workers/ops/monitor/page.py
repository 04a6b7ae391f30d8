"""The dashboard page, rendered on the server; assets.py's script keeps it live."""

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

import orjson

from workers.ops import rates
from workers.ops.monitor.history import CHARTS
from workers.ops.monitor.statement import link_form as statement_link
from workers.ops.status import duration, shown_tables, size

QUEUE_ROWS = (("ready", "ready"), ("unacked", "unacked"), ("consumers", "consumers"),
              ("publish_rate", "publish/s"), ("deliver_rate", "deliver/s"),
              ("ack_rate", "ack/s"), ("dlq", "DLQ"), ("retry", "retry"),
              ("oldest_ready_age_s", "oldest ready (est.)"), ("lag_p50_s", "lag p50"),
              ("lag_p99_s", "lag p99"), ("committed_per_s", "committed/s"),
              ("workers", "live workers"))  # rates get their window: rates.labels


DURATIONS = ("oldest_ready_age_s", "lag_p50_s", "lag_p99_s")
CHART_W, CHART_H = 460, 200


def fmt(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key in DURATIONS and isinstance(value, int | float):
        return duration(float(value))
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def yuan(fen: int | None) -> str:
    return "—" if fen is None else f"¥{fen / 100:,.2f}"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], table_id: str = "",
           empty: str = "nothing yet") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    if not body:
        body = f'<tr><td colspan="{len(headers)}" class="muted">{escape(empty)}</td></tr>'
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def queues_section(report: dict[str, Any]) -> str:
    domains = report["domains"]
    windowed = rates.labels(report["lag_window_s"])  # every rate with its window
    source = ("RabbitMQ management API" if report["source"] == "management"
              else "AMQP passive declares — " + report["source_note"])
    rows = []
    for key, label in QUEUE_ROWS:
        cells = [escape(windowed.get(key, label))]
        for name, d in domains.items():
            alert = ' class="alert"' if key == "dlq" and d[key] else ""
            cells.append(f'<span id="q-{name}-{key}"{alert}>{escape(fmt(key, d[key]))}</span>')
        rows.append(cells)
    charts = "".join(
        f'<figure><figcaption>{escape(n)}: {escape(what)} (last hour, UTC)</figcaption>'
        f'<canvas id="chart-{escape(n)}-{chart}" class="chart" data-domain="{escape(n)}" '
        f'data-chart="{chart}" width="{CHART_W}" height="{CHART_H}"></canvas></figure>'
        for n in domains for chart, what, *_ in CHARTS)
    u = report["unroutable"]
    unroutable = (f'<p>{escape(u["name"])} (no domain took them): waiting '
                  f'<span id="unroutable-ready">{u["ready"]:,}</span>, kept '
                  f'<span id="unroutable-kept">{u["kept"]:,}</span></p>')
    return (f'<section><h2>Queues</h2><p class="muted">figures from <span id="source">'
            f'{escape(source)}</span>, updated <span id="generated">'
            f'{escape(report["generated_at"][:19])}</span></p>'
            + _table(["", *domains], rows, "queues") + unroutable
            + f'<div class="charts">{charts}</div></section>')


def dlq_section(groups: dict[str, list[dict[str, Any]]]) -> str:
    rows = []
    for domain, reasons in groups.items():
        for g in reasons:
            reason = escape(g["reason"])
            buttons = "".join(
                f'<button class="{a}" data-action="{a}" data-domain="{escape(domain)}" '
                f'data-reason="{reason}" data-count="{g["count"]}">{a}</button>'
                for a in ("replay", "purge"))
            rows.append([escape(domain), f'<b id="dlq-{escape(domain)}-{reason}">{reason}</b>',
                         str(g["count"]), escape(", ".join(g["types"])),
                         escape(g["latest"][:19]), escape(", ".join(g["event_ids"])),
                         escape(g["detail"]), buttons])
    return ('<section id="dlq"><h2>Dead letters by reason</h2>'
            + _table(["domain", "reason", "messages", "types", "latest", "event ids", "detail",
                      ""], rows, "dlq-groups", "every DLQ is empty")
            + '<p id="action-result" class="muted"></p></section>')


def workers_section(workers: list[dict[str, Any]]) -> str:
    rows = [[escape(w["host"]), str(w["pid"]), escape(",".join(w["domains"])),
             escape(w["started_at"][:19]), f'{w["seen_s_ago"]} s ago',
             f'{w["messages_done"]:,}'] for w in workers]
    return ('<section><h2>Live workers</h2>'
            + _table(["host", "pid", "domains", "started", "seen", "messages done"], rows,
                     "workers", "no live worker") + "</section>")


def tables_section(tables: list[dict[str, Any]]) -> str:
    rows = [[escape(t["table"]), f'{t["rows_estimate"]:,}',
             f'<span id="table-{escape(t["table"])}">{escape(size(t["bytes"]))}</span>',
             escape(duration(t["retention_s"])) if t["retention_s"] is not None else "kept"]
            for t in shown_tables(tables)]
    return ('<section><h2>Tables</h2><p class="muted">size with indexes; rows estimated; '
            'retention deletes rows older than the window</p>'
            + _table(["table", "rows", "size", "retention"], rows, "tables") + "</section>")


def business_section(b: dict[str, Any]) -> str:
    tracks = sorted({r["track"] for r in b["applications"]})
    statuses = ["pending_review", "approved", "rejected"]
    counts = {(r["track"], r["status"]): r["applications"] for r in b["applications"]}
    apps = _table(["track", *statuses], ([escape(t), *(f"{counts.get((t, s), 0):,}"
                                                       for s in statuses)] for t in tracks))
    overdue = _table(["application", "track", "submitted", "review due"], (
        [escape(r["application_id"]), escape(r["track"]), escape(r["submitted_at"][:19]),
         escape(r["review_due_at"][:19])] for r in b["overdue_reviews"]), empty="none overdue")
    products = _table(["status", "products"], ([escape(r["status"]), f'{r["products"]:,}']
                                               for r in b["products"]))
    st = b["settlement"]
    settled = _table(["orders settled", "net", "commission", "payouts"], [[
        f'{st.get("orders", 0):,}', yuan(st.get("net_fen")), yuan(st.get("commission_fen")),
        yuan(st.get("payout_fen"))]])
    per_day = _table(["day", "orders", "commission", "payouts"], (
        [escape(r["day"]), f'{r["orders"]:,}', yuan(r["commission_fen"]),
         yuan(r["payout_fen"])] for r in b["settlements_per_day"]))
    buyers = _table(["day", "active buyers", "orders", "GMV"], (
        [escape(r["day"]), f'{r["active_buyers"]:,}', f'{r["orders"]:,}', yuan(r["gmv_fen"])]
        for r in b["buyers_gmv_per_day"]))
    dr = b["deposit_refunds"]
    deposits = _table(["refunded", "refund total", "debt offset", "rejected"], [[
        f'{dr.get("refunded", 0):,}', yuan(dr.get("refund_fen")),
        yuan(dr.get("debt_offset_fen")), f'{dr.get("rejected", 0):,}']])
    return ('<section><h2>Business</h2><div class="panels">'
            f'<div><h3>Applications by track and status</h3>{apps}'
            f'<h3>Overdue reviews: <span id="overdue">{b["overdue_review_count"]}</span></h3>'
            f'{overdue}</div>'
            f'<div><h3>Products</h3>{products}<h3>Deposits refunded</h3>{deposits}</div>'
            f'<div><h3>Settlements paid</h3>{settled}{statement_link()}'
            f'<h3>Commission and payouts per day</h3>{per_day}</div>'
            f'<div><h3>Daily active buyers and GMV</h3>{buyers}</div>'
            "</div></section>")


def embedded_json(element_id: str, value: Any) -> str:
    """A value for the page's script as an inert JSON block: "<" only inside JSON strings,
    written as \\u003c there, so no "</script>" or "<!--" can end or bend it."""
    text = orjson.dumps(value).decode().replace("<", "\\u003c")
    return f'<script type="application/json" id="{escape(element_id)}">{text}</script>'


def page(report: dict[str, Any], groups: dict[str, list[dict[str, Any]]],
         business: dict[str, Any], css: str, history: dict[str, Any] | None = None) -> str:
    """The whole page; `history` (history.History.as_json) draws the charts on load."""
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>haodian monitor</title>"
            f"<style>{css}</style></head><body><header><h1>haodian monitor</h1>"
            f'<span class="note">overdue certification reviews: '
            f'{report["overdue_reviews"]}</span></header><main>'
            + queues_section(report) + dlq_section(groups) + workers_section(report["workers"])
            + tables_section(report.get("tables", []))
            + business_section(business)
            + "</main>" + embedded_json("history-data", history)
            + '<script src="/static/monitor.js"></script></body></html>')


def refused() -> str:
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>haodian monitor</title>"
            "</head><body><h1>401: a token is needed</h1><p>Open /?token=… with the monitor's "
            "token (HAODIAN_MONITOR_TOKEN), or send it as a Bearer token.</p></body></html>")
