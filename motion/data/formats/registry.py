"""The reader registry, flavour sniffing, and the ``read_motion`` front door (writers: :mod:`motion.export`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from motion.container import Motion
from motion.data.formats._source import open_npz
from motion.data.formats.amass import read_amass
from motion.data.formats.amuse import read_amuse
from motion.data.formats.beat2 import read_beat2
from motion.data.formats.errors import MotionFileNotFoundError, MotionFormatError
from motion.data.formats.flame_params import read_flame_params
from motion.export.npz import ALIASES, PICKLE_SUFFIXES, format_name

Reader = Callable[..., Motion]

#: format name -> reader (the writers, by the same names: :data:`motion.export.npz.WRITERS`)
FORMATS: dict[str, Reader] = {
    "beat2": read_beat2,
    "amass": read_amass,
    "amuse": read_amuse,
    "flame_params": read_flame_params,
}

#: Keys only AMASS files have (BEAT2 and AMUSE files have none of them).
_AMASS_KEYS = frozenset(
    {"surface_model_type", "mocap_framerate", "mocap_time_length", "num_betas", "root_orient", "pose_body"}
)
#: Read-only formats told by suffix: files the toolkit's exporters write (:mod:`motion.export`).
SUFFIX_READERS: dict[str, str] = {".bvh": "bvh", ".glb": "gltf", ".gltf": "gltf"}


def _read_by_suffix(path: Path, kind: str, fps: float | None, **opts: Any) -> Motion:
    """Read a BVH / glTF the toolkit exported (readers imported on use: they need the body model / pygltflib)."""
    if kind == "bvh":
        from motion.data.formats.bvh import read_bvh_motion

        return read_bvh_motion(path, fps=fps, **opts)
    from motion.data.formats.gltf import read_gltf_motion

    return read_gltf_motion(path, fps=fps, **opts)


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
    if p.suffix.lower() in PICKLE_SUFFIXES:
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


def read_motion(path: str | Path, *, format: str | None = None, fps: float | None = None, **opts: Any) -> Motion:
    """Read any supported motion file.

    Args:
        path: ``.npz`` (BEAT2 / AMASS / AMUSE / FLAME parameters), ``.pkl`` (FLAME
            parameters), or a ``.bvh`` / ``.glb`` / ``.gltf`` the toolkit exported (the
            BVH reader takes ``body_model`` / ``models_dir``: see :mod:`motion.data.formats.bvh`).
        format: one of :data:`FORMATS` (or an alias); sniffed from the keys when ``None``.
        fps: resample to this rate (slerp); ``None`` (default) keeps the file's rate.
        **opts: passed to the format's reader (e.g. ``global_pose`` for FLAME parameters).

    Raises:
        MotionFileNotFoundError: no such file (a ``FileNotFoundError`` and a ``MotionFormatError``).
        MotionFormatError: for any other problem with the file.
    """
    p = Path(path)
    if not p.exists():
        raise MotionFileNotFoundError(f"motion file {p}: file not found", path=p)
    kind = SUFFIX_READERS.get(p.suffix.lower())
    if kind is not None and format is None:
        return _read_by_suffix(p, kind, fps, **opts)
    name = format_name(format) if format is not None else sniff_format(path)
    reader = FORMATS[name]
    return reader(path, fps=fps, **opts)


__all__ = ["ALIASES", "FORMATS", "MotionFileNotFoundError", "MotionFormatError", "format_name", "read_motion",
           "sniff_format"]
