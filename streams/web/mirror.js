// The live mirror: customer journey above, staff journey below, one column per step.
"use strict";

// The mirror types (ids, labels, colours) come from the worker's types/ table: see start().
const STATES = {
  enchanted: { fr: "enchanté", en: "enchanted" }, neutral: { fr: "neutre", en: "neutral" },
  dissatisfied: { fr: "insatisfait", en: "dissatisfied" }, engaged: { fr: "engagé", en: "engaged" },
  indifferent: { fr: "indifférent", en: "indifferent" }, frustrated: { fr: "frustré", en: "frustrated" },
  insufficient_data: { fr: "trop peu de réponses", en: "too few answers" },
};
const TEXT = {
  journey: { fr: "Parcours", en: "Journey" }, window: { fr: "Fenêtre", en: "Window" },
  live: { fr: "en direct (1 h)", en: "live (1 h)" }, long: { fr: "30 jours", en: "30 days" },
  customers: { fr: "Parcours client", en: "Customer journey" },
  staffSide: { fr: "Parcours collaborateur", en: "Staff journey" },
  responses: { fr: "réponses reçues", en: "responses in" }, processed: { fr: "analysées", en: "analysed" },
  rejected: { fr: "rejetées", en: "rejected" }, duplicates: { fr: "doublons", en: "duplicates" },
  untagged: { fr: "sans étape", en: "untagged" },
  sample: { fr: "échantillon par étape (clients / collaborateurs)", en: "sample per step (customers / staff)" },
  live_ok: { fr: "en direct", en: "live" }, stale: { fr: "pas de données depuis", en: "stale since" },
  evidence: { fr: "Verbatims", en: "Verbatims" }, none: { fr: "aucun verbatim", en: "no verbatim yet" },
  mot: { fr: "★ moment de vérité", en: "★ moment of truth" },
  queueDown: { fr: "file des rappels injoignable depuis", en: "callback queue unreachable since" },
};

const params = new URLSearchParams(location.search);
const ui = {
  language: params.get("lang") || "fr", journey: params.get("journey") || "", window: params.get("window") || "live",
  selected: null, data: null, journeys: {}, lastEvent: 0,
  types: [], typeById: {}, noData: "",  // the mirror types' table, in display order
  autoJourney: true,  // until the URL or the user names a journey, the page picks one with data
};
const $ = (id) => document.getElementById(id);
const t = (key) => (TEXT[key] || {})[ui.language] || key;
const label = (labels, fallback) => (labels && labels[ui.language]) || fallback;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("data-")) node.setAttribute(k, v); else node[k] = v;
  }
  for (const child of children) node.append(child);
  return node;
}

function statesOf(journeyId) {
  const byStep = {};
  for (const s of (ui.data?.states || [])) {
    if (s.journey_id === journeyId && s.window === ui.window) byStep[s.step_id] = s;
  }
  return byStep;
}

const typeLabel = (id) => label(ui.typeById[id], id);

// The first journey whose steps say something (a type other than "no data"), else the first with any state.
function journeyWithData(ids) {
  const states = (ui.data?.states || []).filter((s) => s.window === ui.window);
  const has = (id, confident) =>
    states.some((s) => s.journey_id === id && (!confident || s.mirror_type !== ui.noData));
  return ids.find((id) => has(id, true)) || ids.find((id) => has(id, false));
}

function chooseJourney(ids) {
  if (!ui.autoJourney) return;
  // Data arrives after the first render: choose again on each read-out until the journey shown has some.
  ui.journey = journeyWithData(ids) || (ids.includes(ui.journey) ? ui.journey : ids[0]) || "";
  if (Object.values(statesOf(ui.journey)).some((s) => s.mirror_type !== ui.noData)) ui.autoJourney = false;
}

function renderSelectors() {
  const select = $("journey");
  const ids = Object.keys(ui.journeys);
  chooseJourney(ids);
  select.replaceChildren(...ids.map((id) => el("option", { value: id, selected: id === ui.journey },
    label(ui.journeys[id].label, id))));
  $("window").value = ui.window;
  $("language").textContent = ui.language === "fr" ? "EN" : "FR";
  document.documentElement.lang = ui.language;
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
}

function sideCell(side, state, stepId) {
  const s = state ? state[side] : null;
  const cell = el("div", { class: "cell" + (ui.selected === stepId ? " selected" : ""), "data-step": stepId,
                           "data-side": side },
    el("div", { class: "state" }, s ? label(STATES[s.state], s.state) : "—"),
    el("div", { class: "n" }, s ? `n = ${s.n} · ${s.net_impact >= 0 ? "+" : ""}${s.net_impact.toFixed(2)}` : "n = 0"));
  cell.onclick = () => select(stepId);
  return cell;
}

function render() {
  renderSelectors();
  const journey = ui.journeys[ui.journey];
  if (!journey) return;
  const states = statesOf(ui.journey);
  const customers = [], types = [], staff = [];
  for (const step of journey.steps) {
    const state = states[step.id];
    const type = state ? state.mirror_type : ui.noData;
    customers.push(sideCell("customer", state, step.id));
    const column = el("div", { class: `step ${type}` + (ui.typeById[type]?.light ? " light" : "") +
                               (ui.selected === step.id ? " selected" : ""), "data-step": step.id, "data-type": type },
      el("div", { class: "name" }, label(step.label, step.id)),
      el("div", { class: "type" }, typeLabel(type)));
    column.style.background = `var(--${type})`;
    if (state && state.moment_of_truth) column.append(el("div", { class: "mot" }, t("mot")));
    column.onclick = () => select(step.id);
    types.push(column);
    staff.push(sideCell("staff", state, step.id));
  }
  $("customers").replaceChildren(...customers);
  $("types").replaceChildren(...types);
  $("staff").replaceChildren(...staff);
  renderPilot(journey, states);
  showConnection();
  renderEvidence(journey, states);
  $("legend").replaceChildren(...ui.types.map((type) => {
    const item = el("span", { "data-type": type.id }, typeLabel(type.id));
    item.style.setProperty("--c", `var(--${type.id})`);
    return item;
  }));
}

function renderPilot(journey, states) {
  const c = ui.data?.counters || {};
  const sample = journey.steps.map((s) => `${label(s.label, s.id)} ${states[s.id]?.customer.n ?? 0}/${states[s.id]?.staff.n ?? 0}`);
  $("pilot").replaceChildren(
    el("span", {}, el("b", {}, String(c.in ?? 0)), ` ${t("responses")}`),
    el("span", {}, el("b", {}, String(c.processed ?? 0)), ` ${t("processed")}`),
    el("span", {}, el("b", {}, String(c.dead_lettered ?? 0)), ` ${t("rejected")}`),
    el("span", {}, el("b", {}, String(c.duplicate ?? 0)), ` ${t("duplicates")}`),
    el("span", {}, el("b", {}, String(c.untagged ?? 0)), ` ${t("untagged")}`),
    el("span", { class: "sample" }, `${t("sample")}: ${sample.join(" · ")}`),
    ...queueState(ui.data?.callbacks));
}

// The mirror stays live when Redis is down; only the callback figures are stale, and the page says so.
function queueState(callbacks) {
  if (!callbacks || callbacks.queue === "ok") return [];
  const since = callbacks.stale_since ? new Date(callbacks.stale_since).toLocaleTimeString() : "?";
  return [el("span", { class: "queue-down", id: "queue-down" }, `${t("queueDown")} ${since}`)];
}

function renderEvidence(journey, states) {
  const panel = $("evidence");
  const step = journey.steps.find((s) => s.id === ui.selected);
  if (!step) { panel.hidden = true; return; }
  panel.hidden = false;
  const state = states[step.id];
  $("evidence-title").textContent = `${t("evidence")} — ${label(step.label, step.id)}`;
  for (const side of ["customer", "staff"]) {
    const items = (state?.evidence?.[side] || []).slice().reverse();
    $(`evidence-${side}`).replaceChildren(...(items.length ? items.map((e) =>
      el("li", { class: "verbatim" }, `« ${e.text} »`, el("span", { class: "id" }, e.id))) : [el("li", {}, t("none"))]));
  }
}

function select(stepId) {
  ui.selected = ui.selected === stepId ? null : stepId;
  ui.autoJourney = false;  // the user looks at this journey: keep it
  render();
}

// The page's own requests carry the token it was opened with (streams/access.py).
function withToken(path) {
  const token = params.get("token");
  return path + (token ? `?token=${encodeURIComponent(token)}` : "");
}

async function getJSON(path) {
  const response = await fetch(withToken(path));
  return response.json();
}

// The types' colours become CSS variables (--<type id>), used by the columns and the legend.
function useTypes(table) {
  ui.types = table.types;
  ui.noData = table.no_data;
  ui.typeById = Object.fromEntries(table.types.map((type) => [type.id, type]));
  for (const type of table.types) document.documentElement.style.setProperty(`--${type.id}`, type.colour);
}

function connect() {
  const source = new EventSource(withToken("events/"));
  source.onmessage = (message) => {
    ui.data = JSON.parse(message.data);
    ui.lastEvent = Date.now();
    render();
  };
  source.onerror = () => showConnection();
}

function showConnection() {
  const node = $("connection");
  const age = (Date.now() - ui.lastEvent) / 1000;
  const stale = !ui.lastEvent || age > 10;
  node.classList.toggle("stale", stale);
  node.textContent = stale && ui.lastEvent ? `${t("stale")} ${new Date(ui.lastEvent).toLocaleTimeString()}` :
    stale ? "…" : t("live_ok");
}

async function start() {
  const [journeys, types] = await Promise.all([getJSON("journeys/"), getJSON("types/")]);
  ui.journeys = journeys;
  useTypes(types);
  ui.autoJourney = !Object.keys(journeys).includes(ui.journey);
  $("journey").onchange = (e) => {
    ui.journey = e.target.value; ui.autoJourney = false; ui.selected = null; render();
  };
  $("window").onchange = (e) => { ui.window = e.target.value; render(); };
  $("language").onclick = () => { ui.language = ui.language === "fr" ? "en" : "fr"; render(); };
  render();
  connect();
  setInterval(showConnection, 2000);
}

start();
