// Small behaviours shared by every page, attached by data-* attributes (the Content-Security-Policy
// allows no inline script or on…= handler). Every page works without this file too.
(function () {
  // <form data-confirm="Question?">: ask before submitting; "Cancel" keeps the page as it is.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
  // <input data-navigate="/url">: choosing it opens that URL (e.g. checkout re-quotes the delivery
  // windows for another address; without script, a <noscript> button submits the same choice).
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.dataset.navigate && (input.checked || input.type !== "radio")) {
      window.location.href = input.dataset.navigate;
    }
  });
})();
