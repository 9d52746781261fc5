/* The demo shop's own behaviour; the chat is the single widget.js tag. A file, not inline:
   the pages' Content-Security-Policy runs no inline script (bot/web/headers.py). */
for (const group of document.querySelectorAll(".swatches, .sizes")) {
  group.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b || b.disabled) return;
    for (const o of group.querySelectorAll("button")) o.setAttribute("aria-pressed", String(o === b));
    if (b.dataset.fill) {
      document.getElementById("sweater").setAttribute("fill", b.dataset.fill);
      document.getElementById("colour-name").textContent = b.dataset.name;
    }
  });
}
document.getElementById("open-chat").addEventListener("click", () => window.faqbot && window.faqbot.open());
