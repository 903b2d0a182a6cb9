"""Opening the city for a command: the settings, the data directory, the store, then all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mycity.settings import Settings
from mycity.store.preflight import check_data_dir, check_store

if TYPE_CHECKING:
    from mycity.bootstrap import City


def open_city(settings: Settings | None = None) -> City:
    """The city, once the data directory is writable and the store can be reached: a refused
    port or a missing database says so in a line, in seconds."""
    from mycity.bootstrap import build

    settings = settings or Settings.from_env()
    check_data_dir(settings)
    check_store(settings)
    return build(settings)
