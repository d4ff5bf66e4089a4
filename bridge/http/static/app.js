// The status page: units and their roads, alerts, documents, dead letters, quarantine, audit.
// Plain DOM, no build step. Everything the server sends is escaped before it reaches innerHTML.
"use strict";

const POLL_MS = 5000;
const params = new URLSearchParams(location.search);
let token = params.get("token") || sessionStorage.getItem("lienthong-token") || "";
if (token) sessionStorage.setItem("lienthong-token", token);
// Keep the token out of the address bar, history and screenshots once it is stored.
if (params.has("token")) history.replaceState(null, "", location.pathname + location.hash);
let lang = localStorage.getItem("lienthong-lang") || "vi";
const view = {status: null, dead: [], quarantine: [], docs: [], nextCursor: null, doc: null, tab: "overview"};

const $ = (id) => document.getElementById(id);
const t = (key) => STRINGS[lang][key] ?? key;
const esc = (s) => String(s ?? "").replace(/[&<>"']/g,
  (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, {method = "GET", body} = {}) {
  const headers = token ? {Authorization: "Bearer " + token} : {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  if (r.status === 401) { $("login").hidden = false; }
  if (!r.ok) {
    let message = "HTTP " + r.status;
    try { message = (await r.json()).error || message; } catch (_) { /* not JSON */ }
    throw new ApiError(r.status, message);
  }
  const type = r.headers.get("Content-Type") || "";
  return type.includes("json") ? r.json() : r.blob();
}

function toast(text, isError = false) {
  const el = $("toast");
  el.textContent = text;
  el.classList.toggle("error", isError);
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 5000);
}

// ---- time ------------------------------------------------------------------------------

function clock(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(lang === "vi" ? "vi-VN" : "en-GB", {timeZone: "Asia/Ho_Chi_Minh", dateStyle: "short", timeStyle: "short"});
}

function ago(iso) {
  if (!iso) return t("never");
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  if (s < 60) return t("ago_s");
  if (s < 3600) return `${Math.floor(s / 60)} ${t("ago_m")}`;
  if (s < 86400) return `${Math.floor(s / 3600)} ${t("ago_h")}`;
  return `${Math.floor(s / 86400)} ${t("ago_d")}`;
}

const when = (iso) => iso ? `<span title="${esc(clock(iso))}">${esc(ago(iso))}</span>` : esc(t("never"));

// ---- language and tabs -----------------------------------------------------------------

function applyLang() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((e) => { e.textContent = t(e.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((e) => { e.placeholder = t(e.dataset.i18nPlaceholder); });
  $("lang").textContent = t("switch_lang");
  $("lang").lang = lang === "vi" ? "en" : "vi";
  renderAll();
}

function showTab(name) {
  view.tab = name;
  document.querySelectorAll(".tab").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".panel").forEach((p) => { p.hidden = p.id !== "panel-" + name; });
  if (name === "audit") loadAudit().catch(showError);
  if (name === "directory" && !view.directory) loadDirectory().catch(showError);
  if (name === "documents" && !view.searched) search().catch(showError);  // the latest, before any query
}

function renderAll() {
  if (view.status) renderStatus(view.status);
  renderDead();
  renderQuarantine();
  renderDocs();
  if (view.doc) renderDoc(view.doc);
  if (view.directory) renderDirectory();
}

const showError = (err) => toast(t("error_prefix") + err.message, true);
