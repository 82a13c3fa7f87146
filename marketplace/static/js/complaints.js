// Complaint forms: previews of the chosen photos, a clear word when there are too many or one is
// too large (the server checks again), and a form sent once (a double tap sends nothing more).
(function () {
  "use strict";
  document.querySelectorAll("input[type=file][data-max-photos]").forEach(function (input) {
    var form = input.form;
    var box = form.querySelector("[data-photo-previews]");
    var error = form.querySelector("[data-photo-error]");
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      var max = parseInt(input.dataset.maxPhotos, 10);
      var maxBytes = parseInt(input.dataset.maxBytes, 10);
      var message = "";
      if (files.length > max) { message = input.dataset.tooMany; }
      else if (files.some(function (f) { return f.size > maxBytes; })) { message = input.dataset.tooLarge; }
      error.textContent = message;
      error.hidden = !message;
      if (message) { input.value = ""; files = []; }
      box.textContent = "";
      files.forEach(function (file) {
        if (!/^image\//.test(file.type)) { return; }
        var img = document.createElement("img");
        img.width = 72; img.height = 72; img.alt = file.name;
        // a data: URL (the site's policy allows img-src 'self' data:, not blob:)
        var reader = new FileReader();
        reader.addEventListener("load", function () { img.src = reader.result; });
        reader.readAsDataURL(file);
        box.appendChild(img);
      });
    });
  });
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var button = form.querySelector("[data-busy]");
      if (button) { button.textContent = button.dataset.busy; button.setAttribute("aria-busy", "true"); }
    });
  });
})();
