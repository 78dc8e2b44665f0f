"""How the settings modules read the environment: booleans and comma-separated lists."""

import os


def env_bool(name: str, default: bool) -> bool:
    """True for 1, true, yes or on (any case); `default` when the variable is unset."""
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """The variable's comma-separated items, stripped, empty ones left out."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]
