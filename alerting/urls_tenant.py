"""URLs on a tenant's own domain: its admin, and ingest too."""

from django.contrib import admin
from django.urls import path

from alerting.api.urls import api_urlpatterns
from escalation.calendar_views import calendar_feed
from escalation.views import acknowledge, contact_verify

admin.site.site_header = "Herald"
admin.site.site_title = "Herald"

urlpatterns = [
    *api_urlpatterns,
    path("admin/", admin.site.urls),
    path("ack/<str:token>/", acknowledge, name="acknowledge-link"),
    path("contact/verify/<str:token>/", contact_verify, name="contact-verify"),
    path(
        "calendars/<slug:tenant_slug>/<str:feed>/<int:object_id>/<str:token>.ics",
        calendar_feed,
        name="calendar-feed",
    ),
]
