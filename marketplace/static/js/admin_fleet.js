// The operator's fleet forms (admin/users*, warehouse*, vehicle*, driver*, window_class*): a form
// is sent once (a double click does not post it twice; the server applies a repeat once anyway),
// and the cooperative choice shows only for the cooperative head role. Without this file every
// form works the same.
(function () {
  if (window.shanhuoAdminFleet) return;
  window.shanhuoAdminFleet = true;

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("fleet-form")) return;
    if (form.dataset.sent === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    window.setTimeout(function () {
      form.querySelectorAll("button[data-once]").forEach(function (button) {
        button.disabled = true;
      });
    }, 0);
  });

  // a page restored from the browser's cache can be sent again
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form.fleet-form").forEach(function (form) {
      form.dataset.sent = "";
      form.querySelectorAll("button[data-once]").forEach(function (button) {
        button.disabled = false;
      });
    });
  });

  function syncCooperative(form) {
    const role = form.querySelector("select[name=role]");
    const coop = form.querySelector("select[name=cooperative_id]");
    if (!role || !coop) return;
    const field = coop.closest(".field");
    if (field) field.hidden = role.value !== "coop_head";
  }

  document.querySelectorAll("form.fleet-form").forEach(function (form) {
    syncCooperative(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "role") syncCooperative(form);
    });
  });
})();
