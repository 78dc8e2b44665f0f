"""Phone paging's shared half: numbers, carriers by country prefix, SMS segments, speech.

numbers     E.164 numbers (phonenumbers) and country prefixes (pure)
settings    the settings every phone provider shares: prefixes, prices
segments    SMS text within two segments, GSM-7 or UCS-2 counted (pure)
speech      what a call says, in the person's language (pure)

The providers themselves are channels (receivers/transports/twilio.py, sns.py).
"""
