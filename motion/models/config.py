"""Config-is-the-constructor for plain modules, and their export format (safetensors + JSON).

Like diffusers' ``@register_to_config``: decorating ``__init__`` with :func:`register_config`
records the (JSON-serialisable) constructor arguments in ``module.config`` (read-only), so a
module can be rebuilt from ``{class_path, init_args}`` without a parallel config class.

Export format (one pair of files per sub-module, no pickle)::

    <dir>/<name>.json         {"class_path": "motion.models.motion_vae.MotionVAE", "init_args": {...}}
    <dir>/<name>.safetensors  the state dict (CPU tensors; safetensors: data, never code)

:func:`save_module` writes it, :func:`load_module` reads it. Exports written before the
toolkit moved to safetensors hold ``<name>.pt`` (a ``torch.save`` state dict) instead:
:func:`load_module` still reads those, with ``torch.load(weights_only=True)``, whose restricted
unpickler refuses anything but tensors and plain containers. :func:`load_module` only imports
classes under ``motion.`` so a JSON file cannot make it import arbitrary code.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import torch
from torch import nn

from motion.errors import MotionError

F = TypeVar("F", bound=Callable[..., None])
M = TypeVar("M", bound=nn.Module)
#: Only classes from these packages can be rebuilt from a JSON config.
ALLOWED_PREFIXES: tuple[str, ...] = ("motion.",)
#: Suffix of the weights file of a module (next to ``<name>.json``).
WEIGHTS_SUFFIX = ".safetensors"
#: Suffix of the weights of older exports, still read (``torch.load(weights_only=True)``).
LEGACY_SUFFIX = ".pt"


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON types (tuples -> lists); raise if it is not plain data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, where) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v, where) for k, v in value.items()}
    raise TypeError(f"{where}: constructor argument of type {type(value).__name__} is not "
                    "JSON-serialisable; configurable modules take plain values only")


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return FrozenConfig(value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    if isinstance(value, FrozenConfig):
        return value.to_dict()
    return value


class FrozenConfig(Mapping[str, Any]):
    """The constructor arguments of a module, read-only: ``module.config["width"]`` or
    ``module.config.width``; lists are tuples, dicts are :class:`FrozenConfig`.
    :meth:`to_dict` gives a plain, mutable copy (JSON types)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", {str(k): _freeze(v) for k, v in data.items()})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(f"config has no {key!r}; it holds {sorted(self._data)}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("a module's config is read-only (it is what the module was built with)")

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenConfig, (self.to_dict(),))

    def __repr__(self) -> str:
        return f"FrozenConfig({self.to_dict()!r})"

    def to_dict(self) -> dict[str, Any]:
        """A plain copy (lists and dicts)."""
        return {k: _thaw(v) for k, v in self._data.items()}


def register_config(init: F) -> F:
    """Decorate a module's ``__init__`` to record its arguments in ``self.config``
    (a read-only :class:`FrozenConfig`).

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
        self.__dict__["config"] = FrozenConfig({k: _plain(v, where) for k, v in cfg.items()})

    return wrapper  # type: ignore[return-value]


def module_config(module: nn.Module) -> dict[str, Any]:
    """``{"class_path", "init_args"}`` of a module decorated with :func:`register_config`."""
    cfg = module.__dict__.get("config")
    if not isinstance(cfg, FrozenConfig):
        raise TypeError(f"{type(module).__name__} has no recorded config (decorate its "
                        "__init__ with motion.models.config.register_config)")
    cls = type(module)
    return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": cfg.to_dict()}


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


def weights_file(directory: str | Path, name: str) -> Path | None:
    """``<name>.safetensors`` in ``directory``, else a legacy ``<name>.pt``, else None."""
    directory = Path(directory)
    for suffix in (WEIGHTS_SUFFIX, LEGACY_SUFFIX):
        path = directory / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def has_module(directory: str | Path, name: str) -> bool:
    """Whether ``directory`` holds the export of ``name`` (its ``.json`` and a weights file)."""
    return (Path(directory) / f"{name}.json").is_file() and weights_file(directory, name) is not None


def module_names(directory: str | Path) -> list[str]:
    """Names of the module exports in ``directory`` (``<name>.json`` with a ``class_path`` and a
    weights file), sorted."""
    directory = Path(directory)
    names = []
    for cfg in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            is_module = "class_path" in json.loads(cfg.read_text(encoding="utf-8"))
        except (ValueError, TypeError, UnicodeDecodeError, OSError):
            continue
        if is_module and weights_file(directory, cfg.stem) is not None:
            names.append(cfg.stem)
    return names


def read_state(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """The state dict in a ``.safetensors`` file (or a legacy ``.pt``, read with ``weights_only=True``).

    Raises:
        FileNotFoundError: no such file.
        WeightsFileError: empty, truncated, not a weights file, or (``.pt``) holding Python
            objects (never run); the message names the file.
    """
    import pickle

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    if path.stat().st_size == 0:
        raise WeightsFileError(f"{path} is empty (0 bytes): copy the weights again or retrain")
    if path.suffix == LEGACY_SUFFIX:
        try:  # weights_only: the restricted unpickler refuses anything but tensors and plain containers
            state = torch.load(path, map_location=map_location, weights_only=True)
        except (pickle.UnpicklingError, EOFError, RuntimeError, ValueError, AttributeError, OSError) as exc:
            raise WeightsFileError(f"{path} cannot be loaded as plain tensors (truncated, not a torch file, "
                                   f"or it holds Python objects, which are never run): {_first(exc)}") from None
    else:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        device = str(torch.device(map_location))
        try:
            state = load_file(path, device=device)
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise WeightsFileError(f"{path} cannot be read as safetensors (truncated, or not a weights "
                                   f"file): {_first(exc)}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsFileError(f"{path} does not hold a state dict of tensors")
    return state


StorageDtype = bool | Literal["exact"]


def _stored(t: torch.Tensor, half: StorageDtype) -> torch.Tensor:
    """``t`` on the CPU, contiguous, its own copy; a floating matrix as float16 per ``half``."""
    t = t.detach().to("cpu")
    if half and torch.is_floating_point(t) and t.dim() >= 2 and t.dtype != torch.float16:
        small = t.half()
        if half is True or torch.equal(small.to(t.dtype), t):
            t = small
    return t.contiguous().clone()


def write_state(state: Mapping[str, torch.Tensor], path: str | Path, half: StorageDtype = False) -> Path:
    """Write ``state`` as ``path`` (safetensors), atomically.

    Args:
        half: False: every tensor as it is; True: floating matrices (two or more dimensions) as
            float16 (the shipped weights: half the download; vectors stay as they are);
            ``"exact"``: those matrices as float16 where that loses nothing (weights loaded from
            float16 files are written back as they were).
    """
    from safetensors.torch import save

    from motion.atomic import atomic_write

    data = save({k: _stored(v, half) for k, v in state.items()}, metadata={"format": "pt"})
    return atomic_write(path, lambda f: f.write(data))


def save_module(module: nn.Module, directory: str | Path, name: str, half: StorageDtype = False) -> tuple[Path, Path]:
    """Write ``<name>.json`` (constructor config) and ``<name>.safetensors`` (CPU state dict),
    each atomically; a legacy ``<name>.pt`` left in ``directory`` is removed (it would be stale).

    Args:
        half: storage of floating matrices (:func:`write_state`): False (as they are), True
            (float16) or ``"exact"`` (float16 where lossless).

    Returns:
        The two paths written.
    """
    from motion.atomic import atomic_write

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cfg_path, st_path = directory / f"{name}.json", directory / f"{name}{WEIGHTS_SUFFIX}"
    text = json.dumps(module_config(module), indent=2) + "\n"
    atomic_write(cfg_path, lambda f: f.write(text.encode("utf-8")))
    write_state(module.state_dict(), st_path, half)
    (directory / f"{name}{LEGACY_SUFFIX}").unlink(missing_ok=True)
    return cfg_path, st_path


def load_module(directory: str | Path, name: str, map_location: str | torch.device = "cpu",
                expected: type[M] | None = None) -> M:
    """Rebuild ``<name>`` from ``<name>.json`` and load its weights: ``<name>.safetensors``
    (no pickle at all), or, for exports written before safetensors, ``<name>.pt`` read with
    ``torch.load(weights_only=True)`` (tensors and plain containers only, never code).
    float16 matrices (the shipped weights) are copied into the module's float32 parameters.

    Args:
        directory: folder written by :func:`save_module` (e.g. a run's ``export/``).
        name: sub-module name.
        map_location: where tensors are loaded.
        expected: if given, the class the module must be an instance of.

    Raises:
        FileNotFoundError: a file is missing (the message names the folder's content).
        WeightsFileError: a file is unreadable, empty, truncated, holds code or does not fit the
            module (wrong names or shapes; the message names the file).
    """
    directory = Path(directory)
    cfg_path, path = directory / f"{name}.json", weights_file(directory, name)
    for p, what in ((cfg_path, cfg_path), (path, directory / f"{name}{WEIGHTS_SUFFIX}")):
        if p is None or not p.is_file():
            have = sorted(x.name for x in directory.iterdir()) if directory.is_dir() else []
            raise FileNotFoundError(f"{what} not found; {directory} holds {have or 'nothing'}")
    assert path is not None
    try:
        module = build_module(json.loads(cfg_path.read_text(encoding="utf-8")))
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise WeightsFileError(f"{cfg_path} is not a module config written by the toolkit ({exc})") from None
    if expected is not None and not isinstance(module, expected):
        raise TypeError(f"{cfg_path} builds {type(module).__name__}, expected {expected.__name__}")
    state = read_state(path, map_location)
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise WeightsFileError(f"{path} does not fit {cfg_path.name}: {_first(exc)}") from None
    return module  # type: ignore[return-value]


def _first(exc: BaseException) -> str:
    """The first line of an exception's message that says something (its type's name if empty):
    for ``load_state_dict`` the first mismatch, not the "Error(s) in loading" heading."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Error(s) in loading state_dict"):
        return f"{lines[1].rstrip('.')} (and {len(lines) - 2} more)" if len(lines) > 2 else lines[1]
    return lines[0] if lines else type(exc).__name__


class WeightsFileError(MotionError, ValueError):
    """A weights file (``.json`` / ``.safetensors`` / legacy ``.pt``) is unreadable, truncated, unsafe or does not fit."""

