"""Lazy package attributes (PEP 562), so ``import motion`` and ``--help`` stay light."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_attributes(
    package: str, table: dict[str, tuple[str, str]], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` for ``package``.

    Args:
        package: the package's name, for error messages.
        table: public name -> ``(module, attribute)`` imported on first access.
        namespace: the package's ``globals()``; resolved values are cached there.
    """
    names = sorted(table)

    def __getattr__(name: str) -> Any:
        if name in table:
            module, attr = table[name]
            value = getattr(importlib.import_module(module), attr)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(names) | {n for n in namespace if not n.startswith("_")})

    return __getattr__, __dir__
