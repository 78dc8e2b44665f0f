"""URLs on hosts that are no tenant's domain: ingest, API docs, operators' admin, ops."""

from django.conf import settings
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from alerting.api.urls import api_urlpatterns
from alerting.infra import ops_views
from escalation.calendar_views import calendar_feed
from escalation.views import acknowledge, act, contact_verify
from receivers.jira_hooks.urls import urlpatterns as jira_urlpatterns
from receivers.servicenow_hooks.urls import urlpatterns as servicenow_urlpatterns
from receivers.slack_bot.urls import urlpatterns as slack_urlpatterns
from receivers.telegram_bot.views import telegram_webhook
from receivers.twilio_hooks.urls import urlpatterns as twilio_urlpatterns
from tenants.admin import public_admin

urlpatterns = [
    *api_urlpatterns,
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", public_admin.urls),
    path("ack/<str:token>/", acknowledge, name="acknowledge-link"),
    path("act/<str:token>/", act, name="action-link"),
    path("contact/verify/<str:token>/", contact_verify, name="contact-verify"),
    path(
        "telegram/<slug:tenant_slug>/<int:receiver_id>/webhook/",
        telegram_webhook,
        name="telegram-webhook",
    ),
    *slack_urlpatterns,
    *twilio_urlpatterns,
    *servicenow_urlpatterns,
    *jira_urlpatterns,
    path(
        "calendars/<slug:tenant_slug>/<str:feed>/<int:object_id>/<str:token>.ics",
        calendar_feed,
        name="calendar-feed",
    ),
    path("api/v1/health", ops_views.health, name="health"),
    path("api/v1/health/ready", ops_views.health_ready, name="health-ready"),
    # Herald's view, not django_prometheus': it adds up all processes and may ask for auth.
    path("metrics", ops_views.metrics, name="metrics"),
]

if settings.HERALD_DEMO:
    from alerting.demo.views import sink

    urlpatterns.append(path("demo/sink/", sink, name="demo-sink"))
