"""The dashboard's stylesheet and script, served from the package (no CDN)."""

import orjson

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{display:flex;gap:2em;align-items:baseline;padding:.6em 1.2em;background:#1d2330;color:#fff}
header .note{color:#d1d5db}
h1{font-size:18px;margin:0} h2{font-size:16px;margin:.2em 0 .5em}
h3{font-size:14px;margin:.8em 0 .3em}
main{padding:0 1.2em 2em} section{background:#fff;border-radius:6px;padding:.8em 1em;margin-top:1em;
box-shadow:0 1px 2px #0002}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:.25em .7em;border-bottom:1px solid #e3e6ea;text-align:right}
th:first-child,td:first-child{text-align:left}
.muted{color:#6b7280} .alert{color:#b91c1c;font-weight:700}
.charts,.panels{display:flex;flex-wrap:wrap;gap:1.2em} figure{margin:.6em 0}
figcaption{font-size:12px;color:#6b7280} canvas{background:#fff;border:1px solid #e3e6ea}
button{margin-left:.3em;padding:.2em .8em;border-radius:4px;border:1px solid #9ca3af;cursor:pointer}
button.replay{background:#e0f2fe} button.purge{background:#fee2e2}
"""


# The charts: drawn on plain canvases from the server's history (history.py), embedded in
# the page as JSON (#history-data) and extended from /api/history. Each canvas says what it
# drew in data attributes (points, per-series counts, time ticks, legend), for people with
# dev tools and for the browser test.
CHART_TEXT, CHART_GRID, CHART_BG = "#374151", "#e5e7eb", "#ffffff"
SERIES_COLORS = {"ready": "#2563eb", "unacked": "#d97706", "publish_rate": "#7c3aed",
                 "ack_rate": "#16a34a", "committed_per_s": "#0e7490"}

CHARTS_JS = r"""
const DASHED = {committed_per_s: [6, 3]};
const SHOWN_S = 3600, PAD = {l: 50, r: 10, t: 26, b: 22};
const TIME_STEPS = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
let hist = null, clockOffset = 0;  // the history; server clock minus this browser's, in s

const serverNow = () => Date.now() / 1000 + clockOffset;

function niceStep(top, ticks) {
  const raw = top / ticks, p = Math.pow(10, Math.floor(Math.log10(raw)));
  return [1, 2, 5, 10].map(m => m * p).find(s => s >= raw);
}

function compact(v) {
  const f = (x, u) => x.toLocaleString("en", {maximumFractionDigits: 1}) + u;
  if (v >= 1e6) return f(v / 1e6, "M");
  if (v >= 1e4) return f(v / 1e3, "k");
  return v.toLocaleString("en", {maximumFractionDigits: 2});
}

function clock(t, withSeconds) {
  const d = new Date(t * 1000), two = n => String(n).padStart(2, "0");
  const hm = two(d.getUTCHours()) + ":" + two(d.getUTCMinutes());
  return withSeconds ? hm + ":" + two(d.getUTCSeconds()) : hm;
}

function drawChart(canvas) {
  const chart = hist.charts.find(c => c.id === canvas.dataset.chart);
  const cols = hist.domains[canvas.dataset.domain] || {};
  if (!chart) return;
  const w = +(canvas.dataset.w ||= canvas.width), h = +(canvas.dataset.h ||= canvas.height);
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * dpr)) {
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    canvas.style.width = w + "px"; canvas.style.height = h + "px";
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = BG; ctx.fillRect(0, 0, w, h);
  const pw = w - PAD.l - PAD.r, ph = h - PAD.t - PAD.b, now = serverNow(), t = hist.t;
  let x0 = Math.max(now - SHOWN_S, t.length ? Math.min(t[0], now - 60) : now - 60);
  const found = t.findIndex(x => x >= x0), from = found < 0 ? t.length : found;
  let top = 0;
  for (const key of chart.series) for (let i = from; i < t.length; i++) {
    const v = (cols[key] || [])[i]; if (v !== null && v !== undefined) top = Math.max(top, v);
  }
  const step = top > 0 ? niceStep(top, 4) : 1; top = step * Math.max(1, Math.ceil(top / step));
  const X = x => PAD.l + pw * (x - x0) / (now - x0), Y = v => PAD.t + ph - ph * v / top;
  ctx.font = "11px system-ui, sans-serif"; ctx.lineWidth = 1;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (let v = 0; v <= top + step / 2; v += step) {  // y axis: grid and values
    ctx.strokeStyle = GRID; ctx.beginPath();
    ctx.moveTo(PAD.l, Y(v) + .5); ctx.lineTo(w - PAD.r, Y(v) + .5); ctx.stroke();
    ctx.fillStyle = TEXT; ctx.fillText(compact(v), PAD.l - 5, Y(v));
  }
  const span = now - x0, tStep = TIME_STEPS.find(s => span / s <= 6) || 7200, ticks = [];
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (let x = Math.ceil(x0 / tStep) * tStep; x <= now; x += tStep) {  // x axis: clock
    const label = clock(x, tStep < 60); ticks.push(label);
    const tx = Math.round(X(x)) + .5;
    ctx.strokeStyle = TEXT; ctx.beginPath();
    ctx.moveTo(tx, PAD.t + ph); ctx.lineTo(tx, PAD.t + ph + 4); ctx.stroke();
    ctx.fillText(label, Math.min(X(x), w - 2 - ctx.measureText(label).width / 2),
                 PAD.t + ph + 6);
  }
  ctx.strokeStyle = TEXT; ctx.beginPath();
  ctx.moveTo(PAD.l + .5, PAD.t); ctx.lineTo(PAD.l + .5, PAD.t + ph + .5);
  ctx.lineTo(w - PAD.r, PAD.t + ph + .5); ctx.stroke();
  ctx.textAlign = "left"; ctx.fillText("UTC", 4, PAD.t + ph + 6);
  ctx.save(); ctx.beginPath(); ctx.rect(PAD.l, PAD.t - 2, pw + 2, ph + 4); ctx.clip();
  // The lines; samples further apart than `gap` (sampling failed, or the monitor was
  // down) leave a break, a late sample or two does not.
  const drawn = {}, gap = Math.max(3 * hist.every_s, hist.every_s + 10);
  for (const key of chart.series) {
    const vals = cols[key] || [];
    ctx.strokeStyle = ctx.fillStyle = COLORS[key] || TEXT; ctx.lineWidth = 1.75;
    ctx.setLineDash(DASHED[key] || []); ctx.beginPath();
    let n = 0, run = 0, prev = null, last = null;
    for (let i = from; i < t.length; i++) {
      const v = vals[i];
      if (v === null || v === undefined || (prev !== null && t[i] - prev > gap)) {
        if (run === 1) ctx.fillRect(last[0] - 1.5, last[1] - 1.5, 3, 3);
        run = 0;
      }
      if (v === null || v === undefined) { prev = null; continue; }
      const p = [X(t[i]), Y(v)];
      run ? ctx.lineTo(p[0], p[1]) : ctx.moveTo(p[0], p[1]);
      run++; n++; prev = t[i]; last = p;
    }
    if (run === 1) ctx.fillRect(last[0] - 1.5, last[1] - 1.5, 3, 3);
    ctx.stroke(); drawn[key] = n;
  }
  ctx.restore(); ctx.setLineDash([]);
  ctx.textBaseline = "middle"; ctx.font = "bold 11px system-ui, sans-serif";
  ctx.fillStyle = TEXT; ctx.fillText(chart.unit, 4, 12);  // the unit, then the legend
  let lx = 8 + ctx.measureText(chart.unit).width + 10;
  ctx.font = "11px system-ui, sans-serif";
  const legend = [];
  for (const key of chart.series) {
    const label = hist.series[key].label + (drawn[key] ? "" : " n/a");
    ctx.strokeStyle = COLORS[key] || TEXT; ctx.lineWidth = 2.5;
    ctx.setLineDash(DASHED[key] || []); ctx.beginPath();
    ctx.moveTo(lx, 12); ctx.lineTo(lx + 16, 12); ctx.stroke(); ctx.setLineDash([]);
    ctx.fillStyle = TEXT; ctx.fillText(label, lx + 20, 12);
    lx += 20 + ctx.measureText(label).width + 12; legend.push(label);
  }
  const points = Math.max(0, ...Object.values(drawn));
  if (!points) {
    ctx.textAlign = "center"; ctx.fillStyle = TEXT;
    ctx.fillText(`no samples yet: one every ${hist.every_s} s`, PAD.l + pw / 2, PAD.t + ph / 2);
  }
  Object.assign(canvas.dataset, {points, samples: t.length - from, ticks: ticks.join(" "),
    unit: chart.unit,
    legend: legend.join("|"), drawn: Object.entries(drawn).map(e => e.join(":")).join(",")});
}

function drawCharts() {
  if (hist) document.querySelectorAll("canvas.chart").forEach(drawChart);
}

function appendHistory(fresh) {
  clockOffset = fresh.now - Date.now() / 1000;
  const last = hist.t.length ? hist.t[hist.t.length - 1] : -Infinity;
  const take = fresh.t.map((x, i) => x > last ? i : -1).filter(i => i >= 0);
  hist.t.push(...take.map(i => fresh.t[i]));
  for (const [domain, cols] of Object.entries(fresh.domains)) {
    const mine = hist.domains[domain] ||= {};
    for (const [key, vals] of Object.entries(cols)) {
      const col = mine[key] ||= new Array(hist.t.length - take.length).fill(null);
      col.push(...take.map(i => vals[i]));
    }
  }
  const cut = hist.t.findIndex(x => x >= serverNow() - SHOWN_S - hist.every_s);
  const drop = cut < 0 ? hist.t.length : cut;
  if (drop) {
    hist.t.splice(0, drop);
    for (const cols of Object.values(hist.domains)) for (const c of Object.values(cols))
      c.splice(0, drop);
  }
}

async function pollHistory() {
  try {
    const since = hist.t.length ? hist.t[hist.t.length - 1] : serverNow() - SHOWN_S;
    const fields = Object.keys(hist.series).join(",");
    const r = await fetch(`/api/history?since=${since}&fields=${fields}`,
                          {credentials: "same-origin"});
    if (r.ok) appendHistory(await r.json());
  } catch (e) { /* the next poll tries again */ }
  drawCharts();
}

function startCharts() {
  const data = document.getElementById("history-data");
  hist = data ? JSON.parse(data.textContent) : null;
  if (!hist) return;
  clockOffset = hist.now - Date.now() / 1000;
  drawCharts();  // from the embedded history alone: what a fresh page shows at once
  document.querySelectorAll("canvas.chart").forEach(c => c.dataset.pointsOnLoad = c.dataset.points);
  setInterval(pollHistory, Math.max(1000, hist.every_s * 1000));
}
"""

BASE_JS = r"""
const KEYS = ["ready","unacked","consumers","publish_rate","deliver_rate","ack_rate","dlq",
  "retry","oldest_ready_age_s","lag_p50_s","lag_p99_s","committed_per_s","workers"];
const DURATIONS = ["oldest_ready_age_s", "lag_p50_s", "lag_p99_s"];

function duration(s) {
  if (s < 1) return Math.round(s * 1000) + " ms";
  if (s < 120) return s.toFixed(1) + " s";
  if (s < 7200) return (s / 60).toFixed(1) + " min";
  if (s < 172800) return (s / 3600).toFixed(1) + " h";
  return (s / 86400).toLocaleString("en", {maximumFractionDigits: 1}) + " d";
}

function fmt(key, v) {
  if (v === null || v === undefined) return "—";
  if (DURATIONS.includes(key)) return duration(v);
  if (Number.isInteger(v)) return v.toLocaleString("en");
  return v.toLocaleString("en", {minimumFractionDigits: 1, maximumFractionDigits: 1});
}

async function poll() {
  try {
    const r = await fetch("/api/status", {credentials: "same-origin"});
    if (!r.ok) return;
    const report = await r.json();
    document.getElementById("generated").textContent = report.generated_at.slice(0, 19);
    for (const key of ["ready", "kept"]) {
      const el = document.getElementById(`unroutable-${key}`);
      if (el) el.textContent = fmt(key, report.unroutable[key]);
    }
    for (const [domain, d] of Object.entries(report.domains)) {
      for (const key of KEYS) {
        const el = document.getElementById(`q-${domain}-${key}`);
        if (!el) continue;
        el.textContent = fmt(key, d[key]);
        el.classList.toggle("alert", key === "dlq" && d[key] > 0);
      }
    }
  } catch (e) { /* the next poll tries again */ }
}

async function act(button) {
  const {action, domain, reason, count} = button.dataset;
  const what = action === "replay" ? "Replay" : "Delete for good";
  const where = domain === "unroutable" ? "haodian.unroutable" : `haodian.${domain}.dlq`;
  const question = `${what} ${count} message(s) with reason ${reason} from ${where}?`;
  if (!window.confirm(question)) return;
  const out = document.getElementById("action-result");
  out.textContent = `${action} running…`;
  const r = await fetch(`/api/dlq/${domain}/${action}`, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-Haodian-Action": "1"},
    body: JSON.stringify({reason: reason, confirm: true})});
  const body = await r.json();
  out.textContent = r.ok ? `${action}: ${body.count} message(s) (audited)`
                         : `failed: ${body.error}`;
  if (r.ok) window.location.reload();
}

document.addEventListener("click", (e) => {
  const b = e.target.closest("button[data-action]");
  if (b) act(b);
});
startCharts();
poll();
setInterval(poll, 2000);
"""

JS = ("\"use strict\";\n"
      f"const COLORS = {orjson.dumps(SERIES_COLORS).decode()}, TEXT = \"{CHART_TEXT}\", "
      f"GRID = \"{CHART_GRID}\", BG = \"{CHART_BG}\";\n"
      + CHARTS_JS + BASE_JS)
