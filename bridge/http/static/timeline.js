// A document's timeline ("Diễn biến"): every record, decision, delivery, correction, status in
// and out and operator action, in time order, with times in Vietnam's time zone.
"use strict";

Object.assign(STRINGS.vi, {
  timeline_h: "Diễn biến", no_time: "chưa có giờ",
  tl: {
    record: "Nhận từ {0} (mã bên gửi {1})",
    decision: "Ghép: {0}", decision_with: "Ghép: {0}, với văn bản #{1}", corrected: "; bổ sung: {0}",
    delivery_queued: "Xếp chuyển vào {0}: {1}", delivery_done: "{0}: {1} sau {2} lần thử",
    delivery_retrying: "{0}: đang thử lại ({1} lần)", remote: " — mã bên nhận {0}",
    status_in: "{0} báo: {1}", status_out: "Báo lại cho {0}: {1} {2} — {3}", action: "{0}: {1} ({2})",
  },
  status_out_states: {pending: "chờ gửi", sent: "đã gửi", dead: "không gửi được"},
});
Object.assign(STRINGS.en, {
  timeline_h: "Timeline", no_time: "no time yet",
  tl: {
    record: "Received from {0} (sender's id {1})",
    decision: "Matched: {0}", decision_with: "Matched: {0}, with document #{1}", corrected: "; filled in: {0}",
    delivery_queued: "Queued for {0}: {1}", delivery_done: "{0}: {1} after {2} attempt(s)",
    delivery_retrying: "{0}: retrying ({1} attempts)", remote: " — remote id {0}",
    status_in: "{0} reports: {1}", status_out: "Status to {0}: {1} {2} — {3}", action: "{0}: {1} ({2})",
  },
  status_out_states: {pending: "pending", sent: "sent", dead: "not sent"},
});

const TL_TIME = {timeZone: "Asia/Ho_Chi_Minh", dateStyle: "short", timeStyle: "medium"};

function timelineTime(iso) {
  if (!iso) return t("no_time");
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString(lang === "vi" ? "vi-VN" : "en-GB", TL_TIME);
}

/** One entry in the page's words. */
function timelineText(e) {
  const s = STRINGS[lang];
  const tl = s.tl;
  const op = (x) => s.ops[x] || x;
  switch (e.kind) {
    case "record": return fmt(tl.record, e.source, e.external_id);
    case "decision": {
      const outcome = s.outcomes[e.outcome] || e.outcome || "—";
      const head = e.candidate ? fmt(tl.decision_with, outcome, e.candidate) : fmt(tl.decision, outcome);
      const fields = (e.corrected || []).map((c) => s.fields[c.field] || c.field).join(", ");
      return head + (fields ? fmt(tl.corrected, fields) : "");
    }
    case "delivery_queued": return fmt(tl.delivery_queued, e.sink, op(e.op)) + (e.note ? ` — ${e.note}` : "");
    case "delivery_done":
      return fmt(tl.delivery_done, e.sink, `${op(e.op)} ${s.delivery_states[e.state] || e.state}`, e.attempts)
        + (e.remote_id ? fmt(tl.remote, e.remote_id) : "") + (e.last_error ? ` — ${e.last_error}` : "");
    case "delivery_retrying": return fmt(tl.delivery_retrying, e.sink, e.attempts) + (e.last_error ? ` — ${e.last_error}` : "");
    case "status_in": return fmt(tl.status_in, e.sink, s.home_status[e.status] || e.status) + (e.note ? ` — ${e.note}` : "");
    case "status_out": return fmt(tl.status_out, e.source, e.code, e.description, s.status_out_states[e.state] || e.state);
    case "action": return fmt(tl.action, e.actor, e.action, e.target);
    default: return e.kind;
  }
}

function timelineList(entries) {
  if (!entries || !entries.length) return "";
  return `<h3>${esc(t("timeline_h"))}</h3><ol class="timeline" id="doc-timeline">${entries.map((e) =>
    `<li class="tl" data-kind="${esc(e.kind)}"><time datetime="${esc(e.at || "")}">${esc(timelineTime(e.at))}</time> ${esc(timelineText(e))}</li>`).join("")}</ol>`;
}
