// Starts the vendored Swagger UI on this app's OpenAPI document (kept out of the HTML for a strict CSP).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
