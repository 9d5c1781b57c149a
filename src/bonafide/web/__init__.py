"""Web interface (server-rendered Jinja2 + htmx): comes with the web-interface issue."""
