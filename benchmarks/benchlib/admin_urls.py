"""URLs for the admin_queues_page scenario: the Django admin only."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
