"""The Slack app's URLs, on Herald's shared host and on every tenant's own.

The URL names the tenant and the receiver: Slack's request is checked with
that receiver's signing secret. The link page works on the tenant's host,
where its members log in.
"""

from django.urls import path

from receivers.slack_bot.views import slack_command, slack_interactive, slack_link

urlpatterns = [
    path("slack/<slug:tenant_slug>/<int:receiver_id>/interactive/", slack_interactive,
         name="slack-interactive"),
    path("slack/<slug:tenant_slug>/<int:receiver_id>/commands/", slack_command,
         name="slack-command"),
    path("slack/link/<str:token>/", slack_link, name="slack-link"),
]
