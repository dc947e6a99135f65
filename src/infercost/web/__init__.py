"""The web app: `infercost serve` — a REST API over the verbs and a single-page calculator,
its static assets served by the app itself."""
