/* The inbox: each site's figures, the cases by tab (most urgent first), "take the next one", kept
   live by GET /v1/events (common.js). */
"use strict";

const TABS = ["todo", "in_progress", "done", "overdue", "escalated"];
let current = "todo";
let data = { sites: [], figures: {}, callbacks: [] };

function chosenSite() {
  return document.getElementById("site").value;
}

function renderFigures() {
  const box = document.getElementById("figures");
  box.replaceChildren();
  const chosen = chosenSite();
  for (const site of data.sites) {
    if (chosen && site !== chosen) continue;
    const f = data.figures[site];
    const pct = f.within_sla_pct === null ? "—" : `${f.within_sla_pct} %`;
    const median = f.median_hours_to_callback === null ? "—" : `${f.median_hours_to_callback} ${t("hours")}`;
    box.append(el("div", { class: "figure-card", "data-site": site },
      el("h2", { text: site }),
      el("p", {},
        el("span", { class: "n", "data-figure": "open", text: String(f.open) }), el("span", { text: t("open_n") }),
        el("span", { class: "n" + (f.overdue ? " bad" : ""), "data-figure": "overdue", text: String(f.overdue) }),
        el("span", { text: t("overdue_n") }),
        el("span", { class: "n", "data-figure": "within_sla_pct", text: pct }), el("span", { text: t("within_sla") }),
        el("span", { class: "n", "data-figure": "median", text: median }), el("span", { text: t("median") }))));
  }
}

function renderTabs() {
  const nav = document.getElementById("tabs");
  nav.replaceChildren();
  const chosen = chosenSite();
  for (const tab of TABS) {
    const n = data.callbacks.filter((c) => c.tabs.includes(tab) && (!chosen || c.site === chosen)).length;
    const button = el("button", {
      type: "button", role: "tab", id: "tab-" + tab, "aria-selected": String(tab === current),
      class: tab === current ? "tab on" : "tab",
    }, el("span", { text: t(tab) }), el("span", { class: "count", text: String(n) }));
    button.addEventListener("click", () => { current = tab; render(); });
    nav.append(button);
  }
}

function card(c) {
  const suffix = LANG === "en" ? "?lang=en" : "";
  const badges = el("p", { class: "badges" });
  if (c.priority === "high") badges.append(el("span", { class: "badge high", text: t("priority_high") }));
  const closed = c.status === "resolved" || c.status === "erased";
  if (c.escalated && !closed) badges.append(el("span", { class: "badge bad", text: t("escalated_badge") }));
  badges.append(el("span", { class: "badge", text: `${t("score")} ${c.score} ${c.score_scale}` }));
  const due = c.status === "erased" ? `${actionWord("erased")} · ${when(c.erased_at)}`
    : c.status === "resolved" ? `${outcomeWord(c.outcome)} · ${when(c.resolved_at)}`
    : countdown(c.due_at, false);
  return el("li", { class: "case-item", "data-callback": c.callback_id },
    el("a", { href: `/callbacks/${encodeURIComponent(c.callback_id)}${suffix}`, class: "case-link" },
      badges,
      el("p", { class: "verbatim-short", text: c.status === "erased" ? t("erased_text") : c.verbatim }),
      el("p", { class: "meta", text: `${c.site} · ${c.journey_id}${c.step_id ? " / " + c.step_id : ""}` }),
      el("p", { class: "meta" + (c.overdue ? " bad" : ""), "data-due": c.due_at, text: due }),
      c.claimed_by && c.status === "claimed" ? el("p", { class: "meta", text: `${t("claimed_by")} ${c.claimed_by}` }) : null));
}

function renderCases() {
  const list = document.getElementById("cases");
  const chosen = chosenSite();
  const shown = data.callbacks.filter((c) => c.tabs.includes(current) && (!chosen || c.site === chosen));
  list.replaceChildren(...shown.map(card));
  const empty = document.getElementById("empty");
  empty.textContent = t("empty");
  empty.hidden = shown.length > 0;
}

function render() {
  renderFigures();
  renderTabs();
  renderCases();
}

async function load() {
  try {
    data = await api("GET", "/v1/inbox");
    skew = data.now - Date.now() / 1000;
    const select = document.getElementById("site");
    const chosen = select.value;
    const options = data.sites.length > 1 ? [el("option", { value: "", text: t("all_sites") })] : [];
    options.push(...data.sites.map((s) => el("option", { value: s, text: s })));
    select.replaceChildren(...options);
    select.value = data.sites.includes(chosen) ? chosen : data.sites.length > 1 ? "" : data.sites[0] || "";
    select.hidden = data.sites.length < 2;
    render();
  } catch (error) {
    say(error.message);
  }
}

async function claimNext() {
  const urgent = data.callbacks.find((c) => c.tabs.includes("todo")); // most urgent first: all sites' next
  const site = chosenSite() || (urgent && urgent.site) || data.sites[0];
  if (!site) return;
  try {
    const found = await api("POST", `/v1/sites/${encodeURIComponent(site)}/claim`);
    if (!found.callback) {
      const empty = document.getElementById("empty");
      empty.textContent = t("nothing_to_claim");
      empty.hidden = false;
      return;
    }
    location.assign(`/callbacks/${encodeURIComponent(found.callback.callback_id)}${LANG === "en" ? "?lang=en" : ""}`);
  } catch (error) {
    say(error.message);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  const next = document.getElementById("claim-next");
  next.textContent = t("claim_next");
  next.addEventListener("click", claimNext);
  document.getElementById("site").addEventListener("change", render);
  try { await whoami(); } catch (error) { say(error.message); return; }
  await load();
  const reload = later(load, 300);
  live(reload, reload);
  setInterval(renderCases, 30000); // countdowns
});
