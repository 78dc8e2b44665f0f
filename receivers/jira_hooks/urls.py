"""Jira's sync-back URL, on Herald's shared host and on every tenant's own."""

from django.urls import path

from receivers.jira_hooks.views import jira_webhook

urlpatterns = [
    path("jira/<slug:tenant_slug>/<int:receiver_id>/webhook/", jira_webhook,
         name="jira-webhook"),
]
