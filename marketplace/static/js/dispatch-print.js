// The driver manifest (dispatch/manifest.html): <button data-print> prints the page (print CSS in
// dispatch.css leaves out the site's header and footer).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (button) window.print();
  });
})();
