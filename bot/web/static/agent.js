/* faqbot agent console: queue, search, claim / assign, transcript with notes and history,
 * reply with FAQ answers and canned replies, customer context, bulk resolve and spam.
 *
 * Each agent signs in with their own key; it lives in sessionStorage (this tab only) and goes
 * out as "Authorization: Bearer KEY". The name on claims, replies and notes is the key's
 * owner, as the server says (GET /api/me), never something typed here.
 * Text from the server is put on the page with textContent, or through markdown.js (the
 * widget's renderer: text nodes only), never as markup.
 */
(() => {
  "use strict";

  const QUEUE_POLL_MS = 3000;
  const $ = (id) => document.getElementById(id);
  // Language names come from the browser; the desk's languages from the server (/api/config).
  const names = (() => {
    try { return new Intl.DisplayNames(["en"], { type: "language" }); } catch { return null; }
  })();
  function langName(code) {
    if (!code) return "?";
    try { return (names && names.of(code)) || code.toUpperCase(); } catch { return code.toUpperCase(); }
  }
  let deskLanguages = []; // filled from /api/config
  const md = faqbotMarkdown(location.origin);

  const KEY_SLOT = "faqbot.agentKey";
  const prefs = {
    get(name) { try { return localStorage.getItem("faqbot.agent." + name) === "1"; } catch { return false; } },
    set(name, on) { try { localStorage.setItem("faqbot.agent." + name, on ? "1" : "0"); } catch { /* private mode */ } },
  };

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  class HttpError extends Error {
    constructor(status, detail) { super(detail || "HTTP " + status); this.status = status; }
  }

  function authHeaders() {
    return { Authorization: "Bearer " + (sessionStorage.getItem(KEY_SLOT) || "") };
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
  function dateOf(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }
  /** Describe the SLA state: breached, due soon (under 25% of the time left) or fine. */
  function sla(ticket) {
    if (ticket.state === "resolved") return { cls: "ok", text: ticket.spam ? "Spam" : "Resolved" };
    if (ticket.sla_breached) return { cls: "breached", text: "SLA breached" };
    const due = new Date(ticket.due_at).getTime();
    if (isNaN(due)) return { cls: "ok", text: "" };
    const left = (due - Date.now()) / 1000;
    if (left <= 0) return { cls: "breached", text: "SLA breached" };
    const created = new Date(ticket.created_at).getTime();
    const total = isNaN(created) ? left : (due - created) / 1000;
    return { cls: left < total * 0.25 ? "soon" : "ok", text: "due in " + duration(left) };
  }

  // ------------------------------------------------------------ state
  let me = null; // {name, role, language}
  let people = [];
  let stateFilter = "open";
  let query = "";
  let tickets = [];
  let fetchedAt = Date.now();
  let selectedId = null;
  let selected = null;
  let queueTimer = null;
  let seen = null; // open ticket ids seen so far (null until the first poll)
  let mode = "reply";
  let replyLang = "en";
  let spamArmed = false; // "Mark as spam" asks for a second click
  const fresh = new Set();
  const picked = new Set();
  const drafts = new Map(); // ticket id -> {text, lang}: switching tickets loses no words
  const languagesSeen = new Set();

  let statusTimer = null;
  function setStatus(text, kind) {
    const el = $("status");
    clearTimeout(statusTimer);
    el.hidden = !text;
    el.textContent = text || "";
    el.className = "status" + (kind ? " " + kind : "");
    if (text && kind === "good") statusTimer = setTimeout(() => { el.hidden = true; }, 5000);
  }

  function showLogin(message) {
    clearTimeout(queueTimer);
    me = null;
    $("app").hidden = true;
    $("login").hidden = false;
    for (const id of ["signout", "t-sound-wrap", "t-desktop-wrap"]) $(id).hidden = true;
    $("who").textContent = "";
    $("login-error").textContent = message || "";
    setStatus("");
    $("key").focus();
  }

  function showApp() {
    $("login").hidden = true;
    $("app").hidden = false;
    $("signout").hidden = false;
    $("t-sound-wrap").hidden = !(window.AudioContext || window.webkitAudioContext);
    $("t-desktop-wrap").hidden = !("Notification" in window);
    $("who").textContent = "Signed in as " + me.name + (me.role === "lead" ? " · lead" : "");
  }

  function handleError(err) {
    if (err.status === 401) {
      stopListening();
      sessionStorage.removeItem(KEY_SLOT);
      showLogin(err.message + " Sign in again.");
      return true;
    }
    setStatus(err.message, "bad");
    return false;
  }

  // ------------------------------------------------------------ alerts (opt-in)
  let audio = null;
  function beep() {
    if (!prefs.get("sound")) return;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    audio = audio || new Ctx();
    if (audio.state === "suspended") audio.resume();
    const now = audio.currentTime;
    for (const [i, freq] of [[0, 880], [1, 1175]]) { // two short rising notes
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.16);
      gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.16 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.16 + 0.14);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.16);
      osc.stop(now + i * 0.16 + 0.15);
    }
  }

  function notifyDesktop(ticket) {
    if (!prefs.get("desktop") || !("Notification" in window)) return;
    if (Notification.permission !== "granted") return;
    const n = new Notification("New ticket #" + ticket.id + " · " + langName(ticket.language), {
      body: (ticket.priority === "urgent" ? "URGENT · " : "") + (ticket.preview || ""),
      tag: "faqbot-ticket-" + ticket.id,
    });
    n.onclick = () => { window.focus(); select(ticket.id); n.close(); };
  }

  function alertNew(newTickets) {
    if (!newTickets.length) return;
    beep();
    for (const t of newTickets.slice(0, 3)) notifyDesktop(t);
  }

  $("t-sound").addEventListener("change", (e) => {
    prefs.set("sound", e.target.checked);
    if (e.target.checked) beep(); // a sample, and it unlocks audio on this click
  });
  $("t-desktop").addEventListener("change", async (e) => {
    if (!e.target.checked) { prefs.set("desktop", false); return; }
    const answer = await Notification.requestPermission();
    if (answer !== "granted") {
      e.target.checked = false;
      prefs.set("desktop", false);
      setStatus("Desktop alerts are blocked for this site in the browser's settings.", "bad");
      return;
    }
    prefs.set("desktop", true);
  });

  // ------------------------------------------------------------ queue
  function queueParams() {
    const p = new URLSearchParams();
    if (query) {
      p.set("q", query);
    } else if (stateFilter === "mine") {
      p.set("state", "claimed");
      p.set("claimed_by", me.name);
    } else {
      p.set("state", stateFilter);
    }
    if ($("f-lang").value) p.set("language", $("f-lang").value);
    if ($("f-prio").value) p.set("priority", $("f-prio").value);
    return p;
  }

  async function loadQueue() {
    clearTimeout(queueTimer);
    if (!me) return;
    try {
      // The open queue is always polled: new tickets raise alerts whatever tab is shown.
      const open = await api("/api/agent/tickets?state=open&limit=500");
      const shown = (!query && stateFilter === "open" && !$("f-lang").value && !$("f-prio").value)
        ? open : await api("/api/agent/tickets?" + queueParams());
      const arrived = [];
      const baseline = seen === null;
      if (baseline) seen = new Set();
      for (const t of open.tickets) {
        if (!seen.has(t.id)) {
          seen.add(t.id);
          if (!baseline) { fresh.add(t.id); arrived.push(t); }
        }
      }
      tickets = shown.tickets || [];
      fetchedAt = Date.now();
      for (const t of tickets) {
        addLanguage(t.language);
      }
      if ($("status").classList.contains("bad")) setStatus("");
      renderQueue();
      alertNew(arrived);
    } catch (err) {
      if (handleError(err)) return;
    }
    queueTimer = setTimeout(tick, QUEUE_POLL_MS);
  }

  async function tick() {
    await loadQueue();
    if (selectedId !== null && me) await loadTicket(selectedId, false);
  }

  function renderQueue() {
    const list = $("list");
    const items = tickets.map((t) => {
      const s = sla(t);
      const line1 = h("span", { class: "line1" },
        h("span", { class: "id", text: "#" + t.id }),
        h("span", { class: "pill", title: langName(t.language), text: (t.language || "?").toUpperCase() }),
        h("span", { class: "pill" + (t.priority === "urgent" ? " urgent" : ""),
          text: t.priority || "normal" }),
        t.spam ? h("span", { class: "pill spam", text: "spam" }) : null,
        t.state === "claimed" ? h("span", { class: "pill", text: "claimed" }) : null,
        fresh.has(t.id) ? h("span", { class: "pill newflag", text: "new" }) : null);
      const btn = h("button", {
        class: "ticket" + (fresh.has(t.id) ? " new" : ""), type: "button",
        "data-ticket": t.id, "aria-current": t.id === selectedId ? "true" : "false",
        onclick: () => select(t.id),
      }, line1,
      // The shopper's topic in their words (all they asked), else the first message.
      h("span", { class: "preview", text: t.asked_about || t.preview || (t.reason || "").replace(/_/g, " ") }),
      h("span", { class: "line3" },
        h("span", { text: "waiting " + duration((t.waiting_seconds || 0) + (Date.now() - fetchedAt) / 1000) }),
        h("span", { class: "sla " + s.cls, text: s.text }),
        t.claimed_by ? h("span", { text: "· " + (t.claimed_by === me.name ? "you" : t.claimed_by) }) : null));
      const box = h("input", { type: "checkbox", "aria-label": "Select ticket #" + t.id,
        "data-pick": t.id, checked: picked.has(t.id) });
      box.checked = picked.has(t.id);
      box.addEventListener("change", () => {
        if (box.checked) picked.add(t.id); else picked.delete(t.id);
        renderBulk();
      });
      return h("li", null, h("label", { class: "pick" }, box), btn);
    });
    const focusedId = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.ticket : undefined;
    list.replaceChildren(...items);
    if (!items.length) {
      const what = query ? "No tickets match “" + query + "”."
        : "No " + (stateFilter === "mine" ? "tickets held by you" : stateFilter + " tickets")
          + ". New ones appear here by themselves.";
      list.append(h("li", { class: "empty", text: what }));
    }
    if (focusedId) {
      const again = list.querySelector(`[data-ticket="${CSS.escape(focusedId)}"]`);
      if (again) again.focus();
    }
    const n = tickets.length;
    $("count").textContent = query ? n + " found for “" + query + "”"
      : n + " " + (stateFilter === "mine" ? "held by you" : stateFilter) + " ticket" + (n === 1 ? "" : "s");
    const waitingNew = [...fresh].filter((id) => seen && seen.has(id)).length;
    document.title = (waitingNew ? "(" + waitingNew + ") " : "") + "Agent console · faqbot";
    $("pick-all").checked = n > 0 && tickets.every((t) => picked.has(t.id));
    renderBulk();
  }

  function renderBulk() {
    const n = picked.size;
    $("bulk").hidden = n === 0;
    $("bulk-count").textContent = n + " selected";
    $("bulk-spam").textContent = spamArmed ? "Confirm spam (" + n + ")" : "Mark as spam";
  }

  async function bulk(action) {
    const ids = [...picked];
    if (!ids.length) return;
    if (action === "spam" && !spamArmed) { spamArmed = true; renderBulk(); return; }
    spamArmed = false;
    try {
      const r = await api("/api/agent/tickets/bulk", { ids, action });
      const done = r.results.filter((x) => x.ok).length;
      const skipped = r.results.filter((x) => !x.ok);
      const verb = action === "spam" ? "Marked as spam" : "Resolved";
      setStatus(verb + ": " + done + "." + (skipped.length ? " Skipped " + skipped.length + ": "
        + skipped.map((x) => x.detail).join("; ") : ""), skipped.length ? "bad" : "good");
      picked.clear();
    } catch (err) {
      handleError(err);
    }
    await loadQueue();
    if (selectedId !== null) await loadTicket(selectedId, false);
  }

  // ------------------------------------------------------------ ticket detail
  async function select(id) {
    if (selectedId !== null && selectedId !== id) saveDraft();
    selectedId = id;
    fresh.delete(id);
    closePickers();
    renderQueue();
    await loadTicket(id, true);
  }

  function saveDraft() {
    if (selectedId === null) return;
    drafts.set(selectedId, { text: $("reply").value, lang: replyLang, mode });
  }

  async function loadTicket(id, switched) {
    let data;
    try {
      data = await api("/api/agent/tickets/" + encodeURIComponent(id));
    } catch (err) {
      handleError(err);
      return;
    }
    if (id !== selectedId) return;
    const grew = !selected || selected.id !== data.id
      || (selected.transcript || []).length + (selected.events || []).length
        !== (data.transcript || []).length + (data.events || []).length;
    selected = data;
    if (switched) {
      const draft = drafts.get(id) || { text: "", lang: me.language, mode: "reply" };
      $("reply").value = draft.text;
      replyLang = draft.lang;
      $("insert-note").hidden = true;
      setMode(draft.mode);
    }
    renderTicket(switched || grew);
  }

  function renderTicket(scrollToEnd) {
    const t = selected;
    $("placeholder").hidden = true;
    $("dhead").hidden = false;
    $("dbody").hidden = false;
    const s = sla(t);
    $("d-title").replaceChildren(
      h("span", { text: "Ticket #" + t.id }),
      h("span", { class: "pill", title: langName(t.language), text: (t.language || "?").toUpperCase() }),
      h("span", { class: "pill" + (t.priority === "urgent" ? " urgent" : ""), text: t.priority }),
      h("span", { class: "pill" + (t.spam ? " spam" : ""), text: t.spam ? "spam" : t.state }));
    const fact = (label, value, cls) => h("span", null, label + " ",
      h("b", { class: cls || null, text: value }));
    $("d-facts").replaceChildren(...[
      fact("Language:", langName(t.language)),
      fact("Waiting:", duration(t.waiting_seconds || 0)),
      fact("SLA:", s.text || "—", "sla " + s.cls),
      fact("Reason:", (t.reason || "—").replace(/_/g, " ")),
      t.kind ? fact("Triage:", t.kind) : null,
      fact("Opened:", timeOf(t.created_at)),
      t.resolution === "self_served" ? fact("Resolved:", "by the shopper (answered)") : null,
    ].filter(Boolean));
    // The shopper's topic in their words (and in the agent's language when a pack exists).
    $("d-asked").hidden = !t.asked_about;
    $("d-asked").replaceChildren(...[
      h("span", { class: "k", text: "Asked about: " }), h("q", { text: t.asked_about || "" }),
      t.asked_about_for_agent ? h("span", { class: "tr", text: " → " + t.asked_about_for_agent }) : null,
    ].filter(Boolean));

    const mine = t.state === "claimed" && t.claimed_by === me.name;
    const heldByOther = t.state === "claimed" && !mine;
    $("b-claim").hidden = t.state !== "open";
    $("b-take").hidden = !heldByOther;
    $("b-release").hidden = !mine;
    $("b-resolve").hidden = !(mine || t.state === "open");
    $("b-spam").hidden = t.spam || heldByOther;
    const assign = $("assign-to");
    assign.hidden = t.state === "resolved";
    assign.replaceChildren(h("option", { value: "", text: "Assign to…" }),
      ...people.filter((p) => p.name !== t.claimed_by).map((p) =>
        h("option", { value: p.name, text: p.name === me.name ? p.name + " (you)" : p.name })));
    $("d-holder").textContent = heldByOther ? "Held by " + t.claimed_by
      : mine ? "You hold this ticket." : "";

    renderComposerState();
    renderContext();
    const tr = $("transcript");
    const nearEnd = tr.scrollHeight - tr.scrollTop - tr.clientHeight < 60;
    tr.replaceChildren(...timeline(t).map(renderLine));
    if (scrollToEnd || nearEnd) tr.scrollTop = tr.scrollHeight;
  }

  /** Merge the conversation's messages with notes and history lines, in time order. */
  function timeline(t) {
    const lines = (t.transcript || []).map((m) => ({ at: m.created_at, kind: "message", m }));
    for (const e of t.events || []) lines.push({ at: e.created_at, kind: "event", e });
    return lines.sort((a, b) => new Date(a.at) - new Date(b.at)
      || (a.kind === b.kind ? 0 : a.kind === "message" ? -1 : 1));
  }

  function renderLine(line) {
    return line.kind === "message" ? renderMessage(line.m) : renderEvent(line.e);
  }

  // Photos need the person's key, so an <img src> cannot fetch them: each is fetched once
  // with the Bearer key and shown from a blob: URL kept for the page's lifetime.
  const photoUrls = new Map();

  async function photoUrl(id) {
    if (!photoUrls.has(id)) {
      photoUrls.set(id, (async () => {
        const res = await fetch(`/api/agent/photos/${encodeURIComponent(id)}`, { headers: authHeaders() });
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

  function renderMessage(m) {
    const who = m.role === "agent" ? (m.author || "Agent")
      : { shopper: "Shopper", bot: "Bot", system: "Notice" }[m.role] || m.role;
    const meta = h("div", { class: "meta",
      text: who + (m.language ? " · " + m.language.toUpperCase() : "") + " · " + timeOf(m.created_at) });
    const node = h("div", { class: "m " + m.role }, meta);
    // A ticket's transcript lists its photos; an earlier conversation only counts them.
    const photos = Array.isArray(m.photos) ? m.photos : [];
    if (photos.length) node.append(photoStrip(photos));
    else if (m.photos > 0) {
      node.append(h("div", { class: "hint", text: (m.photos === 1 ? "1 photo" : m.photos + " photos")
        + " sent here: open this conversation's ticket to see " + (m.photos === 1 ? "it" : "them") }));
    }
    if (m.text || !(photos.length || m.photos > 0)) {
      const body = h("div", { class: "text" });
      if (m.role === "shopper") body.textContent = m.text;
      else body.append(md.renderMarkdown(m.text));
      node.append(body);
    }
    if (m.text_for_agent) {
      node.append(h("div", { class: "tr" }, h("small", { text: "Machine translation" }), m.text_for_agent));
    }
    return node;
  }

  function renderEvent(e) {
    if (e.kind === "note") {
      const body = h("div", { class: "text" });
      body.append(md.renderMarkdown(e.text || ""));
      return h("div", { class: "m note" },
        h("div", { class: "meta" }, h("b", { text: "Internal note" }),
          " · " + e.actor + " · " + timeOf(e.created_at) + " · only agents see this"), body);
    }
    const actor = e.actor === me.name ? "You" : e.actor;
    const text = {
      claim: actor + " claimed the ticket",
      release: actor + " released the ticket to the queue",
      assign: e.target === e.actor ? actor + " took the ticket" + (e.previous ? " from " + e.previous : "")
        : actor + " assigned the ticket to " + e.target + (e.previous ? " (from " + e.previous + ")" : ""),
      resolve: actor + " resolved the ticket",
      spam: actor + " marked the ticket as spam",
      reopen: "The shopper wrote again: ticket reopened",
      withdraw: "The shopper said their question is answered: ticket closed",
    }[e.kind] || actor + ": " + e.kind;
    return h("div", { class: "event", text: text + " · " + timeOf(e.created_at) });
  }

  function renderContext() {
    const c = selected.customer || {};
    const dl = h("dl");
    const row = (k, v) => { if (v) dl.append(h("dt", { text: k }), h("dd", null, v)); };
    row("Language", langName(c.language || selected.language));
    row("Locale", c.locale);
    row("Market", c.market);
    const href = c.page_url ? md.safeUrl(c.page_url) : null;
    row("Page", href ? h("a", { href, target: "_blank", rel: "noopener noreferrer",
      text: new URL(href).pathname || href }) : c.page_url);
    // Left in the widget after a handoff: replies the shopper does not read in the chat go here.
    row("E-mail", c.email ? h("span", null, c.email,
      h("small", { class: "hint", text: " · unread replies are mailed here" })) : null);
    row("Started", c.started_at ? dateOf(c.started_at) : null);
    const earlier = c.earlier || [];
    const list = h("ul", null, earlier.map((x) => h("li", null,
      h("small", { text: dateOf(x.started_at) + " · " + (x.language || "").toUpperCase()
        + (x.ticket_id ? " · ticket #" + x.ticket_id + " " + x.ticket_state : " · bot only") }),
      h("div", { text: x.first_message || "(no text kept)" }),
      x.ticket_id
        ? h("button", { type: "button", text: "Open ticket #" + x.ticket_id, onclick: () => select(x.ticket_id) })
        : h("button", { type: "button", text: "View conversation", onclick: () => viewConversation(x.session_id) }))));
    $("context").replaceChildren(
      h("h3", { text: "Customer" }), dl,
      h("h3", { text: "Earlier conversations" }),
      earlier.length ? list : h("p", { class: "hint",
        text: "None from this browser. (Shoppers are recognised by a random id the widget keeps in their browser.)" }));
  }

  async function viewConversation(sid) {
    try {
      const data = await api("/api/agent/conversations/" + encodeURIComponent(sid));
      $("convo-title").textContent = "Conversation of " + dateOf(data.started_at);
      $("convo-transcript").replaceChildren(...data.messages.map(renderMessage));
      $("convo-dialog").showModal();
    } catch (err) {
      handleError(err);
    }
  }
  $("convo-close").addEventListener("click", () => $("convo-dialog").close());

  // ------------------------------------------------------------ composer
  function setMode(next) {
    mode = next;
    $("mode-reply").setAttribute("aria-selected", String(mode === "reply"));
    $("mode-note").setAttribute("aria-selected", String(mode === "note"));
    $("composer").classList.toggle("notemode", mode === "note");
    if (mode === "note") closePickers();
    if (selected) renderComposerState();
  }

  function renderComposerState() {
    const t = selected;
    const mine = t.state === "claimed" && t.claimed_by === me.name;
    const note = mode === "note";
    $("tools").hidden = note;
    $("langline").hidden = note;
    $("tline").hidden = note;
    $("reply-label").textContent = note ? "Internal note (only agents see it)" : "Reply to the shopper";
    $("reply").placeholder = note ? "Only agents see notes; the shopper never does."
      : "Write in your language; it is translated for the shopper when a language pack covers the pair.";
    $("b-send").textContent = note ? "Add note" : "Send reply";
    $("b-send").disabled = note ? false : !mine;
    $("reply-hint").textContent = note ? "Ctrl+Enter to add"
      : mine ? "Ctrl+Enter to send"
        : t.state === "open" ? "Claim the ticket to reply."
          : t.state === "resolved" ? "The ticket is resolved: the shopper's next message reopens it."
            : "Only " + t.claimed_by + " can reply (Take over to answer yourself).";
    const select = $("reply-lang");
    const langs = [...new Set([me.language, t.shopper_language, replyLang, ...deskLanguages])];
    select.replaceChildren(...langs.map((l) => h("option", { value: l, text: langName(l) })));
    select.value = replyLang;
    renderTranslationLine();
  }

  /** Say, before sending, whether the reply will reach the shopper in their language. */
  function renderTranslationLine() {
    const t = selected;
    const el = $("tline");
    const to = t.shopper_language;
    if (replyLang === to) {
      el.className = "tline ok";
      el.textContent = "Goes out in " + langName(to) + " as written.";
    } else if ((t.translation_sources || []).includes(replyLang)) {
      el.className = "tline ok";
      el.textContent = "Translated from " + langName(replyLang) + " into " + langName(to) + " when sent.";
    } else {
      el.className = "tline warn";
      el.textContent = "Will not be translated: no " + langName(replyLang) + "→" + langName(to)
        + " language pack is installed. The shopper gets your reply in " + langName(replyLang)
        + ", with a note saying it could not be translated.";
    }
  }

  function insertText(text, language, note) {
    const box = $("reply");
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    const before = box.value.slice(0, start);
    const sep = before && !before.endsWith("\n") ? "\n\n" : "";
    box.value = before + sep + text + box.value.slice(end);
    const caret = (before + sep + text).length;
    box.focus();
    box.setSelectionRange(caret, caret);
    replyLang = language;
    const info = $("insert-note");
    info.hidden = !note;
    info.className = "tline info";
    info.textContent = note || "";
    renderComposerState();
  }

  async function send() {
    const text = $("reply").value.trim();
    if (!text || !selected || $("b-send").disabled) return;
    $("b-send").disabled = true;
    const id = selected.id;
    try {
      if (mode === "note") {
        await api(`/api/agent/tickets/${encodeURIComponent(id)}/notes`, { text });
        setStatus("Note added (only agents see it).", "good");
      } else {
        const r = await api(`/api/agent/tickets/${encodeURIComponent(id)}/reply`, { text, language: replyLang });
        setStatus(r.translated ? "Sent, translated into " + langName(selected.shopper_language) + "."
          : r.untranslated ? "Sent in " + langName(replyLang) + ": it could not be translated; the shopper sees a note."
            : "Sent.", r.untranslated ? "bad" : "good");
      }
      $("reply").value = "";
      $("insert-note").hidden = true;
      drafts.delete(id);
    } catch (err) {
      handleError(err);
    }
    await loadTicket(id, false);
  }

  // ---- FAQ answers and canned replies
  function closePickers() {
    for (const [picker, button] of [["faq-picker", "b-faq"], ["canned-picker", "b-canned"]]) {
      $(picker).hidden = true;
      $(button).setAttribute("aria-expanded", "false");
    }
  }

  function openPicker(which) {
    const other = which === "faq" ? "canned" : "faq";
    $(other + "-picker").hidden = true;
    $("b-" + other).setAttribute("aria-expanded", "false");
    const open = $(which + "-picker").hidden;
    $(which + "-picker").hidden = !open;
    $("b-" + which).setAttribute("aria-expanded", String(open));
    if (!open) return;
    $(which + "-q").value = "";
    $(which + "-q").focus();
    if (which === "faq") searchFaq(); else searchCanned();
  }

  function debounce(fn, ms) {
    let timer = null;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  async function searchFaq() {
    const q = $("faq-q").value.trim();
    const lang = selected.shopper_language;
    const list = $("faq-list");
    let items;
    if (!q) {
      $("faq-sub").textContent = (selected.guesses || []).length ? "The bot's guesses" : "The bot had no guesses: search the FAQ.";
      items = (selected.guesses || []).map((g) => ({ faq_id: g.faq_id, title: g.title, score: g.score }));
    } else {
      try {
        const r = await api("/api/agent/faq?" + new URLSearchParams({ q, language: lang }));
        items = r.entries;
        $("faq-sub").textContent = items.length ? "Entries" : "No entry matches “" + q + "”.";
      } catch (err) { handleError(err); return; }
    }
    list.replaceChildren(...items.map((e) => h("li", null, h("button", {
      type: "button", "data-faq": e.faq_id, onclick: () => insertFaq(e.faq_id, e.title),
    }, e.title || e.faq_id, h("small", { text: e.faq_id + (e.score != null ? " · " + Number(e.score).toFixed(2) : "") })))));
  }

  async function insertFaq(faqId, title) {
    const lang = selected.shopper_language;
    try {
      const a = await api(`/api/agent/faq/${encodeURIComponent(faqId)}?` + new URLSearchParams({ language: lang }));
      let note = "";
      if (a.fallback) {
        note = "No " + langName(lang) + " answer is written for “" + (title || faqId) + "”: inserted the "
          + langName(a.language) + " one (" + langName(a.default_language || a.language) + " is the default language).";
      } else if (a.draft) {
        note = "This " + langName(a.language) + " answer is an unreviewed machine draft: check it before sending.";
      }
      closePickers();
      insertText(a.text, a.language, note);
    } catch (err) {
      handleError(err);
    }
  }

  async function searchCanned() {
    const lang = selected.shopper_language;
    try {
      const r = await api("/api/agent/canned?" + new URLSearchParams({ q: $("canned-q").value.trim(), language: lang }));
      $("canned-sub").textContent = r.replies.length ? "Canned replies for " + langName(lang)
        : "No canned reply matches." + (r.problems.length ? " Some files have errors: " + r.problems.join("; ") : "");
      $("canned-list").replaceChildren(...r.replies.map((c) => h("li", null, h("button", {
        type: "button", "data-canned": c.id,
        onclick: () => {
          closePickers();
          insertText(c.text, c.language, c.fallback ? "No " + langName(lang) + " text for “" + c.title
            + "”: inserted the " + langName(c.language) + " one." : "");
        },
      }, c.title, h("small", { text: (c.fallback ? langName(c.language) + " · " : "") + c.text.slice(0, 90) })))));
    } catch (err) {
      handleError(err);
    }
  }

  // ------------------------------------------------------------ actions
  async function act(verb, body) {
    if (!selected) return;
    const id = selected.id;
    const buttons = ["b-claim", "b-take", "b-release", "b-resolve", "b-spam"];
    for (const b of buttons) $(b).disabled = true;
    try {
      await api(`/api/agent/tickets/${encodeURIComponent(id)}/${verb}`, body || {});
      setStatus("");
      if (verb === "claim" || verb === "assign") $("reply").focus();
    } catch (err) {
      handleError(err);
    } finally {
      for (const b of buttons) $(b).disabled = false;
    }
    await loadQueue();
    await loadTicket(id, false);
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
    if (listening || !sessionStorage.getItem(KEY_SLOT)) return;
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
    if (!key) { $("login-error").textContent = "Enter your key."; return; }
    sessionStorage.setItem(KEY_SLOT, key);
    if (await signIn()) $("key").value = "";
  });

  async function signIn() {
    try {
      me = await api("/api/me");
      const list = await api("/api/agent/people");
      people = list.people;
    } catch (err) {
      sessionStorage.removeItem(KEY_SLOT);
      showLogin(err.status === 401 || err.status === 403 ? err.message : "Cannot sign in: " + err.message);
      return false;
    }
    replyLang = me.language;
    $("t-sound").checked = prefs.get("sound");
    $("t-desktop").checked = prefs.get("desktop") && "Notification" in window
      && Notification.permission === "granted";
    showApp();
    seen = null;
    loadQueue();
    listen();
    return true;
  }

  $("signout").addEventListener("click", () => {
    stopListening();
    sessionStorage.removeItem(KEY_SLOT);
    selectedId = null; selected = null; seen = null;
    fresh.clear(); picked.clear(); drafts.clear();
    $("dhead").hidden = true; $("dbody").hidden = true; $("placeholder").hidden = false;
    showLogin("Signed out.");
  });

  for (const tab of document.querySelectorAll("#tabs button")) {
    tab.addEventListener("click", () => {
      stateFilter = tab.dataset.state;
      query = "";
      $("q").value = "";
      for (const o of document.querySelectorAll("#tabs button")) {
        o.setAttribute("aria-selected", String(o === tab));
      }
      loadQueue();
    });
  }
  $("search").addEventListener("submit", (e) => { e.preventDefault(); query = $("q").value.trim(); loadQueue(); });
  $("q").addEventListener("search", () => { if (!$("q").value) { query = ""; loadQueue(); } });
  $("f-lang").addEventListener("change", loadQueue);
  $("f-prio").addEventListener("change", loadQueue);
  $("pick-all").addEventListener("change", (e) => {
    for (const t of tickets) { if (e.target.checked) picked.add(t.id); else picked.delete(t.id); }
    renderQueue();
  });
  $("bulk-resolve").addEventListener("click", () => bulk("resolve"));
  $("bulk-spam").addEventListener("click", () => bulk("spam"));
  $("bulk-clear").addEventListener("click", () => { picked.clear(); spamArmed = false; renderQueue(); });

  $("b-claim").addEventListener("click", () => act("claim"));
  $("b-take").addEventListener("click", () => act("assign", { to: me.name, from: selected.claimed_by }));
  $("b-release").addEventListener("click", () => act("release"));
  $("b-resolve").addEventListener("click", () => act("resolve"));
  $("b-spam").addEventListener("click", () => act("spam"));
  $("assign-to").addEventListener("change", (e) => {
    const to = e.target.value;
    if (!to || !selected) return;
    act("assign", { to, from: selected.state === "claimed" ? selected.claimed_by : null });
  });
  $("mode-reply").addEventListener("click", () => setMode("reply"));
  $("mode-note").addEventListener("click", () => setMode("note"));
  $("b-faq").addEventListener("click", () => openPicker("faq"));
  $("b-canned").addEventListener("click", () => openPicker("canned"));
  $("faq-close").addEventListener("click", closePickers);
  $("canned-close").addEventListener("click", closePickers);
  $("faq-q").addEventListener("input", debounce(searchFaq, 250));
  $("canned-q").addEventListener("input", debounce(searchCanned, 200));
  $("reply-lang").addEventListener("change", (e) => { replyLang = e.target.value; renderTranslationLine(); });
  $("composer").addEventListener("submit", (e) => { e.preventDefault(); send(); });
  $("reply").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); }
    if (e.key === "Escape") closePickers();
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden && me) tick(); });

  // The queue filter offers the languages this desk supports, then any a ticket is in.
  function addLanguage(code) {
    if (!code || languagesSeen.has(code)) return;
    languagesSeen.add(code);
    $("f-lang").append(h("option", { value: code, text: langName(code) }));
  }
  fetch("/api/config", { headers: { Accept: "application/json" } })
    .then((res) => (res.ok ? res.json() : { languages: [] }))
    .then((config) => {
      deskLanguages = config.languages || [];
      for (const code of deskLanguages) addLanguage(code);
    })
    .catch(() => { /* the filter still fills from the tickets' languages */ });

  if (sessionStorage.getItem(KEY_SLOT)) signIn(); else showLogin("");
})();
