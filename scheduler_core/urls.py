"""URLs a site may include: `path("taskctl/", include("scheduler_core.urls"))` gives
/taskctl/metrics (Prometheus text; a bearer token or a staff session, see docs/metrics.md)."""

from django.urls import path

from scheduler_core.metrics.view import metrics

app_name = "scheduler_core"
urlpatterns = [path("metrics", metrics, name="metrics")]
