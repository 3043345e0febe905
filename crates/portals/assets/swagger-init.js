// Renders an API's OpenAPI definition with Swagger UI (from the swagger-ui-redist crate) in
// the element that names the definition's URL. Requests are sent with the page's own "try it"
// panel, through the gateway, so Swagger UI only shows the operations.
document.addEventListener('DOMContentLoaded', () => {
  const target = document.getElementById('swagger-ui');
  if (!target || !window.SwaggerUIBundle) {
    return;
  }
  window.SwaggerUIBundle({
    url: target.dataset.url,
    domNode: target,
    deepLinking: false,
    supportedSubmitMethods: [],
    defaultModelsExpandDepth: -1,
    validatorUrl: null,
    // Swagger UI's server chooser has no label of its own.
    onComplete: () => {
      const servers = target.querySelector('#servers');
      if (servers && !servers.getAttribute('aria-label')) {
        servers.setAttribute('aria-label', 'Server');
      }
    },
  });
});
