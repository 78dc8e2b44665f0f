"""ServiceNow's sync back: a Business Rule posts an incident's change, Herald acts on its incident.

payload.py checks the request (the receiver's shared secret or an HMAC of the
body) and reads the change; services.py decides and acts through
escalation.actions.incident_action_apply; views.py is the endpoint.
"""
