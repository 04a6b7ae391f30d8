"""The monitor's statement page: GET /statement?store=S&month=YYYY-MM[&format=csv], the
same statement `haodian statement` writes (HTML, or the CSV as a download). Without both
parameters it is a small form; the settlements panel links here."""

import io
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from workers import db
from workers.statements import renderer
from workers.statements.bulk import file_name
from workers.statements.gather import write_statement
from workers.statements.model import month_bounds

FORM = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>商家对账单 Merchant statement</title></head><body>
<h1>商家对账单 Merchant statement</h1>{problem}
<form action="/statement" method="get">
<label>店铺 store <input name="store" value="{store}" required maxlength="64"></label>
<label>月份 month <input name="month" value="{month}" placeholder="YYYY-MM" required
 pattern="[0-9]{{4}}-[0-9]{{2}}"></label>
<label>格式 format <select name="format"><option value="html">HTML</option>
<option value="csv">CSV</option></select></label>
<button type="submit">查看 show</button></form>
<p><a href="/">← monitor</a></p></body></html>"""


def form(store: str = "", month: str = "", problem: str = "") -> str:
    shown = f'<p style="color:#b00">{escape(problem)}</p>' if problem else ""
    return FORM.format(problem=shown, store=escape(store, quote=True),
                       month=escape(month, quote=True))


def link_form() -> str:
    """The settlements panel's way in."""
    return ('<form action="/statement" method="get" class="statement-link">'
            '<input name="store" placeholder="store id" required maxlength="64"> '
            '<input name="month" placeholder="YYYY-MM" required size="8"> '
            '<button type="submit">statement 对账单</button></form>')


async def statement_page(database_url: str, request: Request) -> Response:
    store = request.query_params.get("store", "")
    month = request.query_params.get("month", "")
    fmt = request.query_params.get("format", "html")
    if not store or not month:
        return HTMLResponse(form(store, month))
    try:
        month_bounds(month)
    except ValueError as exc:
        return HTMLResponse(form(store, month, str(exc)), 400)
    if fmt not in ("html", "csv") or len(store) > 64:
        return HTMLResponse(form(store[:64], month, "format must be html or csv"), 400)
    out = io.StringIO()
    conn = await db.connect(database_url)
    try:
        await write_statement(conn, store, month, renderer(fmt, out))
    finally:
        await conn.close()
    if fmt == "csv":
        name = file_name(store, month, "csv")
        return Response(out.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{name}"'})
    return HTMLResponse(out.getvalue())
