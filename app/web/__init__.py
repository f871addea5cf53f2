"""Web pages and the JSON API: routes, templates, static assets, error bodies, security headers."""
