"""``.npz`` exporters: thin wrappers over the writers of :mod:`motion.data.formats`.

==============  ======================================================================
``beat2``       (default for ``.npz``) BEAT2 / EMAGE SMPL-X npz; options ``fps``,
                ``num_betas`` (300), ``num_expressions`` (100), ``compress``
``amass``       AMASS SMPL-X npz, Z up, standing on ``z = 0``; options ``fps`` (resampled
                by slerp), ``num_betas`` (16), ``compress``, ``floor`` (default True;
                needs the body model: ``body_model`` / ``models_dir``)
``amuse``       AMUSE-style npz, poses ``(T, 55, 3)``
``flame_params`` EMOTE-style FLAME parameters (face only)
==============  ======================================================================

Every file written here reads back with :func:`motion.data.formats.read_motion`. The
options ``body_model`` / ``models_dir`` (which the mesh formats take) are accepted by
every npz format (and used by ``amass`` only, to find the floor), so one set of options
can be passed to any format.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from motion.data.formats.registry import FORMATS
from motion.export.registry import keyword_options, register_exporter

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion

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
    _, write_fmt = FORMATS[name]

    def write(motion: Motion, path: Path, **opts: Any) -> None:
        for key in IGNORED_OPTIONS:
            opts.pop(key, None)
        written = Path(write_fmt(motion, path, **opts))
        if written != Path(path):  # pragma: no cover - the temp path always ends in .npz
            written.replace(path)

    write.__name__ = f"write_{name}"
    write.__doc__ = f"Write ``motion`` to ``path`` with :mod:`motion.data.formats` ({name})."
    return write


def amass_placement(motion: Motion, body_model: Any = None, models_dir: str | None = None) -> tuple[float, Any]:
    """``(floor_offset, pelvis)`` for :func:`motion.data.formats.amass.write_amass`: the rest
    pelvis joint (an exact turn to Z up) and the metres to add to ``trans[:, 2]`` so the
    lowest skinned vertex over the clip is at ``z = 0``."""
    from motion.export._rest import load_model, rest_model
    from motion.export.floor import floor_offset

    rest = rest_model(load_model(motion, body_model, models_dir), motion.betas)
    return floor_offset(motion, rest), rest.joints[0]


def _write_amass(motion: Motion, path: Path, *, floor: bool = True, body_model: Any = None,
                 models_dir: str | None = None, **opts: Any) -> None:
    """The ``amass`` exporter: Z up (exact turn about the pelvis), on the floor (see :func:`amass_placement`)."""
    _, write_fmt = FORMATS["amass"]
    fps = opts.get("fps")
    m = motion if fps is None or abs(float(fps) - motion.fps) < 1e-9 else motion.resample(float(fps))
    offset, pelvis = amass_placement(m, body_model, models_dir)
    if not floor:
        offset = 0.0
    written = Path(write_fmt(motion, path, floor_offset=offset, pelvis=pelvis, **opts))
    if written != Path(path):  # pragma: no cover - the temp path always ends in .npz
        written.replace(path)


for _name, (_desc, _default) in NPZ_FORMATS.items():
    _opts = keyword_options(FORMATS[_name][1]) + IGNORED_OPTIONS
    _write = _writer(_name)
    if _name == "amass":
        _opts = tuple(o for o in _opts if o not in ("floor_offset", "pelvis")) + ("floor",)
        _write = _write_amass
    register_exporter(_name, (".npz",), _write, _desc, default_for_suffix=_default, options=_opts)
