"""Config-is-the-constructor for plain modules, and their plain export format.

Like diffusers' ``@register_to_config``: decorating ``__init__`` with :func:`register_config`
records the (JSON-serialisable) constructor arguments in ``module.config``, so a module can
be rebuilt from ``{class_path, init_args}`` without a parallel config class.

Export format (one pair of files per sub-module, no pickle)::

    <dir>/<name>.json   {"class_path": "motion.models.motion_vae.MotionVAE", "init_args": {...}}
    <dir>/<name>.pt     state_dict saved with torch.save, loadable with weights_only=True

:func:`load_module` only imports classes under ``motion.`` so a JSON file cannot make it
import arbitrary code.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from motion.errors import MotionError

F = TypeVar("F", bound=Callable[..., None])
M = TypeVar("M", bound=nn.Module)
#: Only classes from these packages can be rebuilt from a JSON config.
ALLOWED_PREFIXES: tuple[str, ...] = ("motion.",)


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON types (tuples -> lists); raise if it is not plain data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, where) for k, v in value.items()}
    raise TypeError(f"{where}: constructor argument of type {type(value).__name__} is not "
                    "JSON-serialisable; configurable modules take plain values only")


def register_config(init: F) -> F:
    """Decorate a module's ``__init__`` to record its arguments in ``self.config``.

    The outermost decorated ``__init__`` wins, so subclasses may decorate too.
    """
    sig = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self: nn.Module, *args: Any, **kwargs: Any) -> None:
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        init(self, *args, **kwargs)
        cfg = {k: v for k, v in bound.arguments.items() if k != "self"}
        where = type(self).__name__
        object.__setattr__(self, "_config", {k: _plain(v, where) for k, v in cfg.items()})

    return wrapper  # type: ignore[return-value]


def module_config(module: nn.Module) -> dict[str, Any]:
    """``{"class_path", "init_args"}`` of a module decorated with :func:`register_config`."""
    cfg = getattr(module, "_config", None)
    if cfg is None:
        raise TypeError(f"{type(module).__name__} has no recorded config (decorate its "
                        "__init__ with motion.models.config.register_config)")
    cls = type(module)
    return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": dict(cfg)}


def build_module(config: dict[str, Any]) -> nn.Module:
    """Instantiate ``{"class_path", "init_args"}`` (classes under ``motion.`` only)."""
    path = str(config["class_path"])
    if not path.startswith(ALLOWED_PREFIXES):
        raise ValueError(f"refusing to build {path!r}: only classes under {ALLOWED_PREFIXES} "
                         "can be rebuilt from an exported config")
    mod_name, _, cls_name = path.rpartition(".")
    cls = getattr(importlib.import_module(mod_name), cls_name)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise TypeError(f"{path} is not an nn.Module class")
    return cls(**config.get("init_args", {}))


def save_module(module: nn.Module, directory: str | Path, name: str) -> tuple[Path, Path]:
    """Write ``<name>.json`` (constructor config) and ``<name>.pt`` (CPU state_dict).

    Returns:
        The two paths written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cfg_path, pt_path = directory / f"{name}.json", directory / f"{name}.pt"
    cfg_path.write_text(json.dumps(module_config(module), indent=2) + "\n", encoding="utf-8")
    state = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
    torch.save(state, pt_path)
    return cfg_path, pt_path


def load_module(directory: str | Path, name: str, map_location: str | torch.device = "cpu",
                expected: type[M] | None = None) -> M:
    """Rebuild ``<name>`` from ``<name>.json`` and load ``<name>.pt`` with ``weights_only=True``.

    Args:
        directory: folder written by :func:`save_module` (e.g. a run's ``export/``).
        name: sub-module name.
        map_location: where tensors are loaded.
        expected: if given, the class the module must be an instance of.

    Raises:
        FileNotFoundError: a file is missing (the message names the folder's content).
        WeightsFileError: a file is unreadable, truncated, holds code or does not fit the
            module (the message names the file).
    """
    import pickle

    directory = Path(directory)
    cfg_path, pt_path = directory / f"{name}.json", directory / f"{name}.pt"
    for p in (cfg_path, pt_path):
        if not p.is_file():
            have = sorted(x.name for x in directory.iterdir()) if directory.is_dir() else []
            raise FileNotFoundError(f"{p} not found; {directory} holds {have or 'nothing'}")
    try:
        module = build_module(json.loads(cfg_path.read_text(encoding="utf-8")))
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise WeightsFileError(f"{cfg_path} is not a module config written by the toolkit ({exc})") from None
    if expected is not None and not isinstance(module, expected):
        raise TypeError(f"{cfg_path} builds {type(module).__name__}, expected {expected.__name__}")
    if pt_path.stat().st_size == 0:
        raise WeightsFileError(f"{pt_path} is empty (0 bytes): copy the weights again or retrain")
    try:  # weights_only: the restricted unpickler refuses anything but tensors and plain containers
        state = torch.load(pt_path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, EOFError, RuntimeError, ValueError, AttributeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsFileError(f"{pt_path} cannot be loaded as plain tensors (truncated, not a torch file, "
                               f"or it holds Python objects, which are never run): {first}") from None
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise WeightsFileError(f"{pt_path} does not fit {cfg_path.name}: {first}") from None
    return module  # type: ignore[return-value]


class WeightsFileError(MotionError, ValueError):
    """A weights file (``.json`` / ``.pt``) is unreadable, truncated, unsafe or does not fit."""

