"""Settings of logins and what a browser is allowed: lockout, mail, content security policy.

Read from the environment, with working defaults; `alerting.infra.settings`
imports them all (Django reads the names from there) and adds the apps and
middleware they need.
"""

import os

from alerting.infra.settings_env import env_bool

# Lockout (django-axes): after HERALD_LOGIN_FAILURE_LIMIT failures a username is
# locked, and so is an address, each on its own, for HERALD_LOGIN_COOLOFF_MINUTES;
# operators unlock on the operators' admin (Access attempts) or `manage.py axes_reset`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("HERALD_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("HERALD_LOGIN_COOLOFF_MINUTES", "15")) / 60 or None
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ADMIN = False  # registered on the operators' admin instead (tenants/admin.py)
AXES_CLIENT_IP_CALLABLE = "tenants.sites.client_ip"
# Behind N proxies that each append to X-Forwarded-For, the client's address is
# the Nth entry from the right (0: REMOTE_ADDR, the peer). Without it, every
# login behind a proxy comes from the proxy's address, which one guesser locks.
HERALD_TRUSTED_PROXY_HOPS = int(os.environ.get("HERALD_TRUSTED_PROXY_HOPS", "0"))
AXES_LOCKOUT_CALLABLE = "tenants.login_security.lockout_response"
AXES_VERBOSE = False  # Herald's audit trail records logins; no usernames in the logs
OTP_TOTP_ISSUER = "Herald"
# Password reset mail (and Django's other mail): plain SMTP settings.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "herald@localhost")
PASSWORD_RESET_TIMEOUT = 3600
HERALD_PASSWORD_RESET_RATE_LIMIT = os.environ.get("HERALD_PASSWORD_RESET_RATE_LIMIT", "5/hour")
# CSP everywhere: scripts and everything else from Herald itself only; inline
# styles allowed (the admin's and the templates' style attributes), inline
# scripts never. The template preview is fetched by static/ JS (connect-src).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}
