// "Văn bản đi / Outgoing": each outgoing document and, per recipient, the road it took and why,
// its state, the last status code and the time since sending; the paper dispatches to do;
// retry and cancel of a recipient. Everything the server sends is escaped.
"use strict";

Object.assign(STRINGS.vi, {
  tab_outgoing: "Văn bản đi", out_hint: "Mỗi văn bản đi và từng nơi nhận: đường gửi, trạng thái, mã trạng thái cuối, thời gian từ lúc gửi.",
  out_document: "Văn bản", out_recipient: "Nơi nhận", out_road: "Đường gửi", out_state: "Trạng thái",
  out_code: "Mã cuối", out_since: "Từ lúc gửi", out_refused: "Không gửi", out_paper: "Việc gửi bản giấy cần làm",
  out_retry: "Thử lại", out_cancel: "Hủy, gửi bản giấy", out_none: "Chưa có văn bản đi", out_done: "Đã ghi nhận",
  road_internal: "nội bộ", road_axis: "trục liên thông", road_mail: "thư công vụ", road_paper: "bản giấy",
});
Object.assign(STRINGS.en, {
  tab_outgoing: "Outgoing", out_hint: "Each outgoing document and each recipient: the road, the state, the last status code, the time since sending.",
  out_document: "Document", out_recipient: "Recipient", out_road: "Road", out_state: "State",
  out_code: "Last code", out_since: "Since sent", out_refused: "Never sent", out_paper: "Paper dispatches to do",
  out_retry: "Retry", out_cancel: "Cancel, send on paper", out_none: "No outgoing documents yet", out_done: "Done",
  road_internal: "internal", road_axis: "axis", road_mail: "mail", road_paper: "paper",
});

const outgoingView = {docs: [], paper: []};

async function loadOutgoing() {
  const [docs, paper] = await Promise.all([api("/outgoing?limit=100"), api("/outgoing/paper")]);
  outgoingView.docs = docs.items;
  outgoingView.paper = paper.items;
  renderOutgoing();
}

function recipientRow(doc, r) {
  const road = r.road ? t("road_" + r.road) : "—";
  const acts = r.road && r.road !== "paper" && !["done", "refused", "failed", "undeliverable"].includes(r.state)
    ? `<button type="button" class="out-cancel secondary" data-doc="${esc(doc.id)}" data-code="${esc(r.code)}">${esc(t("out_cancel"))}</button>` : "";
  const retry = ["queued", "failed", "undeliverable"].includes(r.state) && (r.failed_roads.length || r.state === "queued")
    ? `<button type="button" class="out-retry secondary" data-doc="${esc(doc.id)}" data-code="${esc(r.code)}">${esc(t("out_retry"))}</button>` : "";
  return `<tr class="out-recipient" data-state="${esc(r.state)}"><td></td><td>${esc(r.name || r.code)} <small>${esc(r.code)}</small></td>`
    + `<td title="${esc(r.why || "")}">${esc(road)}</td><td>${esc(r.state)}</td><td>${esc(r.status_code || "")}</td>`
    + `<td>${r.sent_at ? when(r.sent_at) : ""}</td><td>${retry}${acts}</td></tr>`;
}

function renderOutgoing() {
  const table = $("outgoing");
  if (!table) return;
  const head = `<tr><th>${esc(t("out_document"))}</th><th>${esc(t("out_recipient"))}</th><th>${esc(t("out_road"))}</th>`
    + `<th>${esc(t("out_state"))}</th><th>${esc(t("out_code"))}</th><th>${esc(t("out_since"))}</th><th></th></tr>`;
  const rows = outgoingView.docs.map((d) => {
    const title = `${esc(d.number || "?")}/${esc(d.notation || "?")} — ${esc(d.subject || "")}`;
    const refused = d.refused ? ` <span class="bad">${esc(t("out_refused"))}: ${esc(d.refused)}</span>` : "";
    return `<tr class="out-doc"><td colspan="7"><b>${title}</b> <small>${esc(d.unit)} · v${esc(d.version)}</small>${refused}</td></tr>`
      + d.recipients.map((r) => recipientRow(d, r)).join("");
  });
  table.innerHTML = head + (rows.length ? rows.join("") : `<tr><td colspan="7">${esc(t("out_none"))}</td></tr>`);
  $("paper").innerHTML = outgoingView.paper.map((p) =>
    `<li>${esc(p.name || p.code)} <small>${esc(p.code)} · ${esc(p.kind)} v${esc(p.version)} · ${esc(clock(p.created_at))}</small></li>`).join("");
}

document.addEventListener("click", (ev) => {
  const el = ev.target.closest("button");
  if (!el) return;
  if (el.classList.contains("tab") && el.dataset.tab === "outgoing") loadOutgoing().catch(showError);
  const action = el.classList.contains("out-retry") ? "retry" : el.classList.contains("out-cancel") ? "cancel" : null;
  if (!action) return;
  el.disabled = true;
  api(`/outgoing/${encodeURIComponent(el.dataset.doc)}/recipients/${encodeURIComponent(el.dataset.code)}/${action}`, {method: "POST"})
    .then(() => { toast(t("out_done")); return loadOutgoing(); })
    .catch(showError);
});

setInterval(() => { if (!document.hidden && view.tab === "outgoing") loadOutgoing().catch(() => {}); }, POLL_MS);
