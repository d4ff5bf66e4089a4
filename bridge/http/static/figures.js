// Figures that add up: each unit's own figures, systems by their display names, and the last
// 24 hours of throughput and queue depth as a small inline SVG chart (no library).
"use strict";

Object.assign(STRINGS.vi, {
  unit_figures: "Số liệu của đơn vị", backlog: "Chưa xử lý",
  throughput_h: "24 giờ qua", throughput_received: "Bản ghi nhận được", throughput_delivered: "Văn bản đã chuyển",
  throughput_pending: "Hàng đợi chờ chuyển (cuối mỗi giờ)", throughput_hour: "giờ", delivered_to: "Đã vào hệ thống nhà",
});
Object.assign(STRINGS.en, {
  unit_figures: "The unit's figures", backlog: "Backlog",
  throughput_h: "Last 24 hours", throughput_received: "Records received", throughput_delivered: "Documents delivered",
  throughput_pending: "Pending queue (at each hour's end)", throughput_hour: "hour", delivered_to: "Reached the home systems",
});

const UNIT_FIGURES = ["documents", "duplicates", "pending", "dead", "quarantined"];

/** What people call an endpoint: its configured title, else its configuration name. */
function systemName(name) {
  for (const u of (view.status ? view.status.units : [])) {
    for (const e of u.sources.concat(u.sinks)) if (e.name === name) return e.title || e.name;
  }
  return name;
}

/** An endpoint's heading on the unit card: the system's name, else the road's. */
function endpointTitle(e) {
  return e.title && e.title !== e.name ? e.title : roadName(e.profile, lang);
}

function unitFigures(u) {
  const f = u.figures || {};
  const backlog = u.sources.reduce((n, s) => n + (s.backlog || 0), 0);
  const tiles = UNIT_FIGURES.map((k) => `<div data-key="${esc(k)}">${esc(t(k))}<b>${esc(f[k] ?? 0)}</b></div>`);
  tiles.push(`<div data-key="backlog">${esc(t("backlog"))}<b>${esc(backlog)}</b></div>`);
  return `<div class="totals unit-figures" aria-label="${esc(t("unit_figures"))}">${tiles.join("")}</div>`;
}

/** Every home system a document reached, by name, for the document's answer line. */
function reachedHomes(d) {
  return (d.delivered_to || []).map((x) => x.system_name || systemName(x.sink)).join(", ");
}

const THROUGHPUT_EVERY_MS = 60000;  // hourly buckets: once a minute is plenty

async function refreshThroughput() {
  const due = !view.throughputAt || Date.now() - view.throughputAt >= THROUGHPUT_EVERY_MS;
  if (!due) return;
  view.throughputAt = Date.now();
  try {
    view.throughput = await api("/throughput?hours=24");
  } catch (err) {
    return;  // the overview still stands; the next poll tries again
  }
  renderThroughput();
}

function renderThroughput() {
  const el = $("throughput");
  if (!el || !view.throughput) return;
  const b = view.throughput.buckets;
  const W = 720, H = 150, pad = 24, bw = (W - 2 * pad) / Math.max(1, b.length);
  const top = Math.max(1, ...b.map((x) => Math.max(x.received, x.delivered, x.pending)));
  const y = (v) => H - pad - (v / top) * (H - 2 * pad);
  const bars = b.map((x, i) => {
    const x0 = pad + i * bw;
    return `<rect class="received" x="${x0 + 1}" y="${y(x.received)}" width="${bw / 2 - 1}" height="${H - pad - y(x.received)}"><title>${esc(clock(x.end))}: ${esc(x.received)}</title></rect>`
      + `<rect class="delivered" x="${x0 + bw / 2}" y="${y(x.delivered)}" width="${bw / 2 - 1}" height="${H - pad - y(x.delivered)}"><title>${esc(clock(x.end))}: ${esc(x.delivered)}</title></rect>`;
  }).join("");
  const line = b.map((x, i) => `${pad + (i + 1) * bw},${y(x.pending)}`).join(" ");
  const hours = b.map((x, i) => i % 3 === 2 ? `<text x="${pad + (i + 1) * bw}" y="${H - 6}" text-anchor="end">${esc(new Date(x.end).toLocaleTimeString(lang === "vi" ? "vi-VN" : "en-GB", {timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit"}))}</text>` : "").join("");
  const sum = (k) => b.reduce((n, x) => n + x[k], 0);
  el.innerHTML = `<h2>${esc(t("throughput_h"))}</h2>
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(t("throughput_h"))}">
      <line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" class="axis"/>
      <text x="2" y="${pad}" class="max">${esc(top)}</text>${bars}
      <polyline class="pending" points="${line}" fill="none"/>${hours}</svg>
    <p class="legend"><span class="key received"></span>${esc(t("throughput_received"))}: <b id="tp-received">${esc(sum("received"))}</b>
      <span class="key delivered"></span>${esc(t("throughput_delivered"))}: <b id="tp-delivered">${esc(sum("delivered"))}</b>
      <span class="key pending"></span>${esc(t("throughput_pending"))}: <b id="tp-pending">${esc(b.length ? b[b.length - 1].pending : 0)}</b></p>`;
}
