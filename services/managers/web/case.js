/* A case's page: the request, the countdown, the contact (only for whoever claimed it: tel: and
   mailto: links), the actions its state allows, the customer's other callbacks, its history and
   audit; kept live by GET /v1/events (common.js). */
"use strict";

const ID = document.body.dataset.callback;
const PATH = `/v1/callbacks/${encodeURIComponent(ID)}`;
let callback = null;
let causes = [];

function fact(list, label, value) {
  if (value === undefined || value === null || value === "") return;
  list.append(el("dt", { text: t(label) }), el("dd", { text: String(value) }));
}

function renderFacts(c) {
  document.getElementById("title").textContent = c.callback_id;
  const badges = document.getElementById("badges");
  badges.replaceChildren(...c.tabs.map((tab) => el("span", { class: "badge tab-" + tab, text: t(tab) })));
  if (c.priority === "high") badges.prepend(el("span", { class: "badge high", text: t("priority_high") }));
  document.getElementById("verbatim").textContent = c.status === "erased" ? t("erased_text") : (c.verbatim ?? "");
  const facts = document.getElementById("facts");
  facts.replaceChildren();
  fact(facts, "score", `${c.score} (${c.score_scale})`);
  fact(facts, "journey", c.journey_id);
  fact(facts, "step", c.step_id);
  fact(facts, "site", c.site);
  fact(facts, "created", when(c.created_at));
  fact(facts, "due", when(c.due_at));
  if (c.status === "open" || c.status === "claimed") {
    facts.append(el("dt", { text: t("time_left") }), el("dd", { id: "countdown", class: c.tabs.includes("overdue") ? "bad" : "" }));
  }
  if (c.status === "claimed") fact(facts, "claimed_by", c.claimed_by);
  if (c.status === "resolved") {
    fact(facts, "resolved_by", `${c.resolved_by} · ${when(c.resolved_at)}`);
    fact(facts, "outcome", outcomeWord(c.outcome));
    const cause = causes.find((x) => x.id === c.root_cause);
    fact(facts, "root_cause", cause ? cause[LANG] : c.root_cause);
    fact(facts, "note", c.note);
  }
  tick();
}

function tick() {
  const box = document.getElementById("countdown");
  if (box && callback) box.textContent = countdown(callback.due_at, true);
}

function renderContact(c) {
  const box = document.getElementById("contact");
  box.hidden = c.status === "erased" || Boolean(c.anonymised_at);  // nobody left to reach
  if (box.hidden) return;
  box.replaceChildren(el("h2", { text: t("contact") }));
  if (!c.contact_shown) {
    box.append(el("p", { class: "muted", text: t("contact_hidden") }));
    return;
  }
  if (c.contact_name) box.append(el("p", { id: "contact-name", text: c.contact_name }));
  const links = el("p", { class: "contact-links" });
  if (c.contact_phone) {
    links.append(el("a", { href: "tel:" + c.contact_phone.replace(/[^+0-9]/g, ""), class: "button", id: "call" },
      el("span", { text: `${t("call")} ${c.contact_phone}` })));
  }
  if (c.contact_email) {
    links.append(el("a", { href: "mailto:" + encodeURIComponent(c.contact_email).replace("%40", "@"), class: "button", id: "write" },
      el("span", { text: `${t("write")} ${c.contact_email}` })));
  }
  box.append(links);
}

function button(id, word, onClick, kind) {
  const b = el("button", { type: "button", id, class: kind || "" , text: t(word) });
  b.addEventListener("click", onClick);
  return b;
}

async function act(action, body) {
  try {
    await api("POST", `${PATH}/${action}`, body);
    say("");
    sameState = false;
    await load();
  } catch (error) {
    say(error.message);
  }
}

function selectOf(id, label, options, required) {
  const select = el("select", { id, name: id, required });
  select.append(el("option", { value: "", text: t("choose") }));
  for (const [value, text] of options) select.append(el("option", { value, text }));
  return el("label", {}, el("span", { text: t(label) }), select);
}

function resolveForm() {
  const form = el("form", { id: "resolve-form", class: "stack" });
  form.append(
    selectOf("outcome", "outcome", ["reached", "no_answer", "resolved", "refused"].map((o) => [o, outcomeWord(o)]), true),
    selectOf("root_cause", "root_cause", causes.map((c) => [c.id, c[LANG]]), true),
    el("label", {}, el("span", { text: t("note") }), el("textarea", { id: "note", name: "note", required: true, maxlength: "2000", rows: "3" })),
    el("button", { type: "submit", class: "primary", id: "resolve", text: t("resolve") }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = (name) => form.elements[name].value.trim();
    act("resolve", { outcome: value("outcome"), root_cause: value("root_cause"), note: value("note") });
  });
  return form;
}

async function reassignForm(c) {
  const form = el("form", { id: "reassign-form", class: "inline" });
  let people = [];
  try { people = (await api("GET", `/v1/sites/${encodeURIComponent(c.site)}/people`)).people; } catch (error) { /* none */ }
  const others = people.filter((p) => p.name !== c.claimed_by).map((p) => [p.name, `${p.name} (${p.role})`]);
  form.append(selectOf("to", "to", others, true), el("button", { type: "submit", text: t("reassign") }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act("reassign", { to: form.elements.to.value });
  });
  return form;
}

function reopenForm() {
  const form = el("form", { id: "reopen-form", class: "stack" });
  form.append(
    el("label", {}, el("span", { text: t("why_reopen") }), el("textarea", { id: "reopen-note", name: "note", required: true, maxlength: "2000", rows: "2" })),
    el("button", { type: "submit", id: "reopen", text: t("reopen") }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act("reopen", { note: form.elements.note.value.trim() });
  });
  return form;
}

async function renderActions(c) {
  const box = document.getElementById("actions");
  const mine = c.status === "claimed" && c.claimed_by === me.name;
  const elevated = me.role !== "manager";
  const parts = [];
  if (c.status === "open") parts.push(button("claim", "claim", () => act("claim"), "primary"));
  if (c.status === "claimed" && (mine || elevated)) {
    parts.push(resolveForm(), button("release", "release", () => act("release")));
  }
  if (c.status === "open" || (c.status === "claimed" && (mine || elevated))) parts.push(await reassignForm(c));
  if (c.status === "resolved") parts.push(reopenForm());
  box.replaceChildren(...parts);
  box.hidden = parts.length === 0;
}

function renderCustomer(c) {
  const box = document.getElementById("customer");
  box.hidden = !c.customer.length;
  const suffix = LANG === "en" ? "?lang=en" : "";
  const item = (o) => el("li", {},
    el("a", {
      href: `/callbacks/${encodeURIComponent(o.callback_id)}${suffix}`,
      text: `${when(o.created_at)} · ${o.score} ${o.score_scale} · ${t(o.status)}`,
    }),
    el("p", { class: "muted", text: o.verbatim }));
  box.replaceChildren(el("h2", { text: t("customer") }), el("ul", { class: "plain" }, ...c.customer.map(item)));
}

function renderTrail(c) {
  const box = document.getElementById("trail");
  const line = (e, withFrom) => {
    const extra = [e.to ? `→ ${e.to}` : "", e.outcome ? outcomeWord(e.outcome) : "", e.root_cause || "", e.note || ""]
      .filter(Boolean).join(" · ");
    const from = withFrom ? ` ${t("from")} ${e.from}` : "";
    return el("li", {}, el("span", { class: "when", text: when(e.at) }),
      el("span", { text: ` ${actionWord(e.action)} ${t("by")} ${e.by}${from}${extra ? " — " + extra : ""}` }));
  };
  box.replaceChildren(
    el("h2", { text: t("audit") }), el("ul", { id: "audit", class: "plain trail" }, ...c.audit.map((e) => line(e, true))),
    el("h2", { text: t("history") }), el("ul", { id: "history", class: "plain trail" }, ...c.history.map((e) => line(e, false))));
}

let sameState = false;
async function load() {
  try {
    const before = callback && callback.status + callback.claimed_by;
    callback = await api("GET", PATH);
    sameState = before === callback.status + callback.claimed_by;
    renderFacts(callback);
    renderContact(callback);
    renderCustomer(callback);
    renderTrail(callback);
    if (!sameState) await renderActions(callback); // same state: a half-filled form stays as it is
    sameState = true;
  } catch (error) {
    say(error.message);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  try {
    await whoami();
    causes = (await api("GET", "/v1/root-causes")).root_causes;
  } catch (error) {
    say(error.message);
    return;
  }
  await load();
  const reload = later(load, 200);
  live((event) => { if (event.callback_id === ID) reload(); }, reload);
  setInterval(tick, 1000);
});
