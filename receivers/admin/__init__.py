"""The receivers app's tenant admin, one module per model it registers.

Django's autodiscovery imports this package; importing the modules registers
their ModelAdmins.
"""

from receivers.admin import message_template_admin, notification_admin, receiver_admin

__all__ = ["message_template_admin", "notification_admin", "receiver_admin"]
