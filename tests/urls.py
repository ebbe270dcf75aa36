"""URL conf for the tests: the Django admin and scheduler_core's own URLs (the metrics view)."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [path("admin/", admin.site.urls), path("taskctl/", include("scheduler_core.urls"))]
