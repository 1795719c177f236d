// The staff questionnaire: the link's token (?t=) goes to the intake in Authorization, never in a cookie.
"use strict";

(() => {
  const TEXT = {
    fr: {
      pageTitle: "Miroir — Questionnaire collaborateur",
      title: "Votre expérience avec nos clients",
      intro: "Deux questions sur vos échanges avec les clients. Répondez à l’une, ou aux deux.",
      privacy: "Nous ne demandons ni votre nom ni votre identifiant. Dans votre récit, évitez les noms (le vôtre, ceux de collègues ou de clients).",
      site: "Site\u00a0: ",
      journeyFixed: "Parcours\u00a0: ",
      journey: "Parcours concerné (facultatif)",
      anyJourney: "— Je ne sais pas / plusieurs —",
      step: "À quelle étape du parcours\u00a0? (facultatif)",
      anyStep: "— Aucune en particulier —",
      most_positive: "Racontez-nous l’expérience la plus positive que vous ayez vécue avec un client au cours des 6 derniers mois.",
      most_frustrating: "Racontez-nous l’expérience la plus frustrante que vous ayez vécue avec un client au cours des 6 derniers mois.",
      saved: "Enregistré.",
      send: "Envoyer",
      sending: "Envoi…",
      loading: "Chargement…",
      empty: "Répondez à au moins une des deux questions.",
      tooLong: "Votre récit dépasse {n} caractères\u00a0: raccourcissez-le un peu.",
      refused: "Votre réponse n’a pas pu être acceptée ({reason}).",
      badLink: "Ce lien n’est plus valide. Demandez à votre responsable le lien de votre site.",
      partial: "Une partie de votre réponse est enregistrée\u00a0; l’autre n’a pas pu l’être. Réessayez\u00a0: votre texte est conservé.",
      unavailable: "Le service ne répond pas pour le moment. Réessayez dans quelques instants\u00a0: votre texte est conservé.",
      thanks: "Merci\u00a0!",
      thanksText: "Votre récit a bien été transmis. Il sera lu avec ceux de vos collègues, sans votre nom.",
      again: "Raconter une autre expérience",
      other: "English",
    },
    en: {
      pageTitle: "Miroir — Staff questionnaire",
      title: "Your experience with our customers",
      intro: "Two questions about your dealings with customers. Answer one, or both.",
      privacy: "We don’t ask for your name or your staff ID. Please leave names out of your story (yours, colleagues’ or customers’).",
      site: "Site: ",
      journeyFixed: "Journey: ",
      journey: "Which journey? (optional)",
      anyJourney: "— Not sure / several —",
      step: "Which step of the journey? (optional)",
      anyStep: "— None in particular —",
      most_positive: "Tell us about the most positive experience you have had with a customer in the last 6 months.",
      most_frustrating: "Tell us about the most frustrating experience you have had with a customer in the last 6 months.",
      saved: "Saved.",
      send: "Send",
      sending: "Sending…",
      loading: "Loading…",
      empty: "Please answer at least one of the two questions.",
      tooLong: "Your story is over {n} characters: please shorten it a little.",
      refused: "Your answer could not be accepted ({reason}).",
      badLink: "This link is no longer valid. Ask your manager for your site’s link.",
      partial: "Part of your answer is saved; the rest could not be. Please try again: your text is kept.",
      unavailable: "The service is not answering right now. Please try again in a moment: your text is kept.",
      thanks: "Thank you!",
      thanksText: "Your story has been sent. It will be read with your colleagues’, without your name.",
      again: "Tell another story",
      other: "Français",
    },
  };
  const params = new URLSearchParams(location.search);
  const token = params.get("t") || "";
  const $ = (id) => document.getElementById(id);
  let lang = params.get("lang") === "en" ? "en" : "fr";
  let config = null; // GET v1/form: site, journey, journeys, prompts, max_chars
  let saved = new Set(); // prompts of this submission already in Kafka (after a partial answer)
  let statusKey = null; // the message shown, so that it follows a change of language

  const t = (key, values = {}) => TEXT[lang][key].replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
  const auth = { Authorization: `Bearer ${token}` };

  function show(key, values) {
    statusKey = key ? [key, values] : null;
    $("status").textContent = key ? t(key, values) : "";
  }

  function options(select, first, items, chosen) {
    select.replaceChildren(new Option(first, ""));
    for (const item of items) select.add(new Option(item.label[lang] || item.id, item.id, false, item.id === chosen));
  }

  function journey() {
    const id = config.journey || $("journey").value;
    return config.journeys.find((j) => j.id === id) || null;
  }

  function renderSteps() {
    const current = journey();
    for (const field of document.querySelectorAll(".step-field")) {
      const select = field.querySelector("select");
      field.hidden = !current;
      options(select, t("anyStep"), current ? current.steps : [], select.value);
    }
  }

  function render() {
    document.documentElement.lang = lang;
    document.title = t("pageTitle");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    const other = lang === "fr" ? "en" : "fr";
    $("language").textContent = other.toUpperCase();
    $("language").lang = other;
    $("language").setAttribute("aria-label", t("other"));
    if (statusKey) show(...statusKey);
    if (!config) return;
    $("site").textContent = t("site") + config.site;
    const fixed = config.journey && config.journeys[0];
    $("journey-fixed").hidden = !fixed;
    $("journey-field").hidden = Boolean(fixed);
    if (fixed) $("journey-fixed").textContent = t("journeyFixed") + fixed.label[lang];
    else options($("journey"), t("anyJourney"), config.journeys, $("journey").value);
    renderSteps();
  }

  function switchLanguage() {
    lang = lang === "fr" ? "en" : "fr";
    params.set("lang", lang);
    history.replaceState(null, "", `?${params}`);
    render();
  }

  async function load() {
    try {
      const response = await fetch("v1/form", { headers: auth, cache: "no-store" });
      if (response.status === 401 || response.status === 403) return fail("badLink");
      if (!response.ok) return fail("unavailable");
      config = await response.json();
    } catch {
      return fail("unavailable");
    }
    for (const prompt of config.prompts) $(prompt).maxLength = config.max_chars;
    $("loading").hidden = true;
    $("stories").hidden = false;
    render();
  }

  function fail(key) {
    $("loading").hidden = true;
    $("stories").hidden = false;
    for (const node of $("stories").querySelectorAll("textarea, select, button")) node.disabled = true;
    show(key);
  }

  function stories() {
    return config.prompts
      .filter((prompt) => !saved.has(prompt) && $(prompt).value.trim())
      .map((prompt) => ({ prompt, verbatim: $(prompt).value, step_id: $(`${prompt}-step`).value || null }));
  }

  function markSaved(prompts) {
    for (const prompt of prompts) {
      saved.add(prompt);
      $(prompt).readOnly = true;
      $(`${prompt}-saved`).hidden = false;
    }
  }

  async function send(event) {
    event.preventDefault();
    const answers = stories();
    if (!answers.length) return show("empty"); // beside the button just tapped, and read out (role=alert)
    const tooLong = answers.find((story) => story.verbatim.trim().length > config.max_chars);
    if (tooLong) return show("tooLong", { n: config.max_chars });
    $("send").disabled = true;
    $("send").textContent = t("sending");
    show(null);
    try {
      const body = { journey_id: journey() ? journey().id : null, stories: answers };
      const response = await fetch("v1/stories", {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      markSaved(answer.accepted || []);
      if (response.status === 202) return thank();
      if (response.status === 401 || response.status === 403) show("badLink");
      else if (response.status === 422) show("refused", { reason: (answer.error && answer.error.message) || "" });
      else show((answer.accepted || []).length ? "partial" : "unavailable");
    } catch {
      show("unavailable");
    } finally {
      $("send").disabled = false;
      $("send").textContent = t("send");
    }
  }

  function thank() {
    $("questionnaire").hidden = true;
    $("thanks").hidden = false;
    $("thanks").querySelector("h1").focus();
  }

  function again() {
    saved = new Set(); // a new submission: a new pseudonym, drawn by the intake
    for (const prompt of config.prompts) {
      $(prompt).value = "";
      $(prompt).readOnly = false;
      $(`${prompt}-saved`).hidden = true;
    }
    show(null);
    $("thanks").hidden = true;
    $("questionnaire").hidden = false;
    $(config.prompts[0]).focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("language").addEventListener("click", switchLanguage);
    $("journey").addEventListener("change", renderSteps);
    $("stories").addEventListener("submit", send);
    $("again").addEventListener("click", again);
    render();
    load();
  });
})();
