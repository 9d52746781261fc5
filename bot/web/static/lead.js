/*
 * The support lead's page: period report with small SVG charts, clusters of what the bot
 * could not answer (add phrasings, new entry, dismiss) and the change history.
 * Each lead signs in with their own key; it lives in sessionStorage (this tab only) and goes
 * out as "Authorization: Bearer KEY". The name in the change history is the key's owner, as
 * GET /api/me says. Text from the server is only ever set with textContent.
 */
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = { answered: "#1d7a46", clarified: "#c07a00", handed_off: "#c4321f",
                   helpful: "#1d7a46", not_helpful: "#c4321f", tickets: "#2454d6",
                   sla: "#111111" };
  const $ = (id) => document.getElementById(id);
  const auth = {
    name: "",
    get key() { return sessionStorage.getItem("faqbot.leadKey") || ""; },
    save(key) { sessionStorage.setItem("faqbot.leadKey", key); },
    clear() { sessionStorage.removeItem("faqbot.leadKey"); this.name = ""; },
  };
  const state = { report: null, clusters: null, entries: null };

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") el.textContent = String(v);
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "checked" || k === "value" || k === "disabled") el[k] = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    for (const c of children) if (c) el.append(c);
    return el;
  }

  function tip(text) {
    const t = document.createElementNS(SVG, "title");
    t.textContent = text;
    return t;
  }

  class ApiError extends Error {
    constructor(status, detail) { super(detail); this.status = status; }
  }

  async function api(path, body) {
    const headers = { Authorization: "Bearer " + auth.key };
    const init = { headers, method: body === undefined ? "GET" : "POST" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    let data = null;
    try { data = await res.json(); } catch (_e) { data = null; }
    if (!res.ok) {
      throw new ApiError(res.status, (data && data.detail) || `HTTP ${res.status}`);
    }
    return data;
  }

  // ---- formatting ----
  function pct(x) { return x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`; }
  function duration(sec) {
    if (sec === null || sec === undefined) return "–";
    if (sec < 90) return `${Math.round(sec)} s`;
    if (sec < 5400) return `${Math.round(sec / 60)} min`;
    return `${(sec / 3600).toFixed(1)} h`;
  }
  function when(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString();
  }

  // ---- sign-in ----
  function showLogin(message) {
    $("app").hidden = true;
    for (const id of ["period", "language", "logout"]) $(id).hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("key").focus();
  }

  function showApp() {
    $("login").hidden = true;
    $("app").hidden = false;
    for (const id of ["period", "language", "logout"]) $(id).hidden = false;
    $("who").textContent = auth.name ? `Signed in as ${auth.name}` : "";
  }

  function failed(err, where) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      auth.clear();
      showLogin(err.message);
      return;
    }
    (where || $("app-error")).textContent = err.message || String(err);
  }

  // ---- the report ----
  async function loadReport() {
    state.report = await api(`/api/lead/report?days=${$("period").value}`);
    const select = $("language");
    const current = select.value;
    select.replaceChildren(h("option", { value: "", text: "All languages" }),
      ...state.report.languages.map((l) => h("option", { value: l, text: l })));
    select.value = state.report.languages.includes(current) ? current : "";
    renderReport();
  }

  function renderReport() {
    const r = state.report;
    const lang = $("language").value;
    const block = lang ? r.per_language[lang] : r.totals;
    const days = lang ? r.per_day_by_language[lang] : r.per_day;
    const q = block.questions || 0;
    const share = (n) => (q ? ` (${Math.round((100 * n) / q)}%)` : "");
    const cards = [
      ["Questions", String(q)],
      ["Answered", `${block.answered}${share(block.answered)}`],
      ["Clarified", `${block.clarified}${share(block.clarified)}`],
      ["Handed off", `${block.handed_off}${share(block.handed_off)}`],
      ["Helpful", `${pct(block.helpful_share)} of ${block.helpful + block.not_helpful}`],
      ["Tickets", String(block.tickets)],
      ["First response", `${duration(block.first_response_median_s)} · p90 ${duration(block.first_response_p90_s)}`],
      ["Resolution", `${duration(block.resolution_median_s)} · p90 ${duration(block.resolution_p90_s)}`],
      ["SLA breaches", String(block.sla_breaches)],
    ];
    $("cards").replaceChildren(...cards.map(([k, v]) =>
      h("div", { class: "card" }, h("div", { class: "v", text: v }), h("div", { class: "k", text: k }))));
    $("overview-title").textContent =
      `Overview · last ${r.days} days${lang ? ` · ${lang}` : " · all languages"}`;
    $("chart-days").replaceChildren(stackedBars(days, ["answered", "clarified", "handed_off"]));
    $("chart-langs").replaceChildren(languageBars(r.per_language));
    $("chart-tickets").replaceChildren(ticketChart(days));
    renderTable(r);
  }

  function stackedBars(rows, keys) {
    const W = 360, H = 130, pad = 18;
    const max = Math.max(1, ...rows.map((d) => keys.reduce((a, k) => a + d[k], 0)));
    const bw = (W - pad) / Math.max(rows.length, 1);
    const svg = s("svg", { viewBox: `0 0 ${W} ${H + 14}`, role: "img",
                           "aria-label": "questions per day by outcome" });
    svg.append(s("text", { x: 0, y: 10, "font-size": 9, fill: "#5e6778" }));
    svg.lastChild.textContent = String(max);
    rows.forEach((d, i) => {
      let y = H;
      for (const k of keys) {
        const hgt = (d[k] / max) * (H - 14);
        if (hgt > 0) {
          y -= hgt;
          svg.append(s("rect", { x: pad + i * bw + 0.5, y, width: Math.max(bw - 1, 1), height: hgt,
                                 fill: COLORS[k] }, tip(`${d.date}: ${d[k]} ${k.replace("_", " ")}`)));
        }
      }
    });
    if (rows.length) {
      for (const [i, anchor] of [[0, "start"], [rows.length - 1, "end"]]) {
        const t = s("text", { x: anchor === "start" ? pad : W, y: H + 12, "font-size": 9,
                              "text-anchor": anchor, fill: "#5e6778" });
        t.textContent = rows[i].date.slice(5);
        svg.append(t);
      }
    }
    return svg;
  }

  function languageBars(perLanguage) {
    const langs = Object.keys(perLanguage).sort((a, b) =>
      perLanguage[b].questions - perLanguage[a].questions);
    const W = 360, row = 18, H = Math.max(row, langs.length * row);
    const max = Math.max(1, ...langs.map((l) => perLanguage[l].questions));
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img",
                           "aria-label": "questions per language by outcome" });
    langs.forEach((l, i) => {
      const b = perLanguage[l];
      const label = s("text", { x: 0, y: i * row + 12, "font-size": 11, fill: "#1b2230" });
      label.textContent = l;
      svg.append(label);
      let x = 28;
      for (const k of ["answered", "clarified", "handed_off"]) {
        const w = (b[k] / max) * (W - 70);
        if (w > 0) {
          svg.append(s("rect", { x, y: i * row + 3, width: w, height: row - 6, fill: COLORS[k] },
                       tip(`${l}: ${b[k]} ${k.replace("_", " ")}`)));
          x += w;
        }
      }
      const n = s("text", { x: x + 4, y: i * row + 12, "font-size": 10, fill: "#5e6778" });
      n.textContent = String(b.questions);
      svg.append(n);
    });
    return svg;
  }

  function ticketChart(rows) {
    const W = 360, H = 130, pad = 18;
    const max = Math.max(1, ...rows.map((d) => Math.max(d.helpful + d.not_helpful, d.tickets)));
    const bw = (W - pad) / Math.max(rows.length, 1);
    const svg = s("svg", { viewBox: `0 0 ${W} ${H + 4}`, role: "img",
                           "aria-label": "feedback and tickets per day" });
    rows.forEach((d, i) => {
      const x = pad + i * bw;
      let y = H;
      for (const k of ["helpful", "not_helpful"]) {
        const hgt = (d[k] / max) * (H - 14);
        if (hgt > 0) {
          y -= hgt;
          svg.append(s("rect", { x: x + 0.5, y, width: Math.max(bw / 2 - 1, 1), height: hgt,
                                 fill: COLORS[k] }, tip(`${d.date}: ${d[k]} ${k.replace("_", " ")}`)));
        }
      }
      const th = (d.tickets / max) * (H - 14);
      if (th > 0) {
        svg.append(s("rect", { x: x + bw / 2, y: H - th, width: Math.max(bw / 2 - 1, 1), height: th,
                               fill: COLORS.tickets }, tip(`${d.date}: ${d.tickets} tickets`)));
      }
      if (d.sla_breaches > 0) {
        svg.append(s("circle", { cx: x + (3 * bw) / 4, cy: H - th - 5, r: 2.5, fill: COLORS.sla },
                     tip(`${d.date}: ${d.sla_breaches} SLA breaches`)));
      }
    });
    return svg;
  }

  function renderTable(r) {
    const cols = [["Language", null], ["Questions", "questions"], ["Answered", "answered"],
                  ["Clarified", "clarified"], ["Handed off", "handed_off"],
                  ["Helpful", "helpful_share"], ["Tickets", "tickets"],
                  ["First resp. (median)", "first_response_median_s"],
                  ["Resolution (median)", "resolution_median_s"], ["SLA breaches", "sla_breaches"]];
    const fmt = (k, v) => (k === "helpful_share" ? pct(v) : k.endsWith("_s") ? duration(v) : String(v));
    const rows = [["all", r.totals], ...r.languages.map((l) => [l, r.per_language[l]])];
    $("lang-table").replaceChildren(
      h("thead", {}, h("tr", {}, cols.map(([t]) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, rows.map(([l, b]) => h("tr", {}, cols.map(([, k]) =>
        h("td", { text: k ? fmt(k, b[k]) : l }))))));
  }

  // ---- clusters ----
  async function loadClusters() {
    const data = await api(`/api/lead/clusters?days=${$("period").value}&limit=50`);
    state.clusters = data;
    const pending = data.pending ? ` ${data.pending} recent questions are still being grouped.` : "";
    $("clusters-note").textContent =
      `${data.total_questions} questions in ${data.total_clusters} groups, largest first ` +
      `(handed off, clarified or marked not helpful).${pending}`;
    $("clusters").replaceChildren(...(data.clusters.length
      ? data.clusters.map(renderCluster)
      : [h("p", { class: "muted", text: "Nothing unanswered in this period." })]));
  }

  function renderCluster(c) {
    const status = h("div", { class: "status", role: "status" });
    const boxes = c.examples.map((e) => {
      const box = h("input", { type: "checkbox", checked: true, value: String(e.id),
                               id: `q-${c.key}-${e.id}` });
      box.dataset.lang = e.language;
      box.dataset.text = e.text;
      return box;
    });
    const choices = [];
    if (c.nearest) {
      choices.push(c.nearest, ...c.nearest.alternatives);
    }
    const seen = new Set(choices.map((x) => x.faq_id));
    const entrySelect = h("select", { "aria-label": "Entry to add the questions to" },
      choices.map((x) => h("option", { value: x.faq_id, text: `${x.faq_id} (${x.score.toFixed(2)})` })),
      (state.entries ? state.entries.entries : []).filter((e) => !seen.has(e.id))
        .map((e) => h("option", { value: e.id, text: e.id })));
    const chosen = () => boxes.filter((b) => b.checked);

    const addButton = h("button", { type: "button", class: "primary", text: "Add as phrasings",
      onclick: async () => {
        const picked = chosen();
        if (!picked.length) { status.textContent = "Choose at least one question."; return; }
        addButton.disabled = true;
        status.className = "status";
        status.textContent = "Saving…";
        try {
          const out = await api("/api/lead/clusters/add-phrasings", {
            entry_id: entrySelect.value, cluster: c.key,
            question_ids: picked.map((b) => Number(b.value)) });
          done(status, out);
        } catch (err) {
          status.className = "status err";
          failed(err, status);
        } finally { addButton.disabled = false; }
      } });

    const form = newEntryForm(c, chosen, status);
    const newButton = h("button", { type: "button", class: "secondary", text: "New entry…",
      onclick: () => { form.hidden = !form.hidden; } });
    const dismissButton = h("button", { type: "button", class: "quiet", text: "Not for the FAQ",
      onclick: async () => {
        try {
          await api("/api/lead/clusters/dismiss", { key: c.key });
          await refresh();
        } catch (err) { status.className = "status err"; failed(err, status); }
      } });

    const kinds = Object.entries(c.kinds).filter(([, n]) => n > 0)
      .map(([k, n]) => h("span", { class: "badge kind", text: `${n} ${k.replace("_", " ")}` }));
    return h("article", { class: "cluster", "data-key": c.key, "aria-label": `cluster ${c.key}` },
      h("div", { class: "head" },
        h("span", { class: "n", text: String(c.count) }),
        h("span", { class: "muted", text: c.count === 1 ? "question" : "questions" }),
        Object.entries(c.languages).map(([l, n]) => h("span", { class: "badge", text: `${l} ${n}` })),
        kinds),
      h("ul", { class: "examples" }, c.examples.map((e, i) => h("li", {},
        boxes[i], " ", h("label", { for: boxes[i].id, text: e.text }),
        h("span", { class: "lang", text: e.language })))),
      h("div", { class: "nearest", text: c.nearest
        ? `Nearest entry: ${c.nearest.faq_id} (score ${c.nearest.score.toFixed(2)}) — “${c.nearest.question}”`
        : "No entry is near." }),
      h("div", { class: "actions" }, entrySelect, addButton, newButton, dismissButton),
      form, status);
  }

  function newEntryForm(c, chosen, status) {
    const ent = state.entries || { files: [], default_language: "en" };
    const file = h("select", { class: "field" }, ent.files.map((f) => h("option", { value: f, text: f })));
    const id = h("input", { class: "field", placeholder: "gift-cards", pattern: "[a-z0-9][a-z0-9._-]*" });
    const category = h("input", { class: "field", placeholder: "(file name)" });
    const answer = h("textarea", { class: "field", rows: 3 });
    const uid = c.key;
    file.id = `file-${uid}`; id.id = `id-${uid}`; category.id = `cat-${uid}`; answer.id = `ans-${uid}`;
    const save = h("button", { type: "button", class: "primary", text: "Create entry",
      onclick: async () => {
        const picked = chosen();
        const questions = {};
        for (const b of picked) (questions[b.dataset.lang] = questions[b.dataset.lang] || []).push(b.dataset.text);
        save.disabled = true;
        status.className = "status";
        status.textContent = "Saving…";
        try {
          const out = await api("/api/lead/clusters/new-entry", {
            file: file.value, id: id.value.trim(), category: category.value.trim() || null,
            questions, answer: { [ent.default_language]: answer.value }, cluster: c.key });
          done(status, out);
        } catch (err) {
          status.className = "status err";
          failed(err, status);
        } finally { save.disabled = false; }
      } });
    return h("div", { class: "newentry", hidden: true },
      h("div", {}, h("label", { for: file.id, text: "File" }), file),
      h("div", {}, h("label", { for: id.id, text: "Entry id" }), id),
      h("div", {}, h("label", { for: category.id, text: "Category" }), category),
      h("div", { class: "wide" },
        h("label", { for: answer.id, text: `Answer (${ent.default_language})` }), answer),
      h("div", { class: "wide" }, save));
  }

  async function done(status, out) {
    const live = out.reload.reload_ok ? "live now" : `not live: ${out.reload.reload_error}`;
    status.className = out.reload.reload_ok ? "status ok" : "status err";
    status.textContent = `${out.change.summary} in ${out.change.file} — ${live}.`;
    await Promise.all([loadHistory(), loadEntries()]);
  }

  // ---- history ----
  async function loadHistory() {
    const data = await api("/api/lead/history?limit=50");
    $("history").replaceChildren(...(data.changes.length
      ? data.changes.map((c) => h("li", {},
          h("time", { datetime: c.created_at, text: when(c.created_at) }),
          h("strong", { text: c.author }), ` · ${c.summary} (${c.file})`))
      : [h("li", { class: "muted", text: "No changes yet." })]));
  }

  async function loadEntries() {
    state.entries = await api("/api/lead/entries");
  }

  async function refresh() {
    $("app-error").textContent = "";
    try {
      await loadEntries();
      await Promise.all([loadReport(), loadClusters(), loadHistory()]);
    } catch (err) { failed(err); }
  }

  /** Check the stored key: who it belongs to, and that they are a lead (else 403). */
  async function signIn() {
    try {
      const me = await api("/api/me");
      await api("/api/lead/status");
      auth.name = me.name;
    } catch (err) {
      auth.clear();
      showLogin(err instanceof ApiError && (err.status === 401 || err.status === 403)
        ? err.message : `Cannot sign in: ${err.message}`);
      return;
    }
    $("key").value = "";
    showApp();
    refresh();
  }

  function start() {
    $("login").addEventListener("submit", (ev) => {
      ev.preventDefault();
      auth.save($("key").value.trim());
      signIn();
    });
    $("logout").addEventListener("click", () => { auth.clear(); showLogin("Signed out."); });
    $("period").addEventListener("change", refresh);
    $("language").addEventListener("change", () => { if (state.report) renderReport(); });
    if (auth.key) signIn(); else showLogin("");
  }

  start();
})();
