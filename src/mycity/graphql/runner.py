"""The schema's one extension, entered at each stage of a request without strawberry's
per-request machinery.

Strawberry's runner, at each of a request's four stages, looks at every hook of every
extension (is it a generator? an async one?), wraps each in a new context-manager function
and enters them through an exit stack: a tenth of a worker's CPU on `me`, profiled under
load. The city has one extension (`CityRequest`), so its hooks are wrapped once, when this
module is imported, and each stage enters the hook itself. A schema with any other set of
extensions gets strawberry's runner unchanged.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

STAGES = ("on_operation", "on_parse", "on_validate", "on_execute")


class SyncStage:
    """A generator hook, entered by `with` or `async with` (strawberry uses both)."""

    __slots__ = ("_hook",)

    def __init__(self, hook: contextlib.AbstractContextManager[None]) -> None:
        self._hook = hook

    def __enter__(self) -> None:
        self._hook.__enter__()

    def __exit__(self, *exc: Any) -> bool | None:
        return self._hook.__exit__(*exc)

    async def __aenter__(self) -> None:
        self._hook.__enter__()

    async def __aexit__(self, *exc: Any) -> bool | None:
        return self._hook.__exit__(*exc)


class AsyncStage:
    """An async generator hook: `async with` only, as strawberry has it."""

    __slots__ = ("_hook",)

    def __init__(self, hook: contextlib.AbstractAsyncContextManager[None]) -> None:
        self._hook = hook

    def __enter__(self) -> None:
        raise RuntimeError("An async extension hook cannot complete synchronously")

    def __exit__(self, *exc: Any) -> None:
        return None

    async def __aenter__(self) -> None:
        await self._hook.__aenter__()

    async def __aexit__(self, *exc: Any) -> bool | None:
        return await self._hook.__aexit__(*exc)


NOTHING = contextlib.nullcontext()  # a stage the extension has no hook for
Hook = tuple[Callable[[SchemaExtension], Any], type[SyncStage | AsyncStage]] | None


def wrapped_hooks(extension: type[SchemaExtension]) -> dict[str, Hook]:
    """Each stage's hook of the extension class as a context-manager factory taking the
    extension, and how it is entered (None where it keeps SchemaExtension's), made once."""
    hooks: dict[str, Hook] = {}
    for stage in STAGES:
        hook = getattr(extension, stage)
        if hook is getattr(SchemaExtension, stage):
            hooks[stage] = None
        elif inspect.isasyncgenfunction(hook):
            hooks[stage] = (contextlib.asynccontextmanager(hook), AsyncStage)
        elif inspect.isgeneratorfunction(hook):
            hooks[stage] = (contextlib.contextmanager(hook), SyncStage)
        else:
            raise TypeError(f"{extension.__name__}.{stage} must be a generator")
    return hooks


class OneExtensionRunner(SchemaExtensionsRunner):
    """Strawberry's runner for a request of exactly one extension, its hooks (from
    `wrapped_hooks` of its class) entered directly."""

    def __init__(
        self,
        execution_context: ExecutionContext,
        extensions: list[SchemaExtension],
        hooks: dict[str, Hook],
    ) -> None:
        super().__init__(execution_context, extensions)
        self._hooks = hooks

    def _stage(self, name: str) -> Any:
        hook = self._hooks[name]
        if hook is None:
            return NOTHING
        factory, stage = hook
        return stage(factory(self.extensions[0]))

    def operation(self) -> Any:
        return self._stage("on_operation")

    def parsing(self) -> Any:
        return self._stage("on_parse")

    def validation(self) -> Any:
        return self._stage("on_validate")

    def executing(self) -> Any:
        return self._stage("on_execute")
