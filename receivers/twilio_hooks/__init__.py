"""Twilio calling Herald back: delivery reports, key presses on a call, SMS replies.

    signature   X-Twilio-Signature checked against the exact public URL (the twilio package)
    selectors   the notification or receiver a callback is about, who a number belongs to
    replies     what a key or an SMS reply asks (pure)
    services    a report recorded, a reply acted on as the person whose number it is
    views       the endpoints: 403 for a bad signature, 404 for a message not this tenant's
    urls        their routes, on Herald's shared host and the tenants' own
"""
