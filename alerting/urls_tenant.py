"""URLs on a tenant's own domain: its admin, and ingest too."""

from django.contrib import admin
from django.urls import path

from alerting.api.urls import api_urlpatterns
from escalation.views import acknowledge

admin.site.site_header = "Herald"
admin.site.site_title = "Herald"

urlpatterns = [
    *api_urlpatterns,
    path("admin/", admin.site.urls),
    path("ack/<str:token>/", acknowledge, name="acknowledge-link"),
]
