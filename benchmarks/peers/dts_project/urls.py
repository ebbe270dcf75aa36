"""URLs for the benchmark Django project (the scheduler's admin views; never served in a benchmark)."""

from django.urls import include, path

urlpatterns = [path("scheduler/", include("scheduler.urls"))]
