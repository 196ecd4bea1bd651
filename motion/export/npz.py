"""``.npz`` exporters: thin wrappers over the writers of :mod:`motion.data.formats`.

==============  ======================================================================
``beat2``       (default for ``.npz``) BEAT2 / EMAGE SMPL-X npz; options ``fps``,
                ``num_betas`` (300), ``num_expressions`` (100), ``compress``
``amass``       AMASS SMPL-X npz; options ``fps`` (resampled by slerp), ``num_betas``
                (16), ``compress``
``amuse``       AMUSE-style npz, poses ``(T, 55, 3)``
``flame_params`` EMOTE-style FLAME parameters (face only)
==============  ======================================================================

Every file written here reads back with :func:`motion.data.formats.read_motion`. The
options ``body_model`` / ``models_dir`` (which the mesh formats take) are accepted and
ignored, so one set of options can be passed to any format.
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


for _name, (_desc, _default) in NPZ_FORMATS.items():
    _opts = keyword_options(FORMATS[_name][1]) + IGNORED_OPTIONS
    register_exporter(_name, (".npz",), _writer(_name), _desc, default_for_suffix=_default, options=_opts)
