// The dispatch console's action forms (templates dispatch/_actions.html, _route_actions.html):
// a form marked .js-busy is sent once, its button says what is happening ("Planning…") and the
// other action forms wait meanwhile; the re-plan page refreshes itself while the plan is being
// made. Every form works without this file too (the server ignores a second submit anyway).
(function () {
  if (window.shanhuoDispatchActions) return; // (the template may load it more than once)
  window.shanhuoDispatchActions = true;

  function busyForms() {
    return document.querySelectorAll("form.js-busy");
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("js-busy")) return;
    if (event.defaultPrevented) return; // (cancelled at its confirmation question)
    if (form.dataset.sent === "1") {
      event.preventDefault(); // a double click: the first submit is on its way
      return;
    }
    form.dataset.sent = "1";
    document.body.classList.add("dispatch-busy");
    const label = form.dataset.busy || "";
    // after the browser has taken the form's values, so that disabling changes nothing sent
    window.setTimeout(function () {
      busyForms().forEach(function (other) {
        other.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = true;
        });
      });
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.dataset.label = button.textContent;
        if (label) button.textContent = label;
        button.classList.add("is-busy");
      });
      const row = form.closest(".action-row");
      const note = row && row.querySelector(".busy-note");
      if (note && label) note.textContent = label;
    }, 0);
  });

  function freshToken() {
    const bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  // back to a page from the browser's cache: its buttons work again, and a re-plan form gets a
  // new one-time token (the old one names the re-plan already made: the server would show it)
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.body.classList.remove("dispatch-busy");
    busyForms().forEach(function (form) {
      delete form.dataset.sent;
      const token = form.querySelector("input[name=token]");
      if (token) token.value = freshToken();
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = false;
        button.classList.remove("is-busy");
        if (button.dataset.label) button.textContent = button.dataset.label;
      });
    });
  });

  // the re-plan page while the plan is being made
  const waiting = document.querySelector("[data-refresh]");
  if (waiting) {
    const seconds = parseInt(waiting.dataset.refresh, 10) || 2;
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
})();
