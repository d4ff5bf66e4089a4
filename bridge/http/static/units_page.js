// Hundreds of units: the summary of units by state, filters by area and state, pages.
"use strict";

const UNITS_PER_PAGE = 50;
const UNIT_STATES = ["failing", "backoff", "unknown", "ok", "disabled"];
// cursors: the cursor of each page shown before this one (for "previous")
const unitsQuery = {area: "", state: "", cursor: "", cursors: []};

/** The /status query of the page: a page of units with the summary of all. */
function statusPath() {
  const q = new URLSearchParams({limit: String(UNITS_PER_PAGE)});
  if (unitsQuery.area) q.set("area", unitsQuery.area);
  if (unitsQuery.state) q.set("state", unitsQuery.state);
  if (unitsQuery.cursor) q.set("cursor", unitsQuery.cursor);
  return "/status?" + q.toString();
}

function renderUnitsPage(s) {
  const summary = s.summary;
  const box = $("unit-summary");
  // a few units need no summary; hundreds do (or a filter is on)
  const wanted = summary && (summary.units > UNITS_PER_PAGE || unitsQuery.area || unitsQuery.state);
  box.hidden = !wanted;
  if (wanted) {
    $("unit-states").innerHTML = UNIT_STATES.filter((st) => summary.by_state[st]).map((st) =>
      `<button type="button" class="chip state-${esc(st)}" data-unit-state="${esc(st)}">${esc(STRINGS[lang].states[st] || st)} <b>${esc(summary.by_state[st])}</b></button>`).join("")
      + `<span class="muted">${esc(fmt(t("units_total"), summary.units))}</span>`;
    const areas = $("area-filter");
    areas.innerHTML = `<option value="">${esc(t("all_areas"))}</option>` + summary.areas.map((a) =>
      `<option value="${esc(a.area)}">${esc(a.area)} (${esc(a.units)})</option>`).join("");
    areas.value = unitsQuery.area;
    const states = $("unit-state-filter");
    states.innerHTML = `<option value="">${esc(t("state_any"))}</option>` + UNIT_STATES.map((st) =>
      `<option value="${esc(st)}">${esc(STRINGS[lang].states[st] || st)}</option>`).join("");
    states.value = unitsQuery.state;
  }
  const page = s.page || {};
  const pager = $("pager");
  pager.hidden = !(page.next_cursor || unitsQuery.cursors.length);
  $("page-prev").disabled = !unitsQuery.cursors.length;
  $("page-next").disabled = !page.next_cursor;
  $("page-next").dataset.cursor = page.next_cursor || "";
  $("page-info").textContent = page.matched != null
    ? fmt(t("page_of"), unitsQuery.cursors.length * UNITS_PER_PAGE + 1,
      unitsQuery.cursors.length * UNITS_PER_PAGE + s.units.length, page.matched) : "";
}

function filterUnits(area, state) {
  unitsQuery.area = area;
  unitsQuery.state = state;
  unitsQuery.cursor = "";
  unitsQuery.cursors = [];
  refreshStatus();
}

{
  $("area-filter").addEventListener("change", (ev) => filterUnits(ev.target.value, unitsQuery.state));
  $("unit-state-filter").addEventListener("change", (ev) => filterUnits(unitsQuery.area, ev.target.value));
  $("unit-states").addEventListener("click", (ev) => {
    const chip = ev.target.closest("[data-unit-state]");
    if (chip) filterUnits(unitsQuery.area, chip.dataset.unitState === unitsQuery.state ? "" : chip.dataset.unitState);
  });
  $("page-next").addEventListener("click", (ev) => {
    unitsQuery.cursors.push(unitsQuery.cursor);
    unitsQuery.cursor = ev.currentTarget.dataset.cursor;
    refreshStatus();
  });
  $("page-prev").addEventListener("click", () => {
    unitsQuery.cursor = unitsQuery.cursors.pop() || "";
    refreshStatus();
  });
}
