/* The managers' pages, shared: words in French and English, the JSON API (with the session's CSRF
   token on every change), the live events, times and countdowns. No framework, no build step.
   Everything shown is set with textContent: nothing from the server is parsed as HTML. */
"use strict";

const LANG = document.documentElement.lang === "en" ? "en" : "fr";
const WORDS = {
  fr: {
    todo: "À traiter", in_progress: "En cours", done: "Traités", overdue: "En retard", escalated: "Escaladés",
    open: "À traiter", claimed: "En cours", resolved: "Traité", erased: "Effacé (RGPD)",
    erased_text: "Effacé à la demande de la personne (RGPD) : rien à rappeler.", erased_action: "effacé",
    claim_next: "Prendre le suivant", claim: "Prendre ce rappel", release: "Relâcher", reassign: "Réattribuer",
    resolve: "Clôturer", reopen: "Rouvrir", nothing_to_claim: "Aucun rappel à prendre sur ce site.",
    all_sites: "Tous mes sites", empty: "Rien ici pour l’instant.", live: "● en direct", offline: "○ hors ligne",
    open_n: "ouverts", overdue_n: "en retard", within_sla: "dans les délais", median: "délai médian",
    time_left: "Délai", hours: "h", due_in: "à rappeler dans", late_by: "en retard de", day: "j", min: "min", s: "s",
    priority_high: "Prioritaire", score: "Note", journey: "Parcours", step: "Étape", site: "Site",
    created: "Reçu le", due: "À rappeler avant", claimed_by: "Pris par", resolved_by: "Clôturé par",
    outcome: "Résultat", root_cause: "Cause", note: "Note", to: "À", contact: "Contact",
    contact_hidden: "Les coordonnées s’affichent à qui prend le rappel.", call: "Appeler", write: "Écrire",
    customer: "Autres rappels de ce client", history: "Historique", audit: "Audit",
    by: "par", from: "depuis", choose: "Choisir…", send: "Valider", why_reopen: "Pourquoi le rouvrir ?",
    reached: "Joint", no_answer: "Pas de réponse", refused: "Refus", resolved_outcome: "Résolu", escalated_badge: "Escaladé",
    created_action: "reçu", claimed_action: "pris", released: "relâché", reassigned: "réattribué",
    resolved_action: "clôturé", reopened: "rouvert", escalated_action: "escaladé",
    "outcome published again": "résultat republié",
    error: "Impossible :", signed_out: "Session terminée : reconnectez-vous.",
  },
  en: {
    todo: "To do", in_progress: "In progress", done: "Done", overdue: "Overdue", escalated: "Escalated",
    open: "To do", claimed: "In progress", resolved: "Done", erased: "Erased (GDPR)",
    erased_text: "Erased at the person's request (GDPR): nothing to call back.", erased_action: "erased",
    claim_next: "Take the next one", claim: "Take this callback", release: "Release", reassign: "Reassign",
    resolve: "Resolve", reopen: "Reopen", nothing_to_claim: "No callback to take at this site.",
    all_sites: "All my sites", empty: "Nothing here for now.", live: "● live", offline: "○ offline",
    open_n: "open", overdue_n: "overdue", within_sla: "within SLA", median: "median time",
    time_left: "Time left", hours: "h", due_in: "call back within", late_by: "late by", day: "d", min: "min", s: "s",
    priority_high: "High priority", score: "Score", journey: "Journey", step: "Step", site: "Site",
    created: "Received", due: "Call back by", claimed_by: "Taken by", resolved_by: "Resolved by",
    outcome: "Outcome", root_cause: "Root cause", note: "Note", to: "To", contact: "Contact",
    contact_hidden: "Contact details show to whoever takes the callback.", call: "Call", write: "E-mail",
    customer: "This customer's other callbacks", history: "History", audit: "Audit",
    by: "by", from: "from", choose: "Choose…", send: "Confirm", why_reopen: "Why reopen it?",
    reached: "Reached", no_answer: "No answer", refused: "Refused", resolved_outcome: "Resolved", escalated_badge: "Escalated",
    created_action: "received", claimed_action: "taken", released: "released", reassigned: "reassigned",
    resolved_action: "resolved", reopened: "reopened", escalated_action: "escalated",
    "outcome published again": "outcome published again",
    error: "Cannot do it:", signed_out: "Your session ended: please sign in again.",
  },
};

function t(word) {
  return WORDS[LANG][word] || word;
}

function actionWord(action) {
  return WORDS[LANG][action + "_action"] || t(action);
}

function outcomeWord(outcome) {
  return outcome === "resolved" ? t("resolved_outcome") : t(outcome || "resolved_outcome");
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function toSignin() {
  const query = new URLSearchParams();
  if (LANG === "en") query.set("lang", "en");
  if (location.pathname.startsWith("/callbacks/")) query.set("next", location.pathname);
  location.assign("/signin" + (query.toString() ? "?" + query : ""));
}

let me = null;

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["X-CSRF-Token"] = me ? me.csrf_token : "";
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    toSignin();
    throw new Error(t("signed_out"));
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((data.error && data.error.message) || "HTTP " + response.status);
  return data;
}

async function whoami() {
  me = await api("GET", "/v1/me");
  return me;
}

function say(message) {
  const box = document.getElementById("message");
  box.textContent = message ? t("error") + " " + message : "";
  box.hidden = !message;
}

const FORMAT = new Intl.DateTimeFormat(LANG === "en" ? "en-GB" : "fr-FR", { dateStyle: "short", timeStyle: "short" });

function when(seconds) {
  return seconds ? FORMAT.format(new Date(Number(seconds) * 1000)) : "—";
}

let skew = 0; // the server's clock minus this one's, in seconds
function serverNow() {
  return Date.now() / 1000 + skew;
}

function span(seconds, precise) {
  const s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return `${d} ${t("day")} ${h} ${t("hours")}`;
  if (h) return `${h} ${t("hours")} ${m} ${t("min")}`;
  return precise ? `${m} ${t("min")} ${s % 60} ${t("s")}` : `${m} ${t("min")}`;
}

function countdown(due, precise) {
  const left = Number(due) - serverNow();
  return left >= 0 ? `${t("due_in")} ${span(left, precise)}` : `${t("late_by")} ${span(left, precise)}`;
}

/* The live events: `onChange(event)` for each change of a callback the caller sees. The browser
   reconnects on its own (Last-Event-ID: nothing is missed); `onOpen` reloads what may be stale.
   When the browser gives up (an error answer, e.g. 503 while Redis is away), a new stream is tried
   after `wait` ms, doubling up to a minute, unless the session is over (then: to sign-in). */
function live(onChange, onOpen, wait = 3000) {
  const badge = document.getElementById("live");
  const source = new EventSource("/v1/events");
  const show = (on) => {
    badge.hidden = false;
    badge.textContent = on ? t("live") : t("offline");
    badge.classList.toggle("off", !on);
  };
  source.addEventListener("open", () => { wait = 3000; show(true); if (onOpen) onOpen(); });
  source.addEventListener("change", (event) => onChange(JSON.parse(event.data)));
  source.addEventListener("signed_out", () => { source.close(); toSignin(); });
  source.addEventListener("error", async () => {
    show(false);
    if (source.readyState !== EventSource.CLOSED) return; // the browser tries again on its own
    try {
      await whoami();
    } catch (error) {
      if (error.message === t("signed_out")) return; // api() is taking the page to sign-in
    }
    setTimeout(() => live(onChange, onOpen, Math.min(wait * 2, 60000)), wait);
  });
  return source;
}

function later(fn, ms, most = 2000) { // many changes at once: one reload, yet one every `most` ms at least
  let timer = null, first = 0;
  return () => {
    const now = Date.now();
    if (timer === null) first = now;
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(); }, Math.max(0, Math.min(ms, first + most - now)));
  };
}
