"""The Telegram bot that answers back: its webhook, its buttons and commands, account links.

Telegram calls the receiver's webhook (views) with the secret it was given
when the webhook was registered (webhook, the telegram_webhook_register
command); the view checks it, reads the update (updates) and leaves the
work to a task (tasks -> services): a pressed button applies its action as
the person the Telegram user is linked to (linking), `/oncall` says who is
on call, `/link` sends the link that binds a Telegram account to a person.
"""
