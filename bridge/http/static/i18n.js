// The page's words, Vietnamese first, and the plain-language reading of matching decisions.
"use strict";

const STRINGS = {
  vi: {
    title: "Liên thông văn bản", tab_overview: "Tổng quan", tab_documents: "Văn bản", tab_dead: "Thư chết",
    tab_quarantine: "Cách ly", tab_audit: "Nhật ký", switch_lang: "English",
    tab_directory: "Danh bạ cơ quan",
    directory_hint: "Danh bạ cơ quan đồng bộ từ trục liên thông. Chọn ngày để xem một mã nghĩa là cơ quan nào vào ngày đó.",
    directory_placeholder: "Mã (000.00.31.H59) hoặc tên cơ quan", directory_at: "Vào ngày",
    organ_code: "Mã hiện nay", organ_name: "Tên", old_codes: "Mã cũ", successor: "Cơ quan kế thừa", mail: "Thư điện tử công vụ",
    has_node: "Có trên trục", organ_state: "Tình trạng", organ_deleted: "Đã xóa khỏi danh bạ", organ_active: "Đang dùng",
    yes: "Có", no: "Không", from_date: "từ", last_sync: "Đồng bộ lần cuối", sync_version: "phiên bản",
    sync_failed: "Không đồng bộ được danh bạ (danh bạ cũ vẫn được dùng)", organs_count: "cơ quan",
    resolved_as: "Vào ngày {0}, {1} là", no_organs: "Không tìm thấy cơ quan nào.", configured: "theo cấu hình",
    banner_directory: "Không đồng bộ được danh bạ cơ quan, danh bạ cũ vẫn được dùng: {0}",
    token_prompt: "Nhập mã truy cập của dịch vụ", token_use: "Dùng mã này",
    all_areas: "Mọi huyện/khu vực", units_total: "{0} đơn vị", page_prev: "Trang trước", page_next: "Trang sau",
    page_of: "Đơn vị {0}–{1} trong {2}",
    received: "Đã nhận", documents: "Văn bản", duplicates: "Trùng (đường khác)", revisions: "Bản sửa",
    quarantined: "Cách ly", waiting: "Đang chờ", unprocessed: "Chưa xử lý", delivered: "Đã chuyển",
    pending: "Chờ chuyển", dead: "Thư chết",
    source: "Nhận từ", sink: "Chuyển đến", home: "hệ thống nhà", state: "Trạng thái", last_ok: "Thành công lần cuối",
    last_error: "Lỗi gần nhất", counts: "Số lượng", never: "chưa lần nào", none: "Không có.",
    updated: "Cập nhật lúc", stale: "Mất kết nối tới dịch vụ", ago_s: "vừa xong", ago_m: "phút trước",
    ago_h: "giờ trước", ago_d: "ngày trước",
    states: {unknown: "Chưa kết nối", ok: "Bình thường", backoff: "Đang thử lại", failing: "Hỏng", disabled: "Đã tắt"},
    search: "Tìm", search_placeholder: "Số/ký hiệu (335/UBND-HC), trích yếu hoặc cơ quan ban hành",
    state_any: "Mọi trạng thái", state_active: "Còn hiệu lực", state_revoked: "Đã thu hồi", all_units: "Mọi đơn vị",
    more: "Xem thêm", no_results: "Không tìm thấy văn bản nào.", partial_match: "khớp một phần", symbol: "Số/ký hiệu", date: "Ngày ban hành",
    issuer: "Cơ quan ban hành", subject: "Trích yếu", roads: "Đường đến", doc_state: "Tình trạng",
    back: "← Quay lại danh sách", type_name: "Loại văn bản", signer: "Người ký", priority: "Độ khẩn",
    confidentiality: "Độ mật", due_on: "Hạn xử lý", recipients: "Nơi nhận", attachments: "Tệp đính kèm",
    revision: "Phiên bản", records: "Các đường đến và lý do ghép", revisions_h: "Các lần sửa",
    conflicts_h: "Khác biệt giữa các đường", deliveries_h: "Chuyển đi", status_h: "Trạng thái xử lý",
    status_home: "Hệ thống nhà báo", status_sent: "Đã báo lại cho nơi gửi", received_at: "Nhận lúc",
    external_id: "Mã bên gửi", outcome: "Kết quả", why: "Vì sao", split: "Tách ra",
    split_confirm: "Tách bản ghi này thành văn bản riêng?", merge: "Gộp văn bản số", merge_btn: "Gộp vào đây",
    merge_confirm: "Gộp văn bản #{0} vào văn bản này?", sink_name: "Nơi nhận", op: "Thao tác",
    attempts: "Số lần thử", remote_id: "Mã bên nhận", answer_home: "Đã vào hệ thống nhà ({0}).",
    answer_pending: "Chưa vào hệ thống nhà: đang chờ chuyển.", answer_dead: "Chưa vào hệ thống nhà: chuyển không được.",
    answer_none: "Chưa có lượt chuyển nào (văn bản có thể đang bị giữ lại).", arrived_by: "Đến bằng {0} đường: {1}.",
    replay: "Gửi lại", replay_all: "Gửi lại tất cả", replayed: "Đã xếp {0} thư để gửi lại.",
    document: "Văn bản", kind: "Loại", reason: "Lý do", release: "Cho qua", retry: "Thử lại",
    release_confirm: "Cho qua bản ghi này? Văn bản sẽ được chuyển đi dù đang bị giữ lại.",
    release_secret_confirm: "Đây là văn bản MẬT. Chỉ cho qua khi đường truyền được phép mang văn bản mật. Tiếp tục?",
    released: "Đã cho qua.", retried: "Đã xếp để xử lý lại.", split_done: "Đã tách.", merge_done: "Đã gộp.",
    at: "Lúc", actor: "Người thực hiện", action: "Việc", target: "Đối tượng", detail: "Chi tiết",
    export: "Xuất danh sách văn bản đến (CSV)", from: "Từ ngày", to: "Đến ngày", download: "Tải về",
    dead_hint: "Văn bản không chuyển được sau nhiều lần thử. Sửa nguyên nhân (ví dụ hệ thống nhận từ chối), rồi bấm “Gửi lại”.",
    quarantine_hint: "Bản ghi được giữ lại, chưa chuyển đi. “Thử lại” xử lý lại bản ghi; “Cho qua” chuyển đi dù có lý do giữ lại.",
    banner_road: "Đường nhận {0} ({1}) đang hỏng{2}: {3}", banner_sink: "Không chuyển được vào {0} ({1}){2}: {3}",
    banner_task: "Tác vụ nền {0} bị lỗi, đang khởi động lại ({1} lần): {2}", banner_not_ready: "Dịch vụ chưa sẵn sàng.",
    banner_backoff: "{0} ({1}) đang lỗi và thử lại: {2}", banner_dead: "Có {0} thư chết chờ xử lý (thẻ “Thư chết”).",
    banner_alert: "Đã gửi cảnh báo (thư, webhook): {0}, từ {1}.",
    alert_kinds: { road_down: "đường nhận/chuyển hỏng lâu", dead_letters: "thư chết tăng", quarantine: "hồ sơ cách ly tăng", status_overdue: "chưa gửi 01 đúng hạn" },
    banner_disk: "Ổ đĩa dữ liệu đã dùng {0}%.", disk: "Ổ đĩa đã dùng", disk_data: "Dữ liệu của dịch vụ", since: " từ {0}", error_prefix: "Lỗi: ",
    kinds: {secret: "Văn bản mật", unreadable: "Không đọc được", review: "Cần người xem xét", signature: "Chữ ký số không hợp lệ"},
    outcomes: {document: "Văn bản mới", duplicate: "Trùng (đường khác)", revision: "Bản sửa", quarantined: "Cách ly",
               waiting: "Đang chờ", status: "Thông báo trạng thái", unprocessed: "Chưa xử lý"},
    delivery_states: {delivered: "đã chuyển", pending: "chờ chuyển", dead: "chuyển không được", cancelled: "đã hủy", sending: "đang chuyển"},
    ops: {create: "gửi mới", update: "cập nhật", revoke: "thu hồi", correct: "bổ sung, đính chính"},
    doc_states: {active: "còn hiệu lực", revoked: "đã thu hồi"},
    fields: {subject: "trích yếu", attachments: "tệp đính kèm", issued_on: "ngày", number: "số", notation: "ký hiệu", issuer: "cơ quan ban hành",
             signer: "người ký", type_name: "loại văn bản", due_on: "hạn xử lý", priority: "độ khẩn", recipients: "nơi nhận"},
    signatures: {valid: "chữ ký hợp lệ", invalid: "chữ ký sai (tệp bị sửa sau khi ký)", untrusted: "chữ ký không thuộc CA tin cậy", indeterminate: "chưa xác định được chữ ký", unsigned: "không ký số"},
    priorities: ["Thường", "Khẩn", "Thượng khẩn", "Hỏa tốc", "Hỏa tốc hẹn giờ"],
    secrecy: ["Thường", "Mật", "Tối mật", "Tuyệt mật"],
    home_status: {received: "đã nhận", assigned: "đã phân công", processing: "đang xử lý", done: "đã xử lý xong", rejected: "từ chối"},
  },
  en: {
    title: "Document interconnection", tab_overview: "Overview", tab_documents: "Documents", tab_dead: "Dead letters",
    tab_quarantine: "Quarantine", tab_audit: "Audit", switch_lang: "Tiếng Việt",
    tab_directory: "Organ directory",
    directory_hint: "The organ directory synced from the interconnection axis. Pick a date to see which organ a code meant that day.",
    directory_placeholder: "Code (000.00.31.H59) or organ name", directory_at: "On",
    organ_code: "Current code", organ_name: "Name", old_codes: "Old codes", successor: "Successor", mail: "Official mail",
    has_node: "On the axis", organ_state: "State", organ_deleted: "Deleted from the directory", organ_active: "In use",
    yes: "Yes", no: "No", from_date: "from", last_sync: "Last sync", sync_version: "version",
    sync_failed: "Directory sync failed (the last good directory stays in force)", organs_count: "organs",
    resolved_as: "On {0}, {1} was", no_organs: "No organ found.", configured: "configured",
    banner_directory: "Directory sync failed, the last good directory stays in force: {0}",
    token_prompt: "Enter the service's access token", token_use: "Use this token",
    all_areas: "All districts/areas", units_total: "{0} units", page_prev: "Previous page", page_next: "Next page",
    page_of: "Units {0}–{1} of {2}",
    received: "Received", documents: "Documents", duplicates: "Duplicates (other road)", revisions: "Revisions",
    quarantined: "Quarantined", waiting: "Waiting", unprocessed: "Unprocessed", delivered: "Delivered",
    pending: "Pending", dead: "Dead",
    source: "From", sink: "To", home: "home system", state: "State", last_ok: "Last success",
    last_error: "Last error", counts: "Counts", never: "never", none: "None.",
    updated: "Updated at", stale: "Lost contact with the service", ago_s: "just now", ago_m: "min ago",
    ago_h: "h ago", ago_d: "days ago",
    states: {unknown: "Not connected yet", ok: "Working", backoff: "Retrying", failing: "Down", disabled: "Disabled"},
    search: "Search", search_placeholder: "Number/notation (335/UBND-HC), subject or issuer",
    state_any: "Any state", state_active: "Active", state_revoked: "Revoked", all_units: "All units",
    more: "More", no_results: "No document found.", partial_match: "partial match", symbol: "Number/notation", date: "Issued on",
    issuer: "Issuer", subject: "Subject", roads: "Roads", doc_state: "State",
    back: "← Back to the list", type_name: "Type", signer: "Signed by", priority: "Priority",
    confidentiality: "Confidentiality", due_on: "Due", recipients: "Recipients", attachments: "Attachments",
    revision: "Revision", records: "Roads it came by, and why they were matched", revisions_h: "Revisions",
    conflicts_h: "Disagreements between roads", deliveries_h: "Deliveries", status_h: "Processing status",
    status_home: "Reported by the home system", status_sent: "Reported back to senders", received_at: "Received at",
    external_id: "Sender's id", outcome: "Outcome", why: "Why", split: "Split off",
    split_confirm: "Split this record off into a document of its own?", merge: "Merge document no.", merge_btn: "Merge into this one",
    merge_confirm: "Merge document #{0} into this one?", sink_name: "Sink", op: "Operation",
    attempts: "Attempts", remote_id: "Remote id", answer_home: "In the home system ({0}).",
    answer_pending: "Not in the home system yet: delivery pending.", answer_dead: "Not in the home system: delivery failed.",
    answer_none: "No delivery yet (the document may be held back).", arrived_by: "Arrived by {0} road(s): {1}.",
    replay: "Replay", replay_all: "Replay all", replayed: "{0} queued for another try.",
    document: "Document", kind: "Kind", reason: "Reason", release: "Release", retry: "Retry",
    release_confirm: "Release this record? The document will be delivered despite why it was held.",
    release_secret_confirm: "This is a SECRET document. Release it only if the link may carry secret documents. Continue?",
    released: "Released.", retried: "Queued for reprocessing.", split_done: "Split.", merge_done: "Merged.",
    at: "At", actor: "Actor", action: "Action", target: "Target", detail: "Detail",
    export: "Export received documents (CSV)", from: "From", to: "To", download: "Download",
    dead_hint: "Documents that could not be delivered after many tries. Fix the cause (say the receiving system refused them), then press “Replay”.",
    quarantine_hint: "Records held back, not delivered. “Retry” processes the record again; “Release” delivers it despite why it was held.",
    banner_road: "Road {0} ({1}) is down{2}: {3}", banner_sink: "Cannot deliver to {0} ({1}){2}: {3}",
    banner_task: "Background task {0} failed, restarting ({1} restarts): {2}", banner_not_ready: "The service is not ready.",
    banner_backoff: "{0} ({1}) is failing and retrying: {2}", banner_dead: "{0} dead letter(s) waiting (see “Dead letters”).",
    banner_alert: "Alert sent (mail, webhook): {0}, since {1}.",
    alert_kinds: { road_down: "road down too long", dead_letters: "dead letters growing", quarantine: "quarantine growing", status_overdue: "01 not sent in time" },
    banner_disk: "The data disk is {0}% full.", disk: "Disk used", disk_data: "The service's data", since: " since {0}", error_prefix: "Error: ",
    kinds: {secret: "Secret document", unreadable: "Unreadable", review: "Needs review", signature: "Invalid digital signature"},
    outcomes: {document: "New document", duplicate: "Duplicate (other road)", revision: "Revision", quarantined: "Quarantined",
               waiting: "Waiting", status: "Status message", unprocessed: "Unprocessed"},
    delivery_states: {delivered: "delivered", pending: "pending", dead: "failed for good", cancelled: "cancelled", sending: "sending"},
    ops: {create: "create", update: "update", revoke: "revoke", correct: "correction"},
    doc_states: {active: "active", revoked: "revoked"},
    fields: {subject: "subject", attachments: "attachments", issued_on: "date", number: "number", notation: "notation", issuer: "issuer",
             signer: "signer", type_name: "type", due_on: "due date", priority: "priority", recipients: "recipients"},
    signatures: {valid: "valid signature", invalid: "invalid signature (changed after signing)", untrusted: "signature from an untrusted CA", indeterminate: "signature undecided", unsigned: "not signed"},
    priorities: ["Normal", "Urgent", "Very urgent", "Flash", "Flash, timed"],
    secrecy: ["Normal", "Confidential", "Secret", "Top secret"],
    home_status: {received: "received", assigned: "assigned", processing: "processing", done: "done", rejected: "rejected"},
  },
};

const ROAD_NAMES = {
  moffice: "M-Office", idesk: "iDesk", tdoffice: "TDOffice", voffice: "V-Office",
  vxp: {vi: "Trục liên thông (edXML)", en: "National axis (edXML)"},
  mailbox: {vi: "Hộp thư công vụ", en: "Official mailbox"}, folder: {vi: "Thư mục", en: "Drop folder"},
};

function roadName(profile, lang) {
  const n = ROAD_NAMES[profile];
  if (!n) return profile || "?";
  return typeof n === "string" ? n : n[lang];
}

function fmt(template, ...args) {
  return template.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ""));
}

// Sentences for each matching rule of bridge/dedup.py (RULES) and bridge/pipeline.py.
// A decision has rule, candidate, matched, differed, key {triple, issuer_code, issuer_name},
// and maybe near [{candidate, differed}], older_revision, learned, revision {from, to}, reason.
const RULES = {
  vi: {
    new: (d) => tripleOf(d) ? "Văn bản mới: chưa có văn bản nào cùng số, ký hiệu, ngày và cơ quan ban hành."
      : "Văn bản mới (không có số/ký hiệu): không trùng tệp đính kèm với văn bản nào.",
    identity: (d) => `Cùng văn bản #${d.candidate}: cùng số, ký hiệu, ngày và cơ quan ban hành (${issuerHow(d, "vi")}).`,
    attachments: (d) => `Cùng văn bản #${d.candidate}: không có số/ký hiệu nhưng cùng tệp đính kèm (SHA-256).`,
    override: (d) => d.candidate ? `Người vận hành đã gộp bản ghi này vào văn bản #${d.candidate}.`
      : "Người vận hành đã tách bản ghi này thành văn bản riêng.",
    revision: (d) => `Bản sửa của văn bản #${d.candidate}` + revisionSpan(d) + (d.action ? ` (${d.action === "replace" ? "thay thế" : "cập nhật"})` : "") + ".",
    revocation: (d) => `Thu hồi văn bản #${d.candidate}.` + (d.reason ? ` Lý do: ${d.reason}` : ""),
    revocation_repeat: (d) => `Thu hồi lặp lại: văn bản #${d.candidate} đã bị thu hồi trước đó.`,
    held_merged: (d) => `Bản ghi đang chờ xem xét được ghép vào văn bản #${d.candidate} vì cùng tệp đính kèm.`,
    waiting_for_target: () => "Đang chờ văn bản gốc mà bản ghi này sửa hoặc thu hồi.",
    take_back: (d) => `Nơi gửi lấy lại văn bản #${d.candidate}: đã đồng ý.`,
    take_back_refused: (d) => `Nơi gửi xin lấy lại văn bản #${d.candidate}: từ chối vì đã xử lý xong.`,
    take_back_unknown: () => "Nơi gửi xin lấy lại một văn bản không có ở đây.",
    secret: () => "Văn bản mật: giữ lại, không chuyển qua mạng thông thường.",
    review: (d) => "Giữ lại để người xem xét" + (d.reason ? `: ${d.reason}` : " (thiếu số hoặc ngày ban hành)."),
    unreadable: () => "Không đọc được bản ghi này.",
    status_received: (d) => `Thông báo trạng thái xử lý (mã ${d.code}).`,
  },
  en: {
    new: (d) => tripleOf(d) ? "New document: no earlier document with the same number, notation, date and issuer."
      : "New document (no number/notation): its attachments match no known document.",
    identity: (d) => `Same document as #${d.candidate}: same number, notation, date and issuer (${issuerHow(d, "en")}).`,
    attachments: (d) => `Same document as #${d.candidate}: no number/notation, but the same attachments (SHA-256).`,
    override: (d) => d.candidate ? `An operator merged this record into document #${d.candidate}.`
      : "An operator split this record off into a document of its own.",
    revision: (d) => `Revision of document #${d.candidate}` + revisionSpan(d) + (d.action ? ` (${d.action})` : "") + ".",
    revocation: (d) => `Revokes document #${d.candidate}.` + (d.reason ? ` Reason: ${d.reason}` : ""),
    revocation_repeat: (d) => `Repeated revocation: document #${d.candidate} was already revoked.`,
    held_merged: (d) => `A record held for review joined document #${d.candidate}: the same attachments.`,
    waiting_for_target: () => "Waiting for the original document this record changes or revokes.",
    take_back: (d) => `The sender took back document #${d.candidate}: agreed.`,
    take_back_refused: (d) => `The sender asked to take back document #${d.candidate}: refused, already done.`,
    take_back_unknown: () => "The sender asked to take back a document that is not here.",
    secret: () => "Secret document: held back, never sent over ordinary networks.",
    review: (d) => "Held for a person to review" + (d.reason ? `: ${d.reason}` : " (number or issue date missing)."),
    unreadable: () => "This record could not be read.",
    status_received: (d) => `Processing status message (code ${d.code}).`,
  },
};

const ISSUER_HOW = {
  vi: {issuer_code: "so theo mã cơ quan", issuer_code_alias: "so theo mã cơ quan, kể cả mã cũ", issuer_name: "so theo tên cơ quan"},
  en: {issuer_code: "compared by organ code", issuer_code_alias: "compared by organ code, former codes included", issuer_name: "compared by organ name"},
};

const tripleOf = (d) => (d.key && d.key.triple) || d.triple || null;

function issuerHow(d, lang) {
  const matched = d.matched || [];
  const how = ["issuer_code", "issuer_code_alias", "issuer_name"].find((k) => matched.includes(k)) || "issuer_name";
  return ISSUER_HOW[lang][how];
}

function revisionSpan(d) {
  const from = d.revision ? d.revision.from : d.from;
  const to = d.revision ? d.revision.to : d.to;
  return from && to ? ` (${from} → ${to})` : "";
}

const fieldNames = (list, lang) => list.map((f) => STRINGS[lang].fields[f] || f).join(", ");

/** Readable sentences for a record's `decision` object: the rule, then what differed or was near. */
function explainDecision(decision, lang) {
  if (!decision || typeof decision !== "object") return "—";
  const vi = lang === "vi";
  const rule = RULES[lang][decision.rule];
  const parts = [rule ? rule(decision) : (vi ? "Quy tắc: " : "Rule: ") + String(decision.rule || "?") + "."];
  const differed = decision.differed || [];
  if (differed.length) {
    const names = fieldNames(differed, lang);
    parts.push(vi ? `Khác nhau ở: ${names} (ghi ở mục khác biệt).` : `Differs in: ${names} (see disagreements).`);
  }
  if (decision.older_revision) parts.push(vi ? "Đường này mang phiên bản cũ hơn." : "This road carries an older revision.");
  if ((decision.learned || []).length) {
    const names = fieldNames(decision.learned, lang);
    parts.push(vi ? `Bổ sung từ đường này: ${names}.` : `Filled in from this road: ${names}.`);
  }
  for (const n of decision.near || []) {
    const names = fieldNames(n.differed || [], lang);
    parts.push(vi ? `Đã xét văn bản #${n.candidate} nhưng khác ở: ${names}.` : `Considered document #${n.candidate}, but it differs in: ${names}.`);
  }
  return parts.join(" ");
}
