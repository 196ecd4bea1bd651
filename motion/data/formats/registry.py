"""The format registry, flavour sniffing, and the ``read_motion`` / ``write_motion`` front doors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from motion.container import Motion
from motion.data.formats._source import open_npz
from motion.data.formats.amass import read_amass, write_amass
from motion.data.formats.amuse import read_amuse, write_amuse
from motion.data.formats.beat2 import read_beat2, write_beat2
from motion.data.formats.errors import MotionFormatError
from motion.data.formats.flame_params import read_flame_params, write_flame_params

Reader = Callable[..., Motion]
Writer = Callable[..., Path]

#: format name -> (reader, writer)
FORMATS: dict[str, tuple[Reader, Writer]] = {
    "beat2": (read_beat2, write_beat2),
    "amass": (read_amass, write_amass),
    "amuse": (read_amuse, write_amuse),
    "flame_params": (read_flame_params, write_flame_params),
}
#: Other names accepted for ``format=``.
ALIASES: dict[str, str] = {"emage": "beat2", "smplx": "beat2", "flame": "flame_params", "emote": "flame_params"}

#: Keys only AMASS files have (BEAT2 and AMUSE files have none of them).
_AMASS_KEYS = frozenset(
    {"surface_model_type", "mocap_framerate", "mocap_time_length", "num_betas", "root_orient", "pose_body"}
)
_PICKLE_SUFFIXES = (".pkl", ".pickle")


def format_name(name: str) -> str:
    """Canonical format name for ``name`` (case-insensitive, aliases allowed).

    Raises:
        ValueError: for an unknown format.
    """
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        raise ValueError(f"unknown motion format {name!r}; choose one of: {', '.join(FORMATS)}")
    return key


def sniff_format(path: str | Path) -> str:
    """Tell the flavour of a motion file from its keys.

    Rules: ``.pkl`` -> flame_params; ``exp`` without ``poses`` -> flame_params; ``poses``
    of 3 dimensions -> amuse; any AMASS-only key (``surface_model_type``,
    ``mocap_framerate``, ``mocap_time_length``, ``num_betas``, ``root_orient``,
    ``pose_body``) -> amass; other ``poses`` -> beat2.

    Raises:
        MotionFormatError: unreadable file, or keys that fit no flavour.
    """
    p = Path(path)
    if p.suffix.lower() in _PICKLE_SUFFIXES:
        return "flame_params"
    with open_npz(p, "motion") as src:
        if src.has("exp") and not src.has("poses"):
            return "flame_params"
        if src.has("poses") and src.raw("poses").ndim == 3:
            return "amuse"
        if src.keys & _AMASS_KEYS:
            return "amass"
        if src.has("poses"):
            return "beat2"
        found = ", ".join(sorted(src.keys)) or "none"
        raise src.error(
            f"has keys [{found}] that fit no known flavour; expected 'poses' (BEAT2 / AMASS / AMUSE), "
            f"AMASS split keys ('root_orient', 'pose_body') or FLAME 'exp' + 'jaw'; pass format= to choose"
        )


def read_motion(path: str | Path, *, format: str | None = None, fps: float | None = 30.0, **opts: Any) -> Motion:
    """Read any supported motion file.

    Args:
        path: ``.npz`` (BEAT2 / AMASS / AMUSE / FLAME parameters) or ``.pkl`` (FLAME parameters).
        format: one of :data:`FORMATS` (or an alias); sniffed from the keys when ``None``.
        fps: resample to this rate (slerp); ``None`` keeps the file's rate.
        **opts: passed to the format's reader (e.g. ``global_pose`` for FLAME parameters).

    Raises:
        MotionFormatError: for any problem with the file.
    """
    name = format_name(format) if format is not None else sniff_format(path)
    reader, _ = FORMATS[name]
    return reader(path, fps=fps, **opts)


def write_motion(motion: Motion, path: str | Path, *, format: str | None = None, **opts: Any) -> Path:
    """Write ``motion`` in ``format`` (atomically).

    Args:
        motion: the motion (refused when it holds NaN/Inf).
        path: output path.
        format: one of :data:`FORMATS` (or an alias); when ``None``: ``flame_params`` for a
            ``.pkl`` path, else ``beat2`` (the toolkit's native layout).
        **opts: passed to the format's writer (e.g. ``fps``, ``compress``).

    Returns:
        The path written (``.npz`` appended for npz formats when missing).
    """
    if format is None:
        format = "flame_params" if Path(path).suffix.lower() in _PICKLE_SUFFIXES else "beat2"
    _, writer = FORMATS[format_name(format)]
    return writer(motion, path, **opts)


__all__ = ["FORMATS", "MotionFormatError", "format_name", "read_motion", "sniff_format", "write_motion"]
