/* faqbot agent console: queue, claim, transcript, reply, resolve, release.
 *
 * The agent key and name live in sessionStorage (this tab only) and go out as the
 * X-Agent-Key / X-Agent-Name headers. Every piece of ticket data is put on the page with
 * textContent: shopper text is untrusted and must never become markup here either.
 */
(() => {
  "use strict";

  const QUEUE_POLL_MS = 3000;
  const $ = (id) => document.getElementById(id);
  // Language names come from the browser; the list of languages from the server (/api/config).
  const names = (() => {
    try { return new Intl.DisplayNames(["en"], { type: "language" }); } catch { return null; }
  })();
  function languageName(code) {
    try { return (names && names.of(code)) || code; } catch { return code; }
  }

  const auth = {
    get key() { return sessionStorage.getItem("faqbot.agentKey") || ""; },
    get name() { return sessionStorage.getItem("faqbot.agentName") || ""; },
    save(key, name) {
      sessionStorage.setItem("faqbot.agentKey", key);
      sessionStorage.setItem("faqbot.agentName", name);
    },
    clear() {
      sessionStorage.removeItem("faqbot.agentKey");
      sessionStorage.removeItem("faqbot.agentName");
    },
  };

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) el.append(c);
    return el;
  }

  class HttpError extends Error {
    constructor(status, detail) { super(detail || "HTTP " + status); this.status = status; }
  }

  function authHeaders() {
    return { "X-Agent-Key": auth.key, "X-Agent-Name": auth.name || "agent" };
  }

  async function api(path, body) {
    const headers = { Accept: "application/json", ...authHeaders() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(path, {
        method: body === undefined ? "GET" : "POST", headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new HttpError(0, "The server cannot be reached. Retrying…");
    }
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    if (!res.ok) {
      throw new HttpError(res.status, (data && typeof data.detail === "string" && data.detail)
        || res.statusText);
    }
    return data;
  }

  // ------------------------------------------------------------ formatting
  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min";
    const hrs = Math.floor(m / 60);
    if (hrs < 48) return hrs + " h " + (m % 60) + " min";
    return Math.floor(hrs / 24) + " d";
  }

  function timeOf(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  /** Describe the SLA state: breached, due soon (under 25% of the time left) or fine. */
  function sla(ticket, fetchedAt) {
    if (ticket.state === "resolved") return { cls: "ok", text: "Resolved" };
    if (ticket.sla_breached) return { cls: "breached", text: "SLA breached" };
    const due = new Date(ticket.due_at).getTime();
    if (isNaN(due)) return { cls: "ok", text: "" };
    const left = (due - Date.now()) / 1000;
    if (left <= 0) return { cls: "breached", text: "SLA breached" };
    const created = new Date(ticket.created_at).getTime();
    const total = isNaN(created) ? left : (due - created) / 1000;
    return { cls: left < total * 0.25 ? "soon" : "ok", text: "due in " + duration(left) };
  }

  function waiting(ticket, fetchedAt) {
    return duration((ticket.waiting_seconds || 0) + (Date.now() - fetchedAt) / 1000);
  }

  function langLabel(code) {
    return code ? code.toUpperCase() : "?";
  }

  // ------------------------------------------------------------ state
  let stateFilter = "open";
  let tickets = [];
  let fetchedAt = Date.now();
  let selectedId = null;
  let selected = null; // the detail of the selected ticket
  let queueTimer = null;
  let seen = null; // open ticket ids seen so far (null until the first load of the open queue)
  const fresh = new Set();
  const languagesSeen = new Set();

  function setStatus(text, bad) {
    const el = $("status");
    el.hidden = !text;
    el.textContent = text || "";
    el.classList.toggle("bad", !!bad);
  }

  function showLogin(message) {
    clearTimeout(queueTimer);
    $("app").hidden = true;
    $("login").hidden = false;
    $("signout").hidden = true;
    $("who").textContent = "";
    $("login-error").textContent = message || "";
    $("name").value = auth.name || $("name").value;
    ($("key").value ? $("name") : $("key")).focus();
  }

  function showApp() {
    $("login").hidden = true;
    $("app").hidden = false;
    $("signout").hidden = false;
    $("who").textContent = "Signed in as " + auth.name;
  }

  function handleError(err) {
    if (err.status === 401 || err.status === 403) {
      auth.clear();
      showLogin("The agent key was not accepted. Check it and sign in again.");
      return true;
    }
    setStatus(err.message, true);
    return false;
  }

  // ------------------------------------------------------------ queue
  async function loadQueue() {
    clearTimeout(queueTimer);
    const params = new URLSearchParams({ state: stateFilter });
    if ($("f-lang").value) params.set("language", $("f-lang").value);
    if ($("f-prio").value) params.set("priority", $("f-prio").value);
    try {
      const data = await api("/api/agent/tickets?" + params);
      tickets = data.tickets || [];
      fetchedAt = Date.now();
      setStatus("");
      // Only tickets arriving in the open queue count as new; the first load sets the baseline.
      const baseline = seen === null;
      if (baseline) seen = new Set();
      for (const t of tickets) {
        if (stateFilter === "open" && !seen.has(t.id)) {
          if (!baseline) fresh.add(t.id);
          seen.add(t.id);
        }
        addLanguage(t.language);
      }
      if (baseline && stateFilter !== "open") seen = null;
      renderQueue();
    } catch (err) {
      if (handleError(err)) return;
    }
    queueTimer = setTimeout(tick, QUEUE_POLL_MS);
  }

  async function tick() {
    await loadQueue();
    if (selectedId !== null && !$("app").hidden) await loadTicket(selectedId, false);
  }

  function renderQueue() {
    const list = $("list");
    const items = tickets.map((t) => {
      const s = sla(t, fetchedAt);
      const line1 = h("span", { class: "line1" },
        h("span", { class: "id", text: "#" + t.id }),
        h("span", { class: "pill", title: languageName(t.language),
          text: langLabel(t.language) }),
        h("span", { class: "pill" + (t.priority === "urgent" ? " urgent" : ""),
          text: t.priority || "normal" }),
        t.claimed_by ? h("span", { class: "pill", text: "claimed" }) : null,
        fresh.has(t.id) ? h("span", { class: "pill newflag", text: "new" }) : null);
      const preview = h("span", { class: "preview", text: t.asked_about || t.preview || t.reason || "" });
      const line3 = h("span", { class: "line3" },
        h("span", { text: "waiting " + waiting(t, fetchedAt) }),
        h("span", { class: "sla " + s.cls, text: s.text }),
        t.claimed_by ? h("span", { text: "· " + t.claimed_by }) : null);
      const btn = h("button", {
        class: "ticket" + (fresh.has(t.id) ? " new" : ""), type: "button",
        "data-ticket": t.id, "aria-current": t.id === selectedId ? "true" : "false",
      }, line1, preview, line3);
      btn.addEventListener("click", () => select(t.id));
      return h("li", null, btn);
    });
    const focusedId = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.ticket : undefined;
    list.replaceChildren(...items);
    if (!items.length) {
      list.append(h("li", { class: "empty", text: "No " + stateFilter + " tickets. New ones appear here by themselves." }));
    }
    if (focusedId) {
      const again = list.querySelector(`[data-ticket="${CSS.escape(focusedId)}"]`);
      if (again) again.focus();
    }
    const n = tickets.length;
    $("count").textContent = n + " " + stateFilter + " ticket" + (n === 1 ? "" : "s");
    const waitingNew = [...fresh].filter((id) => tickets.some((t) => t.id === id)).length;
    document.title = (waitingNew ? "(" + waitingNew + ") " : "") + "Agent console · faqbot";
  }

  // ------------------------------------------------------------ ticket detail
  async function select(id) {
    selectedId = id;
    fresh.delete(id);
    renderQueue();
    await loadTicket(id, true);
  }

  async function loadTicket(id, scrollToEnd) {
    let data;
    try {
      data = await api("/api/agent/tickets/" + encodeURIComponent(id));
    } catch (err) {
      handleError(err);
      return;
    }
    if (id !== selectedId) return;
    const grew = !selected || selected.id !== data.id
      || (selected.transcript || []).length !== (data.transcript || []).length;
    selected = data;
    renderTicket(scrollToEnd || grew);
  }

  function renderTicket(scrollToEnd) {
    const t = selected;
    $("placeholder").hidden = true;
    $("dhead").hidden = false;
    $("transcript").hidden = false;
    const s = sla(t, Date.now());
    $("d-title").replaceChildren(
      h("span", { text: "Ticket #" + t.id }),
      h("span", { class: "pill", text: langLabel(t.language) }),
      h("span", { class: "pill" + (t.priority === "urgent" ? " urgent" : ""),
        text: t.priority || "normal" }),
      h("span", { class: "pill", text: t.state }));
    const fact = (label, value, cls) => h("span", null, label + " ",
      h("b", { class: cls || null, text: value }));
    $("d-facts").replaceChildren(...[
      fact("Language:", t.language ? languageName(t.language) : "?"),
      fact("Waiting:", duration(t.waiting_seconds || 0)),
      fact("SLA:", s.text || "—", "sla " + s.cls),
      fact("Reason:", (t.reason || "—").replace(/_/g, " ")),
      t.kind ? fact("Triage:", t.kind) : null,
      fact("Opened:", timeOf(t.created_at)),
      t.locale || t.market ? fact("Locale:", [t.locale, t.market].filter(Boolean).join(" · ")) : null,
      t.page_url ? h("span", null, "Page ", h("a", { href: safePage(t.page_url),
        target: "_blank", rel: "noopener noreferrer", text: shortPage(t.page_url) })) : null,
      t.resolution === "self_served" ? fact("Resolved:", "by the shopper (answered)") : null,
      // Replies the shopper does not read in the chat are mailed to this address.
      t.email ? fact("E-mail follow-up:", t.email) : null,
    ].filter(Boolean));
    // The shopper's topic in their words (and in the agent's language when a pack exists).
    $("d-asked").hidden = !t.asked_about;
    $("d-asked").replaceChildren(...[
      h("span", { class: "k", text: "Asked about: " }), h("q", { text: t.asked_about || "" }),
      t.asked_about_for_agent ? h("span", { class: "tr", text: " → " + t.asked_about_for_agent }) : null,
    ].filter(Boolean));

    const guesses = t.guesses || [];
    $("d-guesses").replaceChildren(
      h("span", { text: guesses.length ? "Bot's guesses:" : "The bot had no guesses." }),
      ...guesses.map((g) => h("span", { class: "guess",
        text: g.faq_id + " " + Number(g.score).toFixed(2) })));

    const mine = t.state === "claimed" && t.claimed_by === auth.name;
    $("b-claim").hidden = t.state !== "open";
    $("b-release").hidden = !mine;
    $("b-resolve").hidden = !(mine || t.state === "open");
    $("d-holder").textContent = t.state === "claimed" && !mine
      ? "Claimed by " + t.claimed_by : mine ? "You hold this ticket." : "";
    $("composer").hidden = t.state === "resolved";
    $("b-send").disabled = !mine;
    $("reply-hint").textContent = mine ? "Ctrl+Enter to send"
      : t.state === "open" ? "Claim the ticket to reply." : "Only the agent holding it can reply.";

    const tr = $("transcript");
    const nearEnd = tr.scrollHeight - tr.scrollTop - tr.clientHeight < 60;
    tr.replaceChildren(...(t.transcript || []).map(renderMessage));
    if (scrollToEnd || nearEnd) tr.scrollTop = tr.scrollHeight;
  }

  // Photos need the agent key, so an <img src> cannot fetch them: each is fetched once with
  // the key and shown from a blob: URL kept for the page's lifetime.
  const photoUrls = new Map();

  async function photoUrl(id) {
    if (!photoUrls.has(id)) {
      photoUrls.set(id, (async () => {
        const res = await fetch(`/api/agent/photos/${encodeURIComponent(id)}`, {
          headers: { "X-Agent-Key": auth.key, "X-Agent-Name": auth.name || "agent" } });
        if (!res.ok) { photoUrls.delete(id); throw new HttpError(res.status, res.statusText); }
        return URL.createObjectURL(await res.blob());
      })());
    }
    return photoUrls.get(id);
  }

  function photoStrip(photos) {
    return h("div", { class: "photos" }, ...photos.map((p, i) => {
      const label = `Photo ${i + 1} of ${photos.length} from the shopper (${p.width}×${p.height})`;
      if (p.removed) return h("span", { class: "gone", text: `Photo ${i + 1}: deleted after the retention period` });
      const img = h("img", { alt: label, width: "96", height: "96" });
      const link = h("a", { href: "#", target: "_blank", rel: "noopener", title: "Open full size",
        "aria-label": label + ", open full size" }, img);
      photoUrl(p.id).then((url) => { img.src = url; link.href = url; })
        .catch(() => link.replaceWith(h("span", { class: "gone", text: `Photo ${i + 1} could not be loaded` })));
      return link;
    }));
  }

  function safePage(url) {
    try {
      const u = new URL(url);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : "#";
    } catch { return "#"; }
  }

  function shortPage(url) {
    try { const u = new URL(url); return u.host + u.pathname; } catch { return url; }
  }

  function renderMessage(m) {
    let who = { shopper: "Shopper", bot: "Bot", agent: "Agent", system: "System" }[m.role] || m.role;
    if (m.role === "agent" && m.author) who += " " + m.author;
    const meta = h("div", { class: "meta",
      text: who + (m.language ? " · " + langLabel(m.language) : "") + " · " + timeOf(m.created_at) });
    const node = h("div", { class: "m " + m.role }, meta);
    if (m.photos && m.photos.length) node.append(photoStrip(m.photos));
    if (m.text || !(m.photos && m.photos.length)) node.append(h("div", { class: "text", text: m.text }));
    if (m.text_for_agent) {
      node.append(h("div", { class: "tr" }, h("small", { text: "Machine translation" }),
        document.createTextNode(m.text_for_agent)));
    }
    return node;
  }

  async function act(verb) {
    if (!selected) return;
    const id = selected.id;
    for (const b of ["b-claim", "b-release", "b-resolve"]) $(b).disabled = true;
    try {
      await api(`/api/agent/tickets/${encodeURIComponent(id)}/${verb}`, {});
      setStatus("");
      if (verb === "claim") $("reply").focus();
    } catch (err) {
      if (!handleError(err) && err.status === 409) setStatus(err.message, true);
    } finally {
      for (const b of ["b-claim", "b-release", "b-resolve"]) $(b).disabled = false;
    }
    await loadQueue();
    await loadTicket(id, false);
  }

  async function sendReply() {
    const text = $("reply").value.trim();
    if (!text || !selected || $("b-send").disabled) return;
    $("b-send").disabled = true;
    try {
      const r = await api(`/api/agent/tickets/${encodeURIComponent(selected.id)}/reply`, { text });
      $("reply").value = "";
      setStatus(r && r.translated ? "Sent, translated for the shopper." : "");
    } catch (err) {
      handleError(err);
    }
    await loadTicket(selected.id, true);
  }

  // ------------------------------------------------------------ live queue events
  // GET /api/agent/events says at once when a ticket is opened, claimed, answered, released
  // or resolved on any server; the console then refreshes instead of waiting for its poll,
  // which stays as the fallback (no stream, a proxy that buffers, an old server).
  let listening = null; // AbortController of the open stream
  let refreshTimer = null;

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(tick, 100); // a burst of events is one refresh
  }

  async function listen() {
    if (listening || !auth.key) return;
    const ctrl = new AbortController();
    listening = ctrl;
    let pause = 1000;
    while (listening === ctrl) {
      try {
        const res = await fetch("/api/agent/events?timeout=900", {
          headers: { Accept: "text/event-stream", ...authHeaders() }, signal: ctrl.signal });
        if (res.status === 401 || res.status === 403) break; // the poll shows the sign-in
        if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
        pause = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (/^event: (queue|resync)$/m.test(block)) refreshSoon();
          }
        }
      } catch {
        if (ctrl.signal.aborted) break;
      }
      if (listening !== ctrl) break;
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 30000);
    }
    if (listening === ctrl) listening = null;
  }

  function stopListening() {
    if (listening) listening.abort();
    listening = null;
  }

  // ------------------------------------------------------------ wiring
  $("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    const key = $("key").value.trim();
    const name = $("name").value.trim();
    if (!key || !name) { $("login-error").textContent = "Enter both the key and your name."; return; }
    auth.save(key, name);
    try {
      await api("/api/agent/tickets?state=open");
    } catch (err) {
      if (err.status === 401 || err.status === 403) {
        auth.clear();
        $("login-error").textContent = "The agent key was not accepted.";
        return;
      }
    }
    $("key").value = "";
    start();
  });

  $("signout").addEventListener("click", () => {
    stopListening();
    auth.clear();
    selectedId = null; selected = null;
    showLogin("");
  });

  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.addEventListener("click", () => {
      stateFilter = tab.dataset.state;
      for (const o of document.querySelectorAll(".tabs button")) {
        o.setAttribute("aria-selected", String(o === tab));
      }
      loadQueue();
    });
  }
  $("f-lang").addEventListener("change", loadQueue);
  $("f-prio").addEventListener("change", loadQueue);
  $("b-claim").addEventListener("click", () => act("claim"));
  $("b-release").addEventListener("click", () => act("release"));
  $("b-resolve").addEventListener("click", () => act("resolve"));
  $("composer").addEventListener("submit", (e) => { e.preventDefault(); sendReply(); });
  $("reply").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); sendReply(); }
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden && auth.key) tick(); });

  // The queue filter offers the languages this desk supports, then any a ticket is in.
  function addLanguage(code) {
    if (!code || languagesSeen.has(code)) return;
    languagesSeen.add(code);
    $("f-lang").append(h("option", { value: code, text: languageName(code) }));
  }
  fetch("/api/config", { headers: { Accept: "application/json" } })
    .then((res) => (res.ok ? res.json() : { languages: [] }))
    .then((config) => { for (const code of config.languages || []) addLanguage(code); })
    .catch(() => { /* the filter still fills from the tickets' languages */ });

  function start() {
    showApp();
    loadQueue();
    listen();
  }

  if (auth.key && auth.name) start(); else showLogin("");
})();
