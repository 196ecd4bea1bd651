"""The exporter registry: one dict of formats, one :func:`export` front door.

Modelled on trimesh's exchange layer: each format lives in its own module, which calls
:func:`register_exporter` when imported; :func:`export` picks the format from the file
suffix (or ``format=``), validates the motion and the destination, and writes the file
ATOMICALLY: the exporter writes an unnamed file in the destination folder
(:class:`motion.atomic.PendingFile`: ``O_TMPFILE``, reached through ``/proc/PID/fd/N``; a
hidden named file where that is unavailable), which gets the destination's name only when
the exporter succeeded. On any failure, or a kill, nothing is left and an existing
destination is untouched. Writers must not take the format from the path's suffix.

This module imports no heavy package (no torch); format modules are imported on first use.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from motion.atomic import PendingFile, destination_problem
from motion.errors import MotionError

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion

#: Modules of the built-in formats; each registers itself when imported.
BUILTIN_MODULES: tuple[str, ...] = (
    "motion.export.npz",
    "motion.export.bvh",
    "motion.export.gltf",
    "motion.export.fbx",
    "motion.export.arkit",
)


class ExportError(MotionError, ValueError):
    """A motion cannot be exported: unknown format, bad destination, or bad motion."""


class ExportFunc(Protocol):
    """Signature of a format writer: write ``motion`` to ``path`` (a temp file)."""

    def __call__(self, motion: Motion, path: Path, **opts: Any) -> None: ...


@dataclass(frozen=True)
class Exporter:
    """One registered format.

    Attributes:
        name: format name accepted by ``export(..., format=name)`` (e.g. ``"bvh"``).
        suffixes: file suffixes it writes, lower case with the dot (first = default).
        write: the writer.
        description: one line for listings and error messages.
        default_for_suffix: whether this format is the one picked for its suffixes
            when ``format`` is not given (``.npz`` -> ``beat2``, not ``amass``).
        options: the keyword options the writer accepts (``None``: not checked).
    """

    name: str
    suffixes: tuple[str, ...]
    write: ExportFunc
    description: str = ""
    default_for_suffix: bool = True
    options: tuple[str, ...] | None = None


#: The registry: format name -> :class:`Exporter`.
EXPORTERS: dict[str, Exporter] = {}
_loaded = False


def keyword_options(func: Callable[..., Any]) -> tuple[str, ...]:
    """Names of the keyword-only parameters of ``func`` (a writer's options)."""
    params = inspect.signature(func).parameters.values()
    return tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)


def register_exporter(
    name: str,
    suffixes: tuple[str, ...] | list[str],
    write: ExportFunc,
    description: str = "",
    default_for_suffix: bool = True,
    options: tuple[str, ...] | None = None,
) -> Exporter:
    """Add (or replace) a format in :data:`EXPORTERS` and return its entry.

    ``options`` lists the keyword options ``write`` accepts; :func:`export` refuses
    others with a clear :class:`ExportError` (``None`` skips the check).
    """
    sfx = tuple(s.lower() if s.startswith(".") else "." + s.lower() for s in suffixes)
    entry = Exporter(name.lower(), sfx, write, description, default_for_suffix, options)
    EXPORTERS[entry.name] = entry
    return entry


def _ensure_builtins() -> None:
    global _loaded
    if not _loaded:
        for mod in BUILTIN_MODULES:
            importlib.import_module(mod)
        _loaded = True


def available_formats() -> dict[str, Exporter]:
    """All registered formats (built-ins imported on first call), by name."""
    _ensure_builtins()
    return dict(EXPORTERS)


def known_suffixes() -> list[str]:
    """Every suffix some exporter writes, sorted."""
    return sorted({s for e in available_formats().values() for s in e.suffixes})


def _known_list() -> str:
    fmts = available_formats()
    return f"suffixes {', '.join(known_suffixes())}; formats {', '.join(sorted(fmts))}"


def resolve_format(path: str | Path, format: str | None = None) -> Exporter:
    """The :class:`Exporter` for ``path`` (by suffix) or for the explicit ``format``.

    ``format`` may be a format name (``"amass"``) or a suffix (``"glb"`` / ``".glb"``).

    Raises:
        ExportError: unknown suffix/format (the message lists the known ones), or a
            ``format`` whose suffixes do not include the path's suffix.
    """
    fmts = available_formats()
    suffix = Path(path).suffix.lower()
    if format is not None:
        key = format.lower().lstrip(".")
        entry = fmts.get(key)
        if entry is None:
            entry = next(
                (e for e in fmts.values() if "." + key in e.suffixes and e.default_for_suffix), None
            )
        if entry is None:
            raise ExportError(f"unknown export format {format!r}; known {_known_list()}")
        if suffix and suffix not in entry.suffixes:
            raise ExportError(
                f"format {entry.name!r} writes {', '.join(entry.suffixes)} files, "
                f"but the path {str(path)!r} ends in {suffix!r}"
            )
        return entry
    if not suffix:
        raise ExportError(f"cannot tell the format of {str(path)!r} (no suffix); known {_known_list()}")
    for entry in fmts.values():
        if suffix in entry.suffixes and entry.default_for_suffix:
            return entry
    for entry in fmts.values():
        if suffix in entry.suffixes:
            return entry
    raise ExportError(f"unknown export suffix {suffix!r} of {str(path)!r}; known {_known_list()}")


def check_destination(path: str | os.PathLike[str], format: str | None = None, *, overwrite: bool = True) -> Path:
    """The file :func:`export` would write for ``path`` / ``format``, checked before any work
    (known format, existing writable folder, not a folder, not write-protected).

    Raises:
        ExportError: what is wrong with the destination, in one sentence.
    """
    dest = Path(path).expanduser()
    if dest.is_dir():
        raise ExportError(f"cannot write {dest}: it is a folder (give a file name, e.g. {dest / 'motion.npz'})")
    entry = resolve_format(dest, format)
    if not dest.suffix:
        dest = dest.with_name(dest.name + entry.suffixes[0])
    problem = destination_problem(dest, overwrite)
    if problem:
        raise ExportError(problem)
    return dest


def _about_another_file(exc: OSError, written: Path) -> bool:
    """Whether ``exc`` is about a file the exporter reads (a body model, a map), not the one it writes."""
    from motion.bodymodels.paths import ModelNotFoundError

    if isinstance(exc, ModelNotFoundError):
        return True
    return exc.filename is not None and str(exc.filename) != str(written)


def export(
    motion: Motion,
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    overwrite: bool = True,
    **opts: Any,
) -> Path:
    """Write ``motion`` to ``path`` in the format of its suffix (or ``format``).

    Args:
        motion: the animation; it must be finite (no NaN / Inf).
        path: destination file. Without a suffix, ``format``'s default suffix is added.
        format: a format name (``"beat2"``, ``"amass"``, ``"bvh"``, ``"glb"``, ``"gltf"``)
            or a suffix; ``None`` picks by suffix (``.npz`` -> ``beat2``).
        overwrite: replace an existing file (default) or refuse.
        **opts: options of the format's writer (see each module).

    Returns:
        The written path.

    Raises:
        ExportError: unknown format, missing / unwritable folder, non-finite motion,
            or a writer failure (no partial file is left in any case).
    """
    dest = Path(path).expanduser()
    entry = resolve_format(dest, format)
    if not dest.suffix:
        dest = dest.with_name(dest.name + entry.suffixes[0])
    unknown = sorted(set(opts) - set(entry.options)) if entry.options is not None else []
    if unknown:
        raise ExportError(
            f"format {entry.name!r} has no option {', '.join(map(repr, unknown))}; "
            f"its options: {', '.join(entry.options or ()) or 'none'}"
        )
    try:
        motion.check_finite(f"cannot export {entry.name}")
    except ValueError as exc:
        raise ExportError(str(exc)) from exc
    problem = destination_problem(dest, overwrite)
    if problem:
        raise ExportError(problem)
    try:
        pending = PendingFile(dest)
    except OSError as exc:
        raise ExportError(f"cannot write {dest}: {exc}") from exc
    try:
        entry.write(motion, pending.path, **opts)
        if not pending.path.is_file():
            raise ExportError(f"exporter {entry.name!r} wrote no file")
        pending.commit()
    except OSError as exc:
        pending.discard()
        if _about_another_file(exc, pending.path):
            raise  # a missing models folder, an unreadable map: not a problem of the destination
        raise ExportError(f"cannot write {dest}: {exc}") from exc
    except BaseException:
        pending.discard()
        raise
    return dest
