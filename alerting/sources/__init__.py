"""Senders other than Alertmanager: each module maps its body to Alertmanager's alert shape."""
