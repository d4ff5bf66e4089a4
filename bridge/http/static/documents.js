// Documents: search, one document with its roads and the reasoning, split/merge, CSV export.
"use strict";

let searchSeq = 0;  // only the latest search may fill the list (the tab lists on opening)

async function search(append = false) {
  const seq = ++searchSeq;
  const query = new URLSearchParams({limit: "50"});
  const q = $("q").value.trim();
  if (q) query.set("q", q);
  if ($("unit-filter").value) query.set("unit", $("unit-filter").value);
  if ($("state-filter").value) query.set("state", $("state-filter").value);
  if (append && view.nextCursor) query.set("cursor", view.nextCursor);
  const r = await api("/documents?" + query);
  if (seq !== searchSeq) return;
  view.docs = append ? view.docs.concat(r.items) : r.items;
  view.nextCursor = r.next_cursor;
  view.searched = true;
  renderDocs();
}

function renderDocs() {
  $("more").hidden = !view.nextCursor;
  if (!view.searched) return;
  const head = `<tr><th>${esc(t("symbol"))}</th><th>${esc(t("date"))}</th><th class="hide-narrow">${esc(t("issuer"))}</th>
    <th>${esc(t("subject"))}</th><th>${esc(t("roads"))}</th></tr>`;
  $("docs").innerHTML = view.docs.length ? head + view.docs.map((d) => `<tr class="docrow" data-id="${esc(d.id)}">
    <td><a href="#doc-${esc(d.id)}" class="doclink" data-id="${esc(d.id)}">${esc(d.symbol || "#" + d.id)}</a>
      ${d.match === "partial" ? `<br><span class="muted partial">${esc(t("partial_match"))}</span>` : ""}
      ${d.state === "revoked" ? `<br><span class="err">${esc(STRINGS[lang].doc_states.revoked)}</span>` : ""}</td>
    <td>${esc(d.issued_on)}</td><td class="hide-narrow">${esc(d.issuer.name || d.issuer.code)}</td><td>${esc(d.subject)}</td>
    <td>${esc(d.roads.map(systemName).join(", "))}</td></tr>`).join("")
    : `<tr><td>${esc(t("no_results"))}</td></tr>`;
}

async function openDoc(id) {
  showTab("documents");
  view.doc = await api("/documents/" + encodeURIComponent(id));
  renderDoc(view.doc);
  $("doc").scrollIntoView({block: "start"});
}

function closeDoc() {
  view.doc = null;
  $("doc").hidden = true;
  if (location.hash.startsWith("#doc-")) history.replaceState(null, "", location.pathname + location.search);
}

/** The operator's question first: is it in the home system, and by which roads did it come. */
function answerOf(d) {
  const homes = homeSinks();
  const creates = d.deliveries.filter((x) => x.op === "create" && (!homes.size || homes.has(x.sink)));
  const delivered = creates.find((x) => x.state === "delivered");
  const roads = [...new Set(d.records.map((r) => systemName(r.source)))];
  const arrived = fmt(t("arrived_by"), roads.length, roads.join(", "));
  if (delivered) return ["", fmt(t("answer_home"), reachedHomes(d) || systemName(delivered.sink)) + " " + arrived];
  if (creates.some((x) => x.state === "dead")) return ["bad", t("answer_dead") + " " + arrived];
  if (creates.length) return ["no", t("answer_pending") + " " + arrived];
  return ["no", t("answer_none") + " " + arrived];
}

function homeSinks() {
  const units = view.status ? view.status.units : [];
  return new Set(units.filter((u) => u.sinks.length).map((u) => u.sinks[0].name));
}

function renderDoc(d) {
  const doc = d.document;
  const [cls, answer] = answerOf(d);
  const el = $("doc");
  el.hidden = false;
  el.dataset.id = d.id;
  el.innerHTML = `<button type="button" class="secondary" id="doc-back">${esc(t("back"))}</button>
    <h2 id="doc-title">${esc(d.symbol || "#" + d.id)} — ${esc(d.subject)}</h2>
    <p class="answer ${cls}" id="doc-answer">${esc(answer)}</p>
    ${fieldList(d, doc)}
    <h3>${esc(t("records"))}</h3><div class="scroll"><table id="doc-records">${recordRows(d)}</table></div>
    <div class="actions"><label for="merge-id">${esc(t("merge"))}</label><input id="merge-id" type="number" min="1">
      <button type="button" id="merge" class="secondary">${esc(t("merge_btn"))}</button></div>
    ${conflictList(d.conflicts)}
    <h3>${esc(t("deliveries_h"))}</h3><div class="scroll"><table id="doc-deliveries">${deliveryRows(d.deliveries)}</table></div>
    ${statusList(d.status)}
    ${revisionList(d.revisions)}
    ${timelineList(d.timeline)}`;
}

function fieldList(d, doc) {
  const signer = doc.signer ? [doc.signer.competence, doc.signer.position, doc.signer.name].filter(Boolean).join(" — ") : "";
  const rows = [
    ["symbol", d.symbol], ["date", doc.issued_on], ["issuer", [doc.issuer.name, doc.issuer.code].filter(Boolean).join(" · ")],
    ["type_name", doc.type_name], ["subject", doc.subject], ["signer", signer],
    ["priority", STRINGS[lang].priorities[doc.priority]], ["confidentiality", STRINGS[lang].secrecy[doc.confidentiality]],
    ["due_on", doc.due_on], ["recipients", (doc.recipients || []).map((r) => r.name || r.code).join("; ")],
    ["doc_state", STRINGS[lang].doc_states[d.state] || d.state], ["revision", d.revision],
  ].filter(([, v]) => v !== null && v !== undefined && v !== "");
  const files = (doc.attachments || []).map((a) => `<li>${esc(a.name)} <span class="muted">(${esc(kb(a.size))}${
    a.signature ? ", " + esc(STRINGS[lang].signatures[a.signature.status] || a.signature.status) + (a.signature.signer ? " — " + esc(a.signature.signer) : "") : ""})</span></li>`).join("");
  return `<dl class="fields" id="doc-fields">${rows.map(([k, v]) => `<dt>${esc(t(k))}</dt><dd>${esc(v)}</dd>`).join("")}
    ${files ? `<dt>${esc(t("attachments"))}</dt><dd><ul>${files}</ul></dd>` : ""}</dl>`;
}

const kb = (n) => n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";

function recordRows(d) {
  const canSplit = d.records.length > 1;
  const head = `<tr><th>${esc(t("roads"))}</th><th>${esc(t("received_at"))}</th><th>${esc(t("outcome"))}</th><th>${esc(t("why"))}</th><th></th></tr>`;
  return head + d.records.map((r) => `<tr class="record" data-id="${esc(r.id)}" data-source="${esc(r.source)}">
    <td><b>${esc(systemName(r.source))}</b><br><span class="muted">${esc(t("external_id"))}: ${esc(r.external_id)}</span></td>
    <td>${esc(clock(r.received_at))}</td><td>${esc(STRINGS[lang].outcomes[r.outcome] || r.outcome)}</td>
    <td><p class="why">${esc(explainDecision(r.decision, lang))}</p>
      <details class="raw"><summary>JSON</summary><pre>${esc(JSON.stringify(r.decision, null, 2))}</pre></details></td>
    <td>${canSplit ? `<button type="button" class="split secondary" data-id="${esc(r.id)}">${esc(t("split"))}</button>` : ""}</td></tr>`).join("");
}

function deliveryRows(list) {
  if (!list.length) return `<tr><td>${esc(t("none"))}</td></tr>`;
  const head = `<tr><th>${esc(t("sink_name"))}</th><th>${esc(t("op"))}</th><th>${esc(t("state"))}</th><th>${esc(t("attempts"))}</th><th>${esc(t("remote_id"))}</th></tr>`;
  return head + list.map((x) => `<tr class="delivery" data-state="${esc(x.state)}"><td>${esc(systemName(x.sink))}</td>
    <td>${esc(STRINGS[lang].ops[x.op] || x.op)} (${esc(x.revision)})</td>
    <td>${esc(STRINGS[lang].delivery_states[x.state] || x.state)}${x.last_error ? `<br><span class="err">${esc(x.last_error)}</span>` : ""}</td>
    <td class="num">${esc(x.attempts)}</td><td>${esc(x.remote_id || "")}</td></tr>`).join("");
}

function conflictList(conflicts) {
  if (!conflicts || !conflicts.length) return "";
  return `<h3>${esc(t("conflicts_h"))}</h3><ul id="doc-conflicts">${conflicts.map((c) => `<li><b>${esc(c.source)}</b>: ${
    (c.fields || []).map((f) => `${esc(STRINGS[lang].fields[f] || f)} = ${esc(JSON.stringify((c.values || {})[f]))}`).join("; ")}</li>`).join("")}</ul>`;
}

function statusList(status) {
  if (!status) return "";
  const home = (status.home || []).map((h) => `<li>${esc(h.sink)}: ${esc(STRINGS[lang].home_status[h.status] || h.status)}${
    h.note ? " — " + esc(h.note) : ""} <span class="muted">${esc(clock(h.updated_at))}</span></li>`).join("");
  const sent = (status.sent || []).map((s) => `<li>${esc(s.source)}: ${esc(s.code)} ${esc(s.description)} — ${esc(s.state)}${
    s.last_error ? ` <span class="err">${esc(s.last_error)}</span>` : ""}</li>`).join("");
  if (!home && !sent) return "";
  return `<h3>${esc(t("status_h"))}</h3>${home ? `<p>${esc(t("status_home"))}</p><ul id="doc-status-home">${home}</ul>` : ""}
    ${sent ? `<p>${esc(t("status_sent"))}</p><ul id="doc-status-sent">${sent}</ul>` : ""}`;
}

function revisionList(revisions) {
  if (!revisions || revisions.length < 2) return "";
  return `<h3>${esc(t("revisions_h"))}</h3><ul id="doc-revisions">${revisions.map((r) =>
    `<li>${esc(t("revision"))} ${esc(r.revision)} — ${esc(clock(r.created_at))}</li>`).join("")}</ul>`;
}

async function splitRecord(recordId) {
  if (!view.doc || !confirm(t("split_confirm"))) return;
  await api(`/documents/${view.doc.id}/split`, {method: "POST", body: {record_id: Number(recordId)}});
  toast(t("split_done"));
  await openDoc(view.doc.id);
}

async function mergeDocument() {
  const other = Number($("merge-id").value);
  if (!view.doc || !other || !confirm(fmt(t("merge_confirm"), other))) return;
  await api(`/documents/${view.doc.id}/merge`, {method: "POST", body: {other_id: other}});
  toast(t("merge_done"));
  await openDoc(view.doc.id);
}

async function exportCsv(ev) {
  ev.preventDefault();
  const query = new URLSearchParams({from: $("export-from").value, to: $("export-to").value});
  if ($("unit-filter").value) query.set("unit", $("unit-filter").value);
  const blob = await api("/export.csv?" + query);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `van-ban-den_${query.get("from")}_${query.get("to")}.csv`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}
