"""Route modules; each exposes ``router`` and is listed in ``bonafide.api.app.ROUTER_MODULES``."""
