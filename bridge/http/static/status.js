// Overview (units, roads, totals), the alert banner, dead letters and quarantine.
"use strict";

const TOTALS = ["received", "documents", "duplicates", "revisions", "quarantined", "waiting", "delivered", "pending", "dead"];

async function refreshStatus() {
  try {
    const [status, dead, quarantine] = await Promise.all([api(statusPath()), api("/dead-letters"), api("/quarantine")]);
    refreshThroughput();
    view.status = status;
    view.dead = dead.items;
    view.quarantine = quarantine.items;
    view.updatedAt = new Date().toISOString();
    view.stale = false;
    $("login").hidden = true;
  } catch (err) {
    view.stale = true;
  }
  renderAll();
}

function renderStatus(s) {
  const stamp = $("updated");
  stamp.textContent = view.stale ? t("stale") : `${t("updated")} ${clock(view.updatedAt)}`;
  stamp.classList.toggle("stale", Boolean(view.stale));
  $("totals").innerHTML = TOTALS.filter((k) => k in s.totals).map((k) =>
    `<div>${esc(t(k))}<b id="total-${k}">${esc(s.totals[k])}</b></div>`).join("") + diskTile(s.disk);
  $("units").innerHTML = s.units.map(unitCard).join("");
  renderUnitsPage(s);
  renderThroughput();
  renderBanner(s);
  const unitSelect = $("unit-filter");
  const chosen = unitSelect.value;
  unitSelect.innerHTML = `<option value="">${esc(t("all_units"))}</option>` + s.units.map((u) =>
    `<option value="${esc(u.id)}">${esc(u.name || u.id)}</option>`).join("");
  unitSelect.value = chosen;
}

function unitCard(u) {
  const head = `<tr><th></th><th></th><th>${esc(t("state"))}</th><th>${esc(t("last_ok"))}</th>
    <th class="hide-narrow">${esc(t("last_error"))}</th><th>${esc(t("counts"))}</th><th></th></tr>`;
  const rows = u.sources.map((e) => endpointRow(e, "source", false))
    .concat(u.sinks.map((e, i) => endpointRow(e, "sink", i === 0)));
  return `<div class="unit" data-unit="${esc(u.id)}"><h2>${esc(u.name || u.id)} <small>${esc(u.id)}</small></h2>
    ${unitFigures(u)}<div class="scroll"><table>${head}${rows.join("")}</table></div></div>`;
}

function endpointRow(e, role, isHome) {
  const counts = role === "source"
    ? `${esc(t("received"))}: ${esc(e.received ?? 0)}` + (e.backlog != null ? ` · ${esc(t("waiting"))}: ${esc(e.backlog)}` : "")
    : `${esc(t("delivered"))}: ${esc(e.delivered ?? 0)} · ${esc(t("pending"))}: ${esc(e.pending ?? 0)} · ${esc(t("dead"))}: ${esc(e.dead ?? 0)}`;
  const error = e.last_error ? `<span class="err">${esc(e.last_error)}</span>` : "—";
  return `<tr class="endpoint" data-name="${esc(e.name)}" data-state="${esc(e.state)}" data-paused="${e.paused ? "1" : ""}">
    <td>${esc(t(role))}</td>
    <td><b>${esc(endpointTitle(e))}</b>${isHome ? ` <small>(${esc(t("home"))})</small>` : ""}<br><span class="muted">${esc(e.title && e.title !== e.name ? roadName(e.profile, lang) + " · " : "")}${esc(e.name)}</span></td>
    <td>${stateLabel(e)}</td>
    <td>${when(e.last_success_at)}</td>
    <td class="hide-narrow">${error}</td>
    <td>${counts}</td><td class="actions">${controlsOf(e, role)}</td></tr>`;
}

/** Alert conditions, most serious first: background tasks failing, roads down, sinks down,
 * dead letters, the alerts sent by mail or webhook ([alerts]), disk. */
function alertsOf(s) {
  const out = [];
  const failingTasks = (s.tasks || []).filter((task) => task.state === "failing");
  for (const task of failingTasks) out.push(fmt(t("banner_task"), task.name, task.restarts, task.last_error || ""));
  if (s.ready === false && !failingTasks.length) out.push(t("banner_not_ready"));
  const since = (e) => e.last_success_at ? fmt(t("since"), clock(e.last_success_at)) : "";
  for (const u of s.units) {
    for (const e of u.sources) {
      if (e.state === "failing") out.push(fmt(t("banner_road"), roadName(e.profile, lang), systemName(e.name), since(e), e.last_error || ""));
    }
    for (const e of u.sinks) {
      if (e.state === "failing") out.push(fmt(t("banner_sink"), roadName(e.profile, lang), systemName(e.name), since(e), e.last_error || ""));
    }
  }
  if (s.totals.dead) out.push(fmt(t("banner_dead"), s.totals.dead));
  for (const a of s.alerts || []) {
    const what = (STRINGS[lang].alert_kinds || {})[a.kind] || a.kind;
    const where = a.detail && a.detail.endpoint ? ` ${systemName(a.detail.endpoint)}` : "";
    out.push(fmt(t("banner_alert"), what + where, clock(a.since)));
  }
  const pct = diskPercent(s.disk);
  if (pct !== null && pct >= 85) out.push(fmt(t("banner_disk"), pct));
  if (s.directory && s.directory.last_error) out.push(fmt(t("banner_directory"), s.directory.last_error));
  return out;
}

function diskPercent(disk) {
  if (!disk || typeof disk !== "object") return null;
  if (typeof disk.used_fraction === "number" && disk.total_bytes > 0) return Math.round(disk.used_fraction * 100);
  if (disk.total_bytes > 0 && typeof disk.free_bytes === "number") {
    return Math.round(100 * (1 - disk.free_bytes / disk.total_bytes));
  }
  return null;
}

function diskTile(disk) {
  const pct = diskPercent(disk);
  if (pct === null) return "";
  const data = kb((disk.store_bytes || 0) + (disk.blob_bytes || 0));
  return `<div title="${esc(t("disk_data"))}: ${esc(data)}">${esc(t("disk"))}<b id="total-disk">${esc(pct)}%</b></div>`;
}

function renderBanner(s) {
  const alerts = alertsOf(s);
  const banner = $("banner");
  banner.hidden = alerts.length === 0;
  banner.innerHTML = alerts.map((a) => `<li>${esc(a)}</li>`).join("");
}

function renderDead() {
  $("badge-dead").textContent = view.dead.length || "";
  $("replay-all").hidden = view.dead.length < 2;
  const head = `<tr><th>#</th><th>${esc(t("document"))}</th><th>${esc(t("sink_name"))}</th><th>${esc(t("op"))}</th>
    <th>${esc(t("attempts"))}</th><th>${esc(t("reason"))}</th><th></th></tr>`;
  $("dead").innerHTML = view.dead.length ? head + view.dead.map((d) => `<tr class="dead-letter" data-id="${esc(d.id)}">
    <td>${esc(d.id)}</td><td><a href="#doc-${esc(d.document_id)}" class="doclink" data-id="${esc(d.document_id)}">#${esc(d.document_id)}</a></td>
    <td>${esc(systemName(d.sink))}</td><td>${esc(STRINGS[lang].ops[d.op] || d.op)}</td><td class="num">${esc(d.attempts)}</td>
    <td class="err">${esc(d.last_error)}</td>
    <td><button type="button" class="replay" data-id="${esc(d.id)}">${esc(t("replay"))}</button></td></tr>`).join("")
    : `<tr><td>${esc(t("none"))}</td></tr>`;
}

function renderQuarantine() {
  $("badge-quarantine").textContent = view.quarantine.length || "";
  const head = `<tr><th>#</th><th>${esc(t("received_at"))}</th><th>${esc(t("source"))}</th><th>${esc(t("kind"))}</th>
    <th>${esc(t("reason"))}</th><th></th></tr>`;
  $("quarantine").innerHTML = view.quarantine.length ? head + view.quarantine.map((q) => `<tr class="quarantined" data-id="${esc(q.id)}">
    <td>${esc(q.id)}</td><td>${when(q.created_at)}</td><td>${esc(systemName(q.source))}<br><span class="muted">${esc(q.external_id)}</span></td>
    <td>${esc(STRINGS[lang].kinds[q.kind] || q.kind)}</td><td>${esc(q.reason)}</td>
    <td class="actions"><button type="button" class="retry secondary" data-id="${esc(q.id)}">${esc(t("retry"))}</button>
    <button type="button" class="release danger" data-id="${esc(q.id)}" data-kind="${esc(q.kind)}">${esc(t("release"))}</button></td></tr>`).join("")
    : `<tr><td>${esc(t("none"))}</td></tr>`;
}

async function replay(id) {
  const r = await api(`/dead-letters/${encodeURIComponent(id)}/replay`, {method: "POST"});
  toast(fmt(t("replayed"), r.replayed));
  await refreshStatus();
}

async function quarantineAction(button, action) {
  if (action === "release") {
    const question = button.dataset.kind === "secret" ? t("release_secret_confirm") : t("release_confirm");
    if (!confirm(question)) return;
  }
  await api(`/quarantine/${encodeURIComponent(button.dataset.id)}/${action}`, {method: "POST"});
  toast(t(action === "release" ? "released" : "retried"));
  await refreshStatus();
}

async function loadAudit() {
  const r = await api("/audit?limit=200");
  const head = `<tr><th>${esc(t("at"))}</th><th>${esc(t("actor"))}</th><th>${esc(t("action"))}</th>
    <th>${esc(t("target"))}</th><th>${esc(t("detail"))}</th></tr>`;
  $("audit").innerHTML = r.items.length ? head + r.items.map((a) => `<tr><td>${esc(clock(a.at))}</td><td>${esc(a.actor)}</td>
    <td>${esc(a.action)}</td><td>${esc(a.target)}</td><td class="muted">${esc(typeof a.detail === "string" ? a.detail : JSON.stringify(a.detail))}</td></tr>`).join("")
    : `<tr><td>${esc(t("none"))}</td></tr>`;
}
