"""Jira's sync back: an issue's status change acknowledges or resolves its Herald incident.

payload.py checks the request (the receiver's secret in the URL or a header,
or Jira's HMAC signature of the body) and reads the change; services.py
decides and acts through escalation.actions.incident_action_apply; views.py
is the endpoint.
"""
