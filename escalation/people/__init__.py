"""People's profiles, contact methods (verified before they are paged) and notification rules.

services.py writes, selectors.py reads, verification.py makes and reads the
signed confirmation links, access.py says who may edit whose profile.
"""
