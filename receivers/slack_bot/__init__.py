"""The Slack app's side of the conversation: its buttons' clicks and its slash command.

Slack posts both to an endpoint per receiver (views.py), signed with the
app's signing secret (signature.py); replays and Slack's retries are
refused or skipped there (replay.py). A click's work runs in a task
(interactions.py): the Slack user is mapped to a Herald person (linking.py),
whose rights escalation.actions checks. `/herald oncall` answers from the
schedules (commands.py). The channel itself (posting, editing in place) is
receivers.transports.slack_app.
"""
