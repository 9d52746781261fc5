/* faqbot's Markdown subset, rendered as DOM nodes: one file for the chat widget and the
 * agent console, so an answer looks the same on both sides and follows the same rules.
 *
 * Rules: paragraphs, "-"/"*"/"1." lists, headings shown as bold lines, **bold**, __bold__,
 * *italic*, `code`, [text](url) and bare http(s) URLs. Every piece of text becomes a text
 * node (never innerHTML), so HTML inside a message shows as text and never runs; links keep
 * only http, https and mailto targets (javascript:, data: ... stay plain text) and open in a
 * new tab without access to this page (noopener noreferrer).
 *
 * The agent page loads this file as a script (a global function); GET /widget.js serves it
 * together with widget.js inside one closure, so a shop's page gets no new global.
 *
 *   const { renderMarkdown } = faqbotMarkdown(baseUrl);  // relative links resolve here
 *   container.append(renderMarkdown("**Hi** [help](https://shop.example/help)"));
 */
function faqbotMarkdown(baseUrl) {
  "use strict";

  const base = String(baseUrl || location.origin).replace(/\/+$/, "");

  function h(tag, props) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "text") el.textContent = v;
      else el.setAttribute(k, String(v));
    }
    return el;
  }

  const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

  /** Return a safe absolute URL for a link target, or null (javascript:, data:, junk). */
  function safeUrl(raw) {
    try {
      const url = new URL(raw, base + "/");
      return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
    } catch { return null; }
  }

  const INLINE = new RegExp(
    [
      String.raw`\[([^\]\n]+)\]\(([^()\s]+)\)`, // 1,2 [text](url)
      String.raw`\*\*([^\n]+?)\*\*`, // 3 **bold**
      String.raw`__([^_\n]+?)__`, // 4 __bold__
      // No lookbehind (Safari before 16.4 rejects it): the char before is checked below.
      String.raw`\*([^*\s][^*\n]*?)\*(?![\w*])`, // 5 *italic*
      "`([^`\\n]+)`", // 6 `code`
      String.raw`(https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'])`, // 7 bare URL
    ].join("|"),
    "g",
  );

  /** Append inline Markdown (links, bold, italic, code, bare URLs) as DOM nodes. */
  function renderInline(text, parent, depth = 0) {
    let last = 0;
    INLINE.lastIndex = 0;
    const matches = [...text.matchAll(INLINE)];
    for (const m of matches) {
      if (m.index > last) parent.append(document.createTextNode(text.slice(last, m.index)));
      last = m.index + m[0].length;
      if (m[1] !== undefined) {
        const href = safeUrl(m[2]);
        if (!href) { parent.append(document.createTextNode(m[0])); continue; }
        const a = h("a", { href, target: "_blank", rel: "noopener noreferrer" });
        if (depth < 2) renderInline(m[1], a, depth + 1); else a.textContent = m[1];
        parent.append(a);
      } else if (m[3] !== undefined || m[4] !== undefined) {
        const b = h("strong");
        const inner = m[3] !== undefined ? m[3] : m[4];
        if (depth < 2) renderInline(inner, b, depth + 1); else b.textContent = inner;
        parent.append(b);
      } else if (m[5] !== undefined) {
        if (m.index > 0 && /[\w*]/.test(text[m.index - 1])) {
          parent.append(document.createTextNode(m[0])); // a*b*c is not emphasis
          continue;
        }
        const i = h("em");
        if (depth < 2) renderInline(m[5], i, depth + 1); else i.textContent = m[5];
        parent.append(i);
      } else if (m[6] !== undefined) {
        parent.append(h("code", { text: m[6] }));
      } else if (m[7] !== undefined) {
        const href = safeUrl(m[7]);
        parent.append(href
          ? h("a", { href, target: "_blank", rel: "noopener noreferrer", text: m[7] })
          : document.createTextNode(m[7]));
      }
    }
    if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
  }

  /** Build the Markdown subset (paragraphs, lists, headings-as-bold, inline marks) as DOM. */
  function renderMarkdown(src) {
    const root = document.createDocumentFragment();
    const lines = String(src || "").replace(/\r\n?/g, "\n").split("\n");
    let para = null;
    let list = null;
    for (const line of lines) {
      if (!line.trim()) { para = null; list = null; continue; }
      const item = /^\s*([-*+•]|\d{1,3}[.)])\s+(.*)$/.exec(line);
      if (item) {
        const type = /\d/.test(item[1]) ? "ol" : "ul";
        if (!list || list.tagName.toLowerCase() !== type) {
          list = h(type);
          if (type === "ol") list.setAttribute("start", String(parseInt(item[1], 10) || 1));
          root.append(list);
        }
        para = null;
        const li = h("li");
        renderInline(item[2], li);
        list.append(li);
        continue;
      }
      if (list && /^\s{2,}\S/.test(line) && list.lastChild) {
        list.lastChild.append(document.createTextNode(" "));
        renderInline(line.trim(), list.lastChild);
        continue;
      }
      list = null;
      const heading = /^\s*#{1,6}\s+(.*)$/.exec(line);
      if (heading) {
        const p = h("p");
        const b = h("strong");
        renderInline(heading[1], b);
        p.append(b);
        root.append(p);
        para = null;
        continue;
      }
      if (para) para.append(h("br"));
      else { para = h("p"); root.append(para); }
      renderInline(line.trim(), para);
    }
    return root;
  }

  return { renderMarkdown, renderInline, safeUrl };
}
