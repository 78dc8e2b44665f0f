"""Writes of the receivers app: the outbox, delivery, receivers and templates."""

from receivers.services.delivery import DeliveryResult, notification_deliver
from receivers.services.delivery_batch import notifications_deliver
from receivers.services.outbox import (
    notification_bulk_create,
    notification_sweep,
    notifications_enqueue,
)
from receivers.services.receivers import (
    RotationResult,
    message_template_save,
    message_template_validate,
    receiver_config_update,
    receiver_create,
    receiver_save,
    receiver_secret_set,
    receiver_secrets_rotate,
    receiver_settings_validate,
)

__all__ = [
    "DeliveryResult",
    "RotationResult",
    "message_template_save",
    "message_template_validate",
    "notification_bulk_create",
    "notification_deliver",
    "notification_sweep",
    "notifications_deliver",
    "notifications_enqueue",
    "receiver_config_update",
    "receiver_create",
    "receiver_save",
    "receiver_secret_set",
    "receiver_secrets_rotate",
    "receiver_settings_validate",
]
