from tests.admin.conftest import _fast_passwords, client_as, users  # noqa: F401 - fixtures
