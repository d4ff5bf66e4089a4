// The organ directory: organs by code or name, what a code meant on a date, the last sync.
"use strict";

let directorySeq = 0;  // only the latest look-up may fill the table

async function loadDirectory() {
  const seq = ++directorySeq;
  const query = new URLSearchParams();
  const q = $("directory-q").value.trim();
  const at = $("directory-at").value;
  if (q) query.set("q", q);
  if (at) query.set("at", at);
  const r = await api("/directory?" + query);
  if (seq !== directorySeq) return;
  view.directory = r;
  renderDirectory();
}

function directorySync(s) {
  const parts = [`${t("last_sync")}: ${s.synced_at ? clock(s.synced_at) : t("never")}`];
  if (s.version != null) parts.push(`${t("sync_version")} ${s.version}`);
  parts.push(`${s.organs} ${t("organs_count")}`);
  const line = esc(parts.join(" · "));
  return s.last_error ? `${line}<br><span class="err">${esc(t("sync_failed"))}: ${esc(s.last_error)}</span>` : line;
}

function organRow(o) {
  const successor = o.successor
    ? esc(o.successor) + (o.successor_from ? ` (${esc(t("from_date"))} ${esc(o.successor_from)})` : "") : "—";
  const state = o.deleted
    ? `<span class="err">${esc(t("organ_deleted"))}${o.deleted_on ? " " + esc(o.deleted_on) : ""}</span>`
    : esc(t("organ_active"));
  const names = o.names.length > 1
    ? `<br><span class="muted">${o.names.map((n) => esc(n.name) + (n.from ? ` (${esc(t("from_date"))} ${esc(n.from)})` : "")).join("; ")}</span>`
    : "";
  const origin = o.from_configuration ? ` <span class="muted">(${esc(t("configured"))})</span>` : "";
  return `<tr class="organ${o.deleted ? " deleted" : ""}" data-code="${esc(o.code)}">
    <td>${esc(o.code)}${o.other_form ? `<br><span class="muted">${esc(o.other_form)}</span>` : ""}</td>
    <td>${esc(o.name || "")}${origin}${names}</td><td>${esc(o.old_codes.join(", ") || "—")}</td>
    <td class="successor">${successor}</td><td class="hide-narrow">${esc(o.mail || "—")}</td>
    <td>${esc(o.has_node ? t("yes") : t("no"))}</td><td>${state}</td></tr>`;
}

function renderDirectory() {
  const r = view.directory;
  if (!r) return;
  $("directory-sync").innerHTML = directorySync(r.sync);
  const resolved = $("directory-resolved");
  resolved.hidden = !r.resolved;
  if (r.resolved) {
    const day = r.at || new Date().toISOString().slice(0, 10);
    const who = r.resolved.code ? `${r.resolved.code}${r.resolved.name ? " — " + r.resolved.name : ""}` : "?";
    resolved.innerHTML = `${esc(fmt(t("resolved_as"), day, r.q))} <b id="directory-answer">${esc(who)}</b>
      <br><span class="muted">${esc(r.resolved.reason)}</span>`;
  }
  const head = `<tr><th>${esc(t("organ_code"))}</th><th>${esc(t("organ_name"))}</th><th>${esc(t("old_codes"))}</th>
    <th>${esc(t("successor"))}</th><th class="hide-narrow">${esc(t("mail"))}</th><th>${esc(t("has_node"))}</th>
    <th>${esc(t("organ_state"))}</th></tr>`;
  $("directory").innerHTML = r.organs.length ? head + r.organs.map(organRow).join("")
    : `<tr><td>${esc(t("no_organs"))}</td></tr>`;
}
