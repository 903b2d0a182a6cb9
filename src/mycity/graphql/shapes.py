"""Object types filled from what the reads return, field by field of the same name."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def shaped(cls: type[T], source: object, **given: Any) -> T:
    """An instance of the object type `cls` whose fields are `source`'s attributes of the same
    names, except those `given`."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    found = {f.name: getattr(source, f.name) for f in fields if f.init and f.name not in given}
    return cls(**found, **given)
