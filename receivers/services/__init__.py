"""Writes of the receivers app: receivers and templates (delivery: receivers.delivery)."""

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
    "RotationResult",
    "message_template_save",
    "message_template_validate",
    "receiver_config_update",
    "receiver_create",
    "receiver_save",
    "receiver_secret_set",
    "receiver_secrets_rotate",
    "receiver_settings_validate",
]


# Delivery moved to receivers.delivery; these names are read from there on
# first use (a lazy import: receivers.delivery itself imports this package).
_MOVED = {
    "DeliveryResult", "notification_bulk_create", "notification_deliver", "notification_sweep",
    "notifications_deliver", "notifications_enqueue",
}


def __getattr__(name: str):
    if name in _MOVED:
        import receivers.delivery

        return getattr(receivers.delivery, name)
    raise AttributeError(name)
