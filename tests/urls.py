"""URL conf for the tests: the Django admin only (taskctl serves no pages of its own)."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
