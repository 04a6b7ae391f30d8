"""The dashboard's stylesheet and script, served from the package (no CDN)."""

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
figcaption{font-size:12px;color:#6b7280} canvas{background:#fbfcfd;border:1px solid #e3e6ea}
button{margin-left:.3em;padding:.2em .8em;border-radius:4px;border:1px solid #9ca3af;cursor:pointer}
button.replay{background:#e0f2fe} button.purge{background:#fee2e2}
"""

JS = r"""
"use strict";
const KEYS = ["ready","unacked","consumers","publish_rate","deliver_rate","ack_rate","dlq",
  "retry","oldest_ready_age_s","lag_p50_s","lag_p99_s","committed_per_s","workers"];
const DURATIONS = ["oldest_ready_age_s", "lag_p50_s", "lag_p99_s"];
const COLORS = {ready:"#2563eb", unacked:"#f59e0b", ack_rate:"#16a34a"};
const history = {};  // domain -> [{ready, unacked, ack_rate}]
const POINTS = 150;

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

function draw(domain) {
  const canvas = document.getElementById("chart-" + domain);
  if (!canvas) return;
  const ctx = canvas.getContext("2d"), pts = history[domain], w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  let max = 1;
  for (const p of pts) max = Math.max(max, p.ready, p.unacked, p.ack_rate);
  ctx.fillStyle = "#6b7280"; ctx.font = "10px sans-serif";
  ctx.fillText(max.toLocaleString("en"), 4, 10); ctx.fillText("0", 4, h - 4);
  for (const key of ["ready", "unacked", "ack_rate"]) {
    ctx.strokeStyle = COLORS[key]; ctx.lineWidth = 1.5; ctx.beginPath();
    pts.forEach((p, i) => {
      const x = 30 + (w - 34) * i / (POINTS - 1), y = h - 4 - (h - 16) * p[key] / max;
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
  }
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
      const pts = history[domain] = history[domain] || [];
      pts.push({ready: d.ready || 0, unacked: d.unacked || 0, ack_rate: d.ack_rate || 0});
      if (pts.length > POINTS) pts.shift();
      draw(domain);
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
poll();
setInterval(poll, 2000);
"""
