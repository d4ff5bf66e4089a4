// Wiring: clicks, forms, the language switch, hash links, and the polling loop.
"use strict";

document.addEventListener("click", (ev) => {
  const el = ev.target.closest("button, a");
  if (!el) return;
  const run = (promise) => { promise.catch(showError); };
  if (el.classList.contains("tab")) showTab(el.dataset.tab);
  else if (el.classList.contains("doclink")) { ev.preventDefault(); history.replaceState(null, "", "#doc-" + el.dataset.id); run(openDoc(el.dataset.id)); }
  else if (el.classList.contains("replay")) { el.disabled = true; run(replay(el.dataset.id)); }
  else if (el.id === "replay-all") { el.disabled = true; run(replay("all").finally(() => { el.disabled = false; })); }
  else if (el.classList.contains("release")) run(quarantineAction(el, "release"));
  else if (el.classList.contains("retry")) run(quarantineAction(el, "retry"));
  else if (el.classList.contains("split")) run(splitRecord(el.dataset.id));
  else if (el.id === "merge") run(mergeDocument());
  else if (el.id === "doc-back") closeDoc();
  else if (el.id === "more") run(search(true));
});

$("directory-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadDirectory().catch(showError); });
$("search").addEventListener("submit", (ev) => { ev.preventDefault(); closeDoc(); search().catch(showError); });
$("export-form").addEventListener("submit", (ev) => { exportCsv(ev).catch(showError); });
$("lang").addEventListener("click", () => {
  lang = lang === "vi" ? "en" : "vi";
  localStorage.setItem("lienthong-lang", lang);
  applyLang();
});
$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("token-input").value.trim();
  sessionStorage.setItem("lienthong-token", token);
  refreshStatus();
});
document.addEventListener("visibilitychange", () => { if (!document.hidden) refreshStatus(); });

function start() {
  const today = new Date().toISOString().slice(0, 10);
  $("export-from").value = today.slice(0, 8) + "01";
  $("export-to").value = today;
  applyLang();
  showTab("overview");
  refreshStatus();
  const m = location.hash.match(/^#doc-(\d+)$/);
  if (m) openDoc(m[1]).catch(showError);
  setInterval(() => { if (!document.hidden) refreshStatus(); }, POLL_MS);
}

start();
