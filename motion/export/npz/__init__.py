"""``.npz`` exporters: the writers of the four npz flavours (one module each) and their
registration in :data:`motion.export.EXPORTERS`.

==============  ======================================================================
``beat2``       (default for ``.npz``) BEAT2 / EMAGE SMPL-X npz; options ``fps``,
                ``num_betas`` (300), ``num_expressions`` (100), ``compress``
``amass``       AMASS SMPL-X npz, Z up, standing on ``z = 0``; options ``fps`` (resampled
                by slerp), ``num_betas`` (16), ``compress``, ``floor`` (default True;
                needs the body model: ``body_model`` / ``models_dir``)
``amuse``       AMUSE-style npz, poses ``(T, 55, 3)``
``flame_params`` EMOTE-style FLAME parameters (face only)
==============  ======================================================================

Every file written here reads back with :func:`motion.data.formats.read_motion` (the readers,
in :mod:`motion.data.formats`, import the layouts they share with the writers from here). The
options ``body_model`` / ``models_dir`` (which the mesh formats take) are accepted by
every npz format (and used by ``amass`` only, to find the floor), so one set of options
can be passed to any format.

:func:`motion.export.export` is the front door. :func:`write_npz` is this package's own dispatch
(a flavour's writer called directly: no floor placement for ``amass``, its ``pelvis`` /
``floor_offset`` / ``z_up`` options instead; FLAME parameters also as ``.pkl``), for tests and
the registry, not a second public door.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from motion.export.npz.amass import write_amass
from motion.export.npz.amuse import write_amuse
from motion.export.npz.beat2 import write_beat2
from motion.export.npz.flame_params import write_flame_params
from motion.export.registry import keyword_options, register_exporter

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion

Writer = Callable[..., Path]

#: format name -> the flavour's writer (atomic; returns the path written)
WRITERS: dict[str, Writer] = {
    "beat2": write_beat2,
    "amass": write_amass,
    "amuse": write_amuse,
    "flame_params": write_flame_params,
}
#: Other names accepted for ``format=`` (by :func:`write_npz` and :func:`motion.data.formats.read_motion`).
ALIASES: dict[str, str] = {"emage": "beat2", "smplx": "beat2", "flame": "flame_params", "emote": "flame_params"}
PICKLE_SUFFIXES: tuple[str, ...] = (".pkl", ".pickle")
#: Suffixes :func:`write_npz` writes (npz flavours; FLAME parameters also as pickle).
WRITE_SUFFIXES: tuple[str, ...] = (".npz", *PICKLE_SUFFIXES)

#: format name -> (description, whether it is the default for ``.npz``)
NPZ_FORMATS: dict[str, tuple[str, bool]] = {
    "beat2": ("BEAT2 / EMAGE SMPL-X npz (the default for .npz)", True),
    "amass": ("AMASS SMPL-X npz", False),
    "amuse": ("AMUSE-style npz, poses (T, 55, 3)", False),
    "flame_params": ("EMOTE-style FLAME parameters npz (face only)", False),
}
#: Options every exporter may receive; the npz writers need no body model.
IGNORED_OPTIONS: tuple[str, ...] = ("body_model", "models_dir")


def _writer(name: str) -> Any:
    write_fmt = WRITERS[name]

    def write(motion: Motion, path: Path, **opts: Any) -> None:
        for key in IGNORED_OPTIONS:
            opts.pop(key, None)
        written = Path(write_fmt(motion, path, **opts))
        if written != Path(path):  # pragma: no cover - the temp path always ends in .npz
            written.replace(path)

    write.__name__ = f"write_{name}"
    write.__doc__ = f"Write ``motion`` to ``path`` with :mod:`motion.export.npz.{name}`."
    return write


def amass_placement(motion: Motion, body_model: Any = None, models_dir: str | None = None,
                    floor: bool = True) -> tuple[float, Any]:
    """``(floor_offset, pelvis)`` for :func:`motion.export.npz.amass.write_amass`: the rest
    pelvis joint (an exact turn to Z up) and the metres to add to ``trans[:, 2]`` so the
    lowest skinned vertex over the clip is at ``z = 0`` (``floor`` False: 0, not measured)."""
    from motion.export._rest import load_model, rest_model
    from motion.export.floor import floor_offset

    rest = rest_model(load_model(motion, body_model, models_dir), motion.betas)
    return (floor_offset(motion, rest) if floor else 0.0), rest.joints[0]


def _write_amass(motion: Motion, path: Path, *, floor: bool = True, body_model: Any = None,
                 models_dir: str | None = None, **opts: Any) -> None:
    """The ``amass`` exporter: Z up (exact turn about the pelvis), on the floor (see :func:`amass_placement`)."""
    fps = opts.get("fps")
    # resampled once, here: the writer gets the motion at its rate already
    m = motion if fps is None or abs(float(fps) - motion.fps) < 1e-9 else motion.resample(float(fps))
    offset, pelvis = amass_placement(m, body_model, models_dir, floor=floor)
    written = Path(write_amass(m, path, floor_offset=offset, pelvis=pelvis, **opts))
    if written != Path(path):  # pragma: no cover - the temp path always ends in .npz
        written.replace(path)


def format_name(name: str) -> str:
    """Canonical npz format name for ``name`` (case-insensitive, aliases allowed).

    Raises:
        ValueError: for an unknown format.
    """
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in WRITERS:
        raise ValueError(f"unknown motion format {name!r}; choose one of: {', '.join(WRITERS)}")
    return key


def write_npz(motion: Motion, path: str | Path, *, format: str | None = None, **opts: Any) -> Path:
    """Write ``motion`` in the npz flavour ``format`` with its writer (atomically).

    Args:
        motion: the motion (refused when it holds NaN/Inf).
        path: output path.
        format: one of :data:`WRITERS` (or an alias); when ``None``: ``flame_params`` for a
            ``.pkl`` path, else ``beat2`` (the toolkit's native layout).
        **opts: passed to the format's writer (e.g. ``fps``, ``compress``).

    Returns:
        The path written (``.npz`` appended for npz formats when missing).

    Raises:
        ValueError: a suffix other than ``.npz`` / ``.pkl`` (none is fine): BVH, glTF, FBX and
            CSV are written by :func:`motion.export.export`, which this refuses to guess.
    """
    suffix = Path(path).suffix.lower()
    if suffix and suffix not in WRITE_SUFFIXES:
        raise ValueError(f"write_npz writes npz (or FLAME-parameter .pkl) files, not {suffix!r} ({path}); "
                         f"use motion.export.export(motion, {str(path)!r}) for {suffix} files")
    if format is None:
        format = "flame_params" if Path(path).suffix.lower() in PICKLE_SUFFIXES else "beat2"
    return WRITERS[format_name(format)](motion, path, **opts)


for _name, (_desc, _default) in NPZ_FORMATS.items():
    _opts = keyword_options(WRITERS[_name]) + IGNORED_OPTIONS
    _write = _writer(_name)
    if _name == "amass":
        _opts = tuple(o for o in _opts if o not in ("floor_offset", "pelvis")) + ("floor",)
        _write = _write_amass
    register_exporter(_name, (".npz",), _write, _desc, default_for_suffix=_default, options=_opts)
