// An operator's controls on the overview: pause, resume and poll now for a source, retry now
// for a sink. Each is a POST the server audits under the operator's name; the result is shown.
"use strict";

Object.assign(STRINGS.vi, {
  paused: "Tạm dừng", pause: "Tạm dừng", resume: "Tiếp tục", poll_now: "Lấy ngay", retry_now: "Gửi lại ngay",
  pause_confirm: "Tạm dừng nhận văn bản từ {0}? Văn bản mới sẽ chờ ở nơi gửi cho tới khi bấm “Tiếp tục”.",
  paused_done: "Đã tạm dừng {0}.", paused_already: "{0} đang tạm dừng.", resumed_done: "Đã cho {0} tiếp tục.",
  polled_done: "Đang lấy văn bản từ {0}.", poll_while_paused: "{0} đang tạm dừng: bấm “Tiếp tục” trước.",
  retried_done: "Đã xếp {1} văn bản chuyển lại ngay vào {0}.",
});
Object.assign(STRINGS.en, {
  paused: "Paused", pause: "Pause", resume: "Resume", poll_now: "Poll now", retry_now: "Retry now",
  pause_confirm: "Pause receiving documents from {0}? New documents wait at the sender until you press “Resume”.",
  paused_done: "{0} paused.", paused_already: "{0} is already paused.", resumed_done: "{0} resumed.",
  polled_done: "Polling {0} now.", poll_while_paused: "{0} is paused: resume it first.",
  retried_done: "{1} deliveries to {0} are due now.",
});

/** The state cell of an endpoint: a paused source says so rather than its last health. */
function stateLabel(e) {
  if (e.paused) return `<span class="state disabled paused">${esc(t("paused"))}</span>`;
  return `<span class="state ${esc(e.state)}">${esc(STRINGS[lang].states[e.state] || e.state)}</span>`;
}

/** The buttons of one endpoint row. */
function controlsOf(e, role) {
  const name = esc(e.name);
  const button = (action, cls) =>
    `<button type="button" class="control ${cls}" data-action="${action}" data-name="${name}">${esc(t(action))}</button>`;
  if (role === "sink") return button("retry_now", "secondary");
  return (e.paused ? button("resume", "") : button("pause", "danger")) + " " + button("poll_now", "secondary");
}

const CONTROL_PATHS = {pause: "sources/{0}/pause", resume: "sources/{0}/resume", poll_now: "sources/{0}/poll", retry_now: "sinks/{0}/retry"};

function controlMessage(action, r) {
  if (action === "pause") return fmt(t(r.changed ? "paused_done" : "paused_already"), r.name);
  if (action === "resume") return fmt(t("resumed_done"), r.name);
  if (action === "poll_now") return fmt(t(r.paused ? "poll_while_paused" : "polled_done"), r.name);
  return fmt(t("retried_done"), r.name, r.released);
}

async function control(button) {
  const {action, name} = button.dataset;
  if (action === "pause" && !confirm(fmt(t("pause_confirm"), name))) return;
  button.disabled = true;
  try {
    const r = await api("/" + fmt(CONTROL_PATHS[action], encodeURIComponent(name)), {method: "POST"});
    toast(controlMessage(action, r), action === "poll_now" && r.paused);
  } finally {
    button.disabled = false;
  }
  await refreshStatus();
}

document.addEventListener("click", (ev) => {
  const el = ev.target.closest("button.control");
  if (el) control(el).catch(showError);
});
