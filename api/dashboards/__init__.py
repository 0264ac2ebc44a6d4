"""Dashboards served by the platform at /dashboards/: executive, trading, compliance, user analytics
and system health. Each page is a static shell (templates/) whose script (static/dashboards.js)
draws the figures of its JSON data endpoint (/dashboards/api/<name>) with plotly.js served from the
platform itself. One module per dashboard builds its figures from the marts; access.py and
sessions.py say who may see them; docs/dashboards.md is the reader's guide."""

from api.dashboards.routes import router

__all__ = ["router"]
