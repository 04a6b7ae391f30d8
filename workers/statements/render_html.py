"""The statement as one self-contained, printable HTML page (inline CSS, no scripts, no
fonts or anything else fetched), labels in Chinese and English, yuan with fen beside."""

from html import escape
from typing import TextIO

from workers.statements import labels
from workers.statements.labels import ACCOUNTS, COLUMNS, ENTRY_KINDS, SECTIONS
from workers.statements.model import (
    ACCOUNT_KINDS,
    Balances,
    Check,
    Header,
    Line,
    Totals,
    status,
    yuan_grouped,
)
from workers.statements.model import (
    SECTION_ORDER as ORDER,
)

CSS = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei",
       sans-serif; font-size: 12px; color: #111; margin: 16px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 14px; margin: 18px 0 6px; border-bottom: 2px solid #333; padding-bottom: 2px; }
.meta { color: #444; margin-bottom: 8px; }
table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
tr { page-break-inside: avoid; }
thead { display: table-header-group; }
th, td { border: 1px solid #bbb; padding: 2px 6px; vertical-align: top; }
th { background: #eee; font-weight: 600; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.n small { color: #666; display: block; }
.none { color: #666; font-style: italic; }
.ok { color: #075; font-weight: 600; }
.bad { color: #b00; font-weight: 700; }
.check { font-size: 14px; padding: 6px 8px; border: 2px solid #333; display: inline-block; }
.half { width: auto; min-width: 50%; }
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _money(fen: int | None) -> str:
    if fen is None:
        return '<td class="n">—</td>'
    return f'<td class="n">{yuan_grouped(fen)}<small>{fen} 分</small></td>'


def _th(pair: tuple[str, str]) -> str:
    return f"<th>{_e(pair[0])}<br>{_e(pair[1])}</th>"


class HtmlRenderer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.next_section = 0
        self.header: Header | None = None

    def _w(self, text: str) -> None:
        self.out.write(text + "\n")

    def _balances(self, title: str, b: Balances) -> None:
        self._w(f"<h2>{title}</h2><table class=\"half\"><thead><tr>"
                f"{_th(('账户', 'account'))}{_th(('金额（元）', 'amount (yuan)'))}"
                "</tr></thead><tbody>")
        for kind in ACCOUNT_KINDS:
            self._w(f"<tr><td>{_e(labels.both(ACCOUNTS[kind]))}</td>"
                    f"{_money(getattr(b, f'{kind}_fen'))}</tr>")
        self._w(f"<tr><td>欠款 debt</td>{_money(b.debt_fen)}</tr></tbody></table>")

    def begin(self, header: Header) -> None:
        self.header = header
        title = f"{labels.both(labels.TITLE)} — {header.store_id} — {header.month}"
        self._w(f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
                f"<title>{_e(title)}</title><style>{CSS}</style></head><body>")
        self._w(f"<h1>{_e(labels.TITLE[0])} <small>{_e(labels.TITLE[1])}</small></h1>")
        self._w(f'<div class="meta">店铺 store: <b>{_e(header.store_id)}</b> · 月份 month: '
                f"<b>{_e(header.month)}</b><br>期间 period: {_e(labels.period(header))}</div>")
        sm = header.store_month
        mark = '<span class="ok">✓</span>' if sm.ok else '<span class="bad">✗</span>'
        self._w(f'<div class="check">佣金核对 commission check — 结算月 store-month '
                f"{_e(sm.month)}: {yuan_grouped(sm.commission_fen)} 元 = C("
                f"{yuan_grouped(sm.net_fen)} 元) = {yuan_grouped(sm.expected_commission_fen)} 元 "
                f"{mark}</div>")
        self._balances("期初余额 Opening balances", header.opening)
        self._w(f"<h2>账户变动 Ledger movements</h2><table><thead><tr>"
                f"{_th(('业务', 'entry kind'))}{_th(('账户', 'account'))}"
                f"{_th(('笔数', 'lines'))}{_th(('金额（元）', 'amount (yuan)'))}"
                "</tr></thead><tbody>")
        for kind, account, count, fen in labels.movement_rows(header):
            self._w(f"<tr><td>{_e(labels.both(ENTRY_KINDS.get(kind, (kind, kind))))}</td>"
                    f"<td>{_e(labels.both(ACCOUNTS[account]))}</td>"
                    f'<td class="n">{count}</td>{_money(fen)}</tr>')
        self._w("</tbody></table>")

    def _close_up_to(self, index: int) -> None:
        if self.next_section > 0:
            self._w("</tbody></table>")
        for skipped in range(self.next_section, index):
            section = SECTIONS[ORDER[skipped]]
            self._w(f"<h2>{_e(section.zh)} {_e(section.en)}</h2>"
                    '<p class="none">无 none</p>')
        self.next_section = index + 1

    def line(self, line: Line) -> None:
        index = ORDER.index(type(line))
        if index >= self.next_section:
            self._close_up_to(index)
            section = SECTIONS[ORDER[index]]
            heads = "".join(_th(c) for c in labels.REF_COLUMNS)
            heads += "".join(_th(COLUMNS[c]) for c in section.columns)
            self._w(f"<h2>{_e(section.zh)} {_e(section.en)}</h2>"
                    f"<table><thead><tr>{heads}</tr></thead><tbody>")
        r = labels.row(line)
        cells = "".join(f"<td>{_e(v)}</td>" for v in (r.booked_at, r.store_month, r.order_id,
                                                      r.ref, r.detail))
        cells += "".join(_money(r.fen[c]) for c in r.section.columns)
        self._w(f"<tr>{cells}</tr>")

    def end(self, totals: Totals, checks: list[Check]) -> None:
        header = self.header
        assert header is not None
        self._close_up_to(len(ORDER))
        t = totals
        rows = labels.total_rows(header, t)
        self._w(f"<h2>合计 Totals</h2><table class=\"half\"><thead><tr>{_th(('项目', 'item'))}"
                f"{_th(('金额（元）', 'amount (yuan)'))}</tr></thead><tbody>")
        for item, fen in rows:
            self._w(f"<tr><td>{_e(item)}</td>{_money(fen)}</tr>")
        self._w("</tbody></table>")
        self._w(f"<h2>对账 Reconciliation — {_e(status(checks))}</h2><table><thead><tr>"
                f"{_th(('核对项', 'check'))}{_th(('明细合计', 'lines'))}"
                f"{_th(('账本 / C(净额)', 'ledger / C(total net)'))}{_th(('结果', 'result'))}"
                "</tr></thead><tbody>")
        for c in checks:
            result = '<span class="ok">✓</span>' if c.ok else '<span class="bad">✗</span>'
            self._w(f"<tr><td>{_e(c.name)}</td>{_money(c.lines_fen)}{_money(c.ledger_fen)}"
                    f"<td>{result}</td></tr>")
        self._w("</tbody></table>")
        self._balances("期末余额 Closing balances", header.closing)
        self._w("</body></html>")
