"""URLs on a tenant's own domain: its admin, and ingest too."""

from django.contrib import admin
from django.urls import include, path

from alerting.api.urls import api_urlpatterns
from escalation.calendar_views import calendar_feed
from escalation.views import acknowledge, act, contact_verify
from receivers.jira_hooks.urls import urlpatterns as jira_urlpatterns
from receivers.servicenow_hooks.urls import urlpatterns as servicenow_urlpatterns
from receivers.slack_bot.urls import urlpatterns as slack_urlpatterns
from receivers.telegram_bot.views import telegram_link, telegram_webhook
from receivers.twilio_hooks.urls import urlpatterns as twilio_urlpatterns

admin.site.site_header = "Herald"
admin.site.site_title = "Herald"

urlpatterns = [
    *api_urlpatterns,
    # Before the admin: its app index would take /admin/reports/ (reports' SLA targets).
    path("admin/reports/", include("alerting.reports.urls")),
    path("admin/", admin.site.urls),
    path("ack/<str:token>/", acknowledge, name="acknowledge-link"),
    path("act/<str:token>/", act, name="action-link"),
    path("contact/verify/<str:token>/", contact_verify, name="contact-verify"),
    path(
        "telegram/<slug:tenant_slug>/<int:receiver_id>/webhook/",
        telegram_webhook,
        name="telegram-webhook",
    ),
    path("telegram/link/<str:token>/", telegram_link, name="telegram-link"),
    *slack_urlpatterns,
    *twilio_urlpatterns,
    *servicenow_urlpatterns,
    *jira_urlpatterns,
    path(
        "calendars/<slug:tenant_slug>/<str:feed>/<int:object_id>/<str:token>.ics",
        calendar_feed,
        name="calendar-feed",
    ),
]
