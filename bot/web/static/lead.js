/*
 * The support lead's page: period report with small SVG charts (dates on the axis, values on
 * hover and keyboard focus), clusters of what the bot could not answer (add phrasings, new
 * entry, dismiss), answers per entry with their thumbs up / down, an answer editor for any
 * language (the YAML is edited round-trip on the server) and the change history.
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
  const state = { report: null, clusters: null, entries: null, feedback: null, editing: null,
    learned: null };

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

  // An edit answered 409 met another edit of the FAQ (another lead, another server's push);
  // the server has already re-run it on the new file a few times, so a moment later it mostly
  // goes through. Try twice more before showing the server's reason.
  const EDIT_RETRIES_MS = [300, 900];
  async function edit(path, body) {
    for (let i = 0; ; i++) {
      try {
        return await api(path, body);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 409 || i >= EDIT_RETRIES_MS.length) throw err;
        await new Promise((resolve) => setTimeout(resolve, EDIT_RETRIES_MS[i]));
      }
    }
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
      ["CSAT", csatCard(lang ? r.csat.per_language[lang] : r.csat.totals)],
    ];
    // CSAT arrives with the ratings after a conversation (issue 16): shown once reported.
    if (block.csat_share !== undefined) {
      cards.push(["Satisfaction (CSAT)", `${pct(block.csat_share)} of ${block.csat_rated || 0}`]);
    }
    $("cards").replaceChildren(...cards.map(([k, v]) =>
      h("div", { class: "card" }, h("div", { class: "v", text: v }), h("div", { class: "k", text: k }))));
    $("overview-title").textContent =
      `Overview · last ${r.days} days${lang ? ` · ${lang}` : " · all languages"}`;
    $("chart-days").replaceChildren(stackedBars(days, ["answered", "clarified", "handed_off"]));
    $("chart-langs").replaceChildren(languageBars(r.per_language));
    $("chart-tickets").replaceChildren(ticketChart(days));
    renderTable(r);
    renderCsat(r.csat);
  }

  function csatCard(c) {
    if (!c || !c.ratings) return "–";
    return `${c.average.toFixed(1)} / 5 · ${pct(c.satisfied_share)} of ${c.ratings}`;
  }

  /** CSAT per language, per agent and for conversations the bot handled alone. */
  function renderCsat(c) {
    const rows = [
      ["all", c.totals],
      ...Object.entries(c.per_language).map(([k, v]) => [`language ${k}`, v]),
      ...Object.entries(c.per_agent).map(([k, v]) => [`agent ${k}`, v]),
      ["bot only (no person)", c.bot_only],
    ];
    const cols = ["Group", "Ratings", "Average", "Satisfied (4-5)", "1", "2", "3", "4", "5"];
    $("csat-table").replaceChildren(
      h("thead", {}, h("tr", {}, cols.map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, rows.map(([name, b]) => h("tr", {},
        [name, String(b.ratings), b.average === null ? "–" : b.average.toFixed(2),
          pct(b.satisfied_share), ...["1", "2", "3", "4", "5"].map((k) => String(b.scores[k] || 0))]
          .map((v) => h("td", { text: v }))))));
  }

  // ---- charts: dates on the axis, values on hover and on keyboard focus ----
  const LABELS = { answered: "answered", clarified: "clarified", handed_off: "handed off",
                   helpful: "helpful", not_helpful: "not helpful", tickets: "tickets",
                   sla_breaches: "SLA breaches", questions: "questions" };

  function niceMax(v) {
    if (v <= 4) return Math.max(1, v);
    const p = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function dayLabel(iso, long) {
    const d = new Date(iso + "T00:00:00Z");
    if (isNaN(d)) return iso;
    return d.toLocaleDateString(undefined, long
      ? { weekday: "short", month: "short", day: "numeric", timeZone: "UTC" }
      : { month: "short", day: "numeric", timeZone: "UTC" });
  }

  /**
   * A bar chart per day: stacked ``stack`` series and, optionally, a second bar per day
   * (``side``). One tab stop: arrow keys, Home and End move between days; the hovered or
   * focused day's values show in a tooltip and are read out (aria-live).
   */
  function dayChart(rows, { stack, side, title }) {
    const W = 360, H = 150, left = 30, bottom = 20, top = 8;
    const plotH = H - bottom - top, plotW = W - left - 4;
    const totals = rows.map((d) => Math.max(stack.reduce((a, k) => a + d[k], 0),
                                            side ? d[side] : 0));
    const max = niceMax(Math.max(0, ...totals));
    const step = plotW / Math.max(rows.length, 1);
    const y = (v) => top + plotH - (v / max) * plotH;
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title,
                           class: "daychart" });
    // Counts are whole numbers: so are the gridlines.
    for (const v of new Set([0, Math.round(max / 2), max])) {
      svg.append(s("line", { x1: left, x2: W, y1: y(v), y2: y(v), stroke: "#e1e5eb" }));
      const t = s("text", { x: left - 4, y: y(v) + 3, "font-size": 10, "text-anchor": "end",
                            fill: "#5e6778" });
      t.textContent = String(v);
      svg.append(t);
    }
    const every = Math.max(1, Math.ceil(rows.length / 6));
    const highlight = s("rect", { x: 0, y: top, width: step, height: plotH, fill: "#2454d6",
                                  opacity: 0, class: "hl" });
    svg.append(highlight);
    rows.forEach((d, i) => {
      const x = left + i * step;
      const w = Math.max(side ? step / 2 - 1 : step - 1, 1);
      let base = 0;
      for (const k of stack) {
        if (d[k] > 0) {
          svg.append(s("rect", { x: x + 0.5, y: y(base + d[k]), width: w,
                                 height: y(base) - y(base + d[k]), fill: COLORS[k] }));
          base += d[k];
        }
      }
      if (side && d[side] > 0) {
        svg.append(s("rect", { x: x + step / 2, y: y(d[side]), width: w,
                               height: y(0) - y(d[side]), fill: COLORS[side] }));
      }
      if (side && d.sla_breaches > 0) {
        svg.append(s("circle", { cx: x + (3 * step) / 4, cy: y(d[side]) - 5, r: 2.5,
                                 fill: COLORS.sla }));
      }
      const last = i === rows.length - 1;
      if (i % every === 0 || last) {
        if (last && i % every !== 0 && (i % every) < every / 2) return;
        // The last label ends at the edge rather than being cut by it.
        const t = s("text", { x: last ? W - 1 : x + step / 2, y: H - 6, "font-size": 10,
                              "text-anchor": last && rows.length > 1 ? "end" : "middle",
                              fill: "#5e6778", class: "tick" });
        t.textContent = dayLabel(d.date, false);
        svg.append(t);
      }
    });
    const keys = [...stack, ...(side ? [side, "sla_breaches"] : [])];
    const describe = (d) => {
      const parts = keys.filter((k) => k in d).map((k) => `${d[k]} ${LABELS[k]}`);
      const total = stack.length > 1 ? `${stack.reduce((a, k) => a + d[k], 0)} in all · ` : "";
      return `${dayLabel(d.date, true)}: ${total}${parts.join(" · ")}`;
    };
    return interactive(svg, rows.map(describe), (i) => {
      highlight.setAttribute("x", left + i * step);
      highlight.setAttribute("opacity", 0.08);
      return (left + (i + 0.5) * step) / W;
    }, (vx) => Math.floor((vx - left) / step), W);
  }

  /** Wrap a chart with a tooltip shown on hover and on keyboard focus (arrow keys). */
  function interactive(svg, labels, mark, indexAt, viewW) {
    const wrap = h("div", { class: "chartwrap" });
    const tipEl = h("div", { class: "charttip", role: "status", "aria-live": "polite", hidden: true });
    let current = -1;
    const show = (i) => {
      if (i < 0 || i >= labels.length) return;
      current = i;
      const at = mark(i); // where the item is, as a fraction of the width (bars only)
      tipEl.textContent = labels[i];
      tipEl.hidden = false;
      // The tip sits beside the day it describes, on the side with room.
      tipEl.style.left = at !== undefined && at < 0.55 ? `${Math.round(at * 100)}%` : "";
      tipEl.style.right = at !== undefined && at >= 0.55 ? `${Math.round((1 - at) * 100)}%` : "";
    };
    const hide = () => {
      tipEl.hidden = true;
      for (const hl of svg.querySelectorAll(".hl")) hl.setAttribute("opacity", 0);
    };
    svg.setAttribute("tabindex", "0");
    svg.addEventListener("mousemove", (e) => {
      const box = svg.getBoundingClientRect();
      show(indexAt(((e.clientX - box.left) / box.width) * viewW,
                   ((e.clientY - box.top) / box.height)));
    });
    svg.addEventListener("mouseleave", () => { if (document.activeElement !== svg) hide(); });
    svg.addEventListener("focus", () => show(current >= 0 ? current : labels.length - 1));
    svg.addEventListener("blur", hide);
    svg.addEventListener("keydown", (e) => {
      const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
      if (e.key in moves) show(Math.min(labels.length - 1, Math.max(0, current + moves[e.key])));
      else if (e.key === "Home") show(0);
      else if (e.key === "End") show(labels.length - 1);
      else return;
      e.preventDefault();
    });
    wrap.append(svg, tipEl);
    return wrap;
  }

  function stackedBars(rows, keys) {
    return dayChart(rows, { stack: keys, title: "Questions per day by outcome; use the arrow keys to read each day" });
  }

  function ticketChart(rows) {
    return dayChart(rows, { stack: ["helpful", "not_helpful"], side: "tickets",
      title: "Feedback and tickets per day; use the arrow keys to read each day" });
  }

  function languageBars(perLanguage) {
    const langs = Object.keys(perLanguage).sort((a, b) =>
      perLanguage[b].questions - perLanguage[a].questions);
    const W = 360, row = 20, H = Math.max(row, langs.length * row);
    const max = Math.max(1, ...langs.map((l) => perLanguage[l].questions));
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img",
                           "aria-label": "Questions per language by outcome; use the arrow keys to read each language" });
    const highlight = s("rect", { x: 0, y: 0, width: W, height: row, fill: "#2454d6", opacity: 0,
                                  class: "hl" });
    svg.append(highlight);
    langs.forEach((l, i) => {
      const b = perLanguage[l];
      const label = s("text", { x: 0, y: i * row + 14, "font-size": 11, fill: "#1b2230" });
      label.textContent = l;
      svg.append(label);
      let x = 28;
      for (const k of ["answered", "clarified", "handed_off"]) {
        const w = (b[k] / max) * (W - 70);
        if (w > 0) {
          svg.append(s("rect", { x, y: i * row + 4, width: w, height: row - 8, fill: COLORS[k] }));
          x += w;
        }
      }
      const n = s("text", { x: x + 4, y: i * row + 14, "font-size": 10, fill: "#5e6778" });
      n.textContent = String(b.questions);
      svg.append(n);
    });
    const labels = langs.map((l) => {
      const b = perLanguage[l];
      return `${l}: ${b.questions} questions · ${b.answered} answered · ${b.clarified} clarified · ${b.handed_off} handed off`;
    });
    return interactive(svg, labels, (i) => {
      highlight.setAttribute("y", i * row);
      highlight.setAttribute("opacity", 0.08);
    }, (_vx, fy) => Math.floor((fy * H) / row), W);
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
    const data = await api(`/api/lead/clusters?days=${$("period").value}&limit=50&examples=12`);
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
    const near = new Map();
    if (c.nearest) {
      for (const x of [c.nearest, ...c.nearest.alternatives]) near.set(x.faq_id, x.score);
    }
    // Nearest entries first (with their score), then every other entry, all searchable.
    const choices = () => {
      const list = entryChoices();
      const first = list.filter((e) => near.has(e.id))
        .sort((a, b) => near.get(b.id) - near.get(a.id))
        .map((e) => ({ ...e, note: `score ${near.get(e.id).toFixed(2)}` }));
      return [...first, ...list.filter((e) => !near.has(e.id))];
    };
    const picker = entryPicker({ label: "Entry to add the questions to", choices,
                                 value: c.nearest ? c.nearest.faq_id : null });
    const chosen = () => boxes.filter((b) => b.checked);

    const addButton = h("button", { type: "button", class: "primary", text: "Add as phrasings",
      onclick: async () => {
        const picked = chosen();
        if (!picked.length) { status.textContent = "Choose at least one question."; return; }
        if (!picker.value) { status.textContent = "Choose the entry first."; return; }
        addButton.disabled = true;
        status.className = "status";
        status.textContent = "Saving…";
        try {
          const out = await edit("/api/lead/clusters/add-phrasings", {
            entry_id: picker.value, cluster: c.key,
            question_ids: picked.map((b) => Number(b.value)) });
          done(status, out);
        } catch (err) {
          status.className = "status err";
          failed(err, status);
        } finally { addButton.disabled = false; }
      } });

    const form = newEntryForm(c, chosen, status);
    const newButton = h("button", { type: "button", class: "secondary", text: "New entry…",
      "aria-expanded": "false",
      onclick: () => {
        form.hidden = !form.hidden;
        newButton.setAttribute("aria-expanded", String(!form.hidden));
      } });
    const dismissButton = h("button", { type: "button", class: "quiet", text: "Not for the FAQ",
      onclick: async () => {
        try {
          await api("/api/lead/clusters/dismiss", { key: c.key });
          await refresh();
        } catch (err) { status.className = "status err"; failed(err, status); }
      } });

    const kinds = Object.entries(c.kinds).filter(([, n]) => n > 0)
      .map(([k, n]) => h("span", { class: "badge kind", text: `${n} ${k.replace("_", " ")}` }));
    // Every question of the count is accounted for: shown, repeated (×n) or "more".
    const shownCount = c.examples.reduce((a, e) => a + (e.repeats || 1), 0);
    const more = c.count - shownCount;
    return h("article", { class: "cluster", "data-key": c.key, "aria-label": `cluster ${c.key}` },
      h("div", { class: "head" },
        h("span", { class: "n", text: String(c.count) }),
        h("span", { class: "muted", text: c.count === 1 ? "question" : "questions" }),
        Object.entries(c.languages).map(([l, n]) => h("span", { class: "badge", text: `${l} ${n}` })),
        kinds),
      h("ul", { class: "examples" }, c.examples.map((e, i) => h("li", {},
        boxes[i], " ", h("label", { for: boxes[i].id, text: e.text }),
        e.repeats > 1 ? h("span", { class: "badge kind", text: `×${e.repeats}`,
                                    title: `asked ${e.repeats} times in these words` }) : null,
        h("span", { class: "lang", text: e.language }))),
        more > 0 ? h("li", { class: "muted more",
          text: `and ${more} more ${more === 1 ? "question" : "questions"} (older, or no longer kept)` }) : null),
      h("div", { class: "nearest", text: c.nearest
        ? `Nearest entry: ${c.nearest.faq_id} (score ${c.nearest.score.toFixed(2)}) — “${c.nearest.question}”`
        : "No entry is near." }),
      h("div", { class: "actions" }, picker.el, addButton, newButton, dismissButton),
      form, status);
  }

  // ---- a searchable entry picker (ARIA 1.2 combobox with a listbox popup) ----
  let pickerSeq = 0;

  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function entryChoices() {
    return (state.entries ? state.entries.entries : []).map((e) => ({
      id: e.id, title: e.question || e.id, category: e.category, note: "" }));
  }

  function entryPicker({ label, choices, value, onPick }) {
    const n = ++pickerSeq;
    const listId = `picker-${n}`;
    const input = h("input", { class: "field picker", type: "text", role: "combobox",
      "aria-label": label, "aria-autocomplete": "list", "aria-expanded": "false",
      "aria-controls": listId, autocomplete: "off", spellcheck: "false",
      placeholder: "Search entries by title or id" });
    const list = h("ul", { class: "options", role: "listbox", id: listId, hidden: true,
                           "aria-label": label });
    const box = h("div", { class: "pickerbox" }, input, list);
    let selected = null;
    let shown = [];
    let active = -1;
    const show = (e) => (e ? `${e.title} · ${e.id}` : "");
    const set = (e) => { selected = e ? e.id : null; input.value = show(e); box.dataset.value = selected || ""; };
    function move(i) {
      active = i;
      [...list.children].forEach((li, j) => li.setAttribute("aria-selected", String(j === i)));
      if (i >= 0 && list.children[i]) {
        input.setAttribute("aria-activedescendant", `${listId}-${i}`);
        list.children[i].scrollIntoView({ block: "nearest" });
      } else input.removeAttribute("aria-activedescendant");
    }
    function open(query) {
      const needle = fold(query).trim();
      shown = choices().filter((e) => !needle
        || fold(`${e.id} ${e.title} ${e.category || ""}`).includes(needle)).slice(0, 60);
      list.replaceChildren(...shown.map((e, i) => h("li", { role: "option", id: `${listId}-${i}`,
        "aria-selected": "false", onmousedown: (ev) => { ev.preventDefault(); choose(i); } },
        h("span", { class: "t", text: e.title }),
        h("span", { class: "i", text: e.note ? `${e.id} · ${e.note}` : e.id }))));
      if (!shown.length) list.append(h("li", { class: "none", role: "presentation",
                                               text: "No entry matches." }));
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      move(shown.length ? 0 : -1);
    }
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      move(-1);
    }
    function choose(i) {
      const e = shown[i];
      if (!e) return;
      set(e);
      close();
      if (onPick) onPick(e.id);
    }
    input.addEventListener("focus", () => input.select());
    input.addEventListener("click", () => { if (list.hidden) open(""); });
    input.addEventListener("input", () => open(input.value));
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "ArrowDown") {
        if (list.hidden) open(""); else move(Math.min(shown.length - 1, active + 1));
      } else if (ev.key === "ArrowUp") {
        if (!list.hidden) move(Math.max(0, active - 1));
      } else if (ev.key === "Enter") {
        if (list.hidden || active < 0) return;
        choose(active);
      } else if (ev.key === "Escape") {
        if (list.hidden) return;
        close();
        ev.stopPropagation();
      } else return;
      ev.preventDefault();
    });
    input.addEventListener("blur", () => {
      close();
      set(choices().find((x) => x.id === selected) || null); // typing alone never picks
    });
    set(choices().find((x) => x.id === value) || null);
    return {
      el: box,
      get value() { return selected; },
      pick(id) { set(choices().find((x) => x.id === id) || null); if (onPick && selected) onPick(selected); },
    };
  }

  // ---- the answer editor ----
  const langName = (code) => {
    try { return new Intl.DisplayNames(["en"], { type: "language" }).of(code) || code; }
    catch (_e) { return code; }
  };

  function setupEditor() {
    const picker = entryPicker({ label: "Entry to edit", choices: entryChoices, value: null,
                                 onPick: (id) => openEntry(id) });
    $("editor-picker").replaceChildren(picker.el);
    state.editorPicker = picker;
  }

  async function openEntry(id, lang) {
    const status = $("answer-status");
    status.className = "status";
    status.textContent = "";
    let entry;
    try {
      entry = await api(`/api/lead/entries/${encodeURIComponent(id)}`);
    } catch (err) { status.className = "status err"; failed(err, status); return; }
    state.editing = entry;
    $("entry-view").hidden = false;
    const langs = state.entries ? state.entries.languages : Object.keys(entry.answer);
    const def = state.entries ? state.entries.default_language : "en";
    const select = $("answer-lang");
    const current = lang || (langs.includes(select.value) ? select.value : def);
    select.replaceChildren(...langs.map((l) => h("option", { value: l,
      text: `${langName(l)} (${l}) · ${entry.drafts.includes(l) ? "machine draft"
        : entry.answer[l] ? "written" : "not written"}` })));
    select.value = current;
    $("entry-meta").textContent =
      `${entry.title} — ${entry.id} in ${entry.file}.yaml · ${entry.category} · answers in ` +
      `${Object.keys(entry.answer).length} of ${langs.length} languages`;
    showAnswer();
  }

  function showAnswer() {
    const entry = state.editing;
    if (!entry) return;
    const lang = $("answer-lang").value;
    const def = state.entries ? state.entries.default_language : "en";
    const text = entry.answer[lang] || "";
    $("answer-label").textContent = `Answer in ${langName(lang)}`;
    $("answer-text").value = text;
    $("answer-text").dataset.expected = text;
    $("answer-text").lang = lang;
    const note = entry.drafts.includes(lang)
      ? "A machine draft shoppers already get, marked as machine-translated: saving makes it reviewed."
      : text ? "" : `Not written yet: shoppers who write in ${langName(lang)} get the ${langName(def)} answer (translated when a pack is installed), and are told so.`;
    $("answer-note").textContent = note;
    $("answer-note").hidden = !note;
    const qs = entry.questions[lang] || [];
    $("answer-questions").replaceChildren(...(qs.length ? qs.map((q) => h("li", { text: q }))
      : [h("li", { class: "muted", text: "No phrasing in this language (matching works across languages)." })]));
  }

  async function saveAnswer() {
    const entry = state.editing;
    const status = $("answer-status");
    if (!entry) return;
    const lang = $("answer-lang").value;
    const area = $("answer-text");
    $("answer-save").disabled = true;
    status.className = "status";
    status.textContent = "Saving…";
    try {
      const out = await edit(`/api/lead/entries/${encodeURIComponent(entry.id)}/answer`, {
        language: lang, text: area.value, expected: area.dataset.expected });
      await done(status, out);
      await openEntry(entry.id, lang);
      status.className = out.reload.reload_ok ? "status ok" : "status err";
      status.textContent = `${out.change.summary} in ${out.change.file} — ${
        out.reload.reload_ok ? "live now" : `not live: ${out.reload.reload_error}`}.`;
    } catch (err) {
      status.className = "status err";
      failed(err, status);
    } finally { $("answer-save").disabled = false; }
  }

  // ---- how each entry's answers fare ----
  async function loadFeedback() {
    state.feedback = await api(`/api/lead/feedback?days=${$("period").value}`);
    renderFeedback();
  }

  function renderFeedback() {
    const rows = state.feedback ? state.feedback.entries : [];
    const all = $("feedback-all").getAttribute("aria-pressed") === "true";
    const visible = all ? rows : rows.slice(0, 10);
    $("feedback-all").hidden = rows.length <= 10;
    $("feedback-all").textContent = all ? "Show the top 10" : `Show all ${rows.length}`;
    if (!rows.length) {
      $("entry-feedback").replaceChildren(h("caption", { class: "muted",
        text: "No answers in this period yet." }));
      return;
    }
    $("entry-feedback").replaceChildren(
      h("thead", {}, h("tr", {}, ["Entry", "Answered", "Helpful", "Not helpful", ""].map((t) =>
        h("th", { scope: "col", text: t })))),
      h("tbody", {}, visible.map((r) => h("tr", {},
        h("td", {}, h("span", { text: r.title || r.faq_id }), h("br"),
          h("span", { class: "muted small", text: r.faq_id })),
        h("td", { text: String(r.answered) }),
        h("td", { text: String(r.helpful) }),
        h("td", { class: r.not_helpful ? "bad" : "", text: String(r.not_helpful) }),
        h("td", {}, h("button", { type: "button", class: "secondary small",
          "aria-label": `Edit answer: ${r.title || r.faq_id}`, text: "Edit answer",
          onclick: () => {
            state.editorPicker.pick(r.faq_id);
            $("answers-title").scrollIntoView({ behavior: "smooth", block: "start" });
            $("answer-text").focus({ preventScroll: true });
          } }))))));
  }

  // ---- phrasings learned from chips shoppers picked ----
  async function loadLearned() {
    state.learned = await api("/api/lead/learned");
    renderLearned();
  }

  function renderLearned() {
    const rows = state.learned ? state.learned.suggestions : [];
    if (!rows.length) {
      $("learned").replaceChildren(h("caption", { class: "muted",
        text: "No suggestions yet: they come from chips shoppers tap." }));
      return;
    }
    $("learned").replaceChildren(
      h("thead", {}, h("tr", {}, ["Shopper's question", "Entry", "Times", ""].map((t) =>
        h("th", { scope: "col", text: t })))),
      h("tbody", {}, rows.map((r) => h("tr", { "data-id": String(r.id) },
        h("td", { lang: r.language }, h("span", { text: r.question }), h("br"),
          h("span", { class: "muted small", text: r.language })),
        h("td", {}, h("span", { text: r.title || r.faq_id }), h("br"),
          h("span", { class: "muted small", text: r.faq_id })),
        h("td", { text: String(r.count) }),
        h("td", {},
          h("button", { type: "button", class: "primary small", text: "Accept",
            "aria-label": `Accept "${r.question}" as a phrasing of ${r.faq_id}`,
            onclick: () => decideLearned(r, "accept") }), " ",
          h("button", { type: "button", class: "secondary small", text: "Dismiss",
            "aria-label": `Dismiss "${r.question}"`,
            onclick: () => decideLearned(r, "dismiss") }))))));
  }

  async function decideLearned(r, verb) {
    const status = $("learned-status");
    status.className = "status";
    status.textContent = "Saving…";
    try {
      const out = await api(`/api/lead/learned/${r.id}/${verb}`, {});
      if (verb === "accept") await done(status, out);
      else {
        status.className = "status ok";
        status.textContent = `"${r.question}" dismissed.`;
      }
      await loadLearned();
    } catch (err) {
      status.className = "status err";
      failed(err, status);
    }
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
          const out = await edit("/api/lead/clusters/new-entry", {
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
      if (!state.editorPicker) setupEditor();
      await Promise.all([loadReport(), loadClusters(), loadHistory(), loadFeedback(),
        loadLearned()]);
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
    $("answer-lang").addEventListener("change", showAnswer);
    $("answer-save").addEventListener("click", saveAnswer);
    $("answer-undo").addEventListener("click", showAnswer);
    $("feedback-all").addEventListener("click", () => {
      const on = $("feedback-all").getAttribute("aria-pressed") === "true";
      $("feedback-all").setAttribute("aria-pressed", String(!on));
      renderFeedback();
    });
    if (auth.key) signIn(); else showLogin("");
  }

  start();
})();
