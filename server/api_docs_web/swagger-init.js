/* Starts Swagger UI on /docs. A file, not an inline script: the page's CSP is script-src 'self'.
 * validatorUrl null: Swagger UI would otherwise send the schema to an outside validator. */
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
