// Swagger UI for /api/v1/docs. A file of its own, so that the page runs no inline script
// (Content-Security-Policy: script-src 'self').
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null // no badge from validator.swagger.io: nothing is loaded from elsewhere
  });
});
