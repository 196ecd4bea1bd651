"""Where the SMPL-X / FLAME model files are.

Resolution order: an explicit folder argument > ``$MOTION_MODELS_DIR`` > the built-in
stand-in (generated on first use, see :mod:`motion.bodymodels.standin`).

Layout of a models folder (the one ``smplx.create`` expects)::

    <models>/
      smplx/SMPLX_NEUTRAL.npz              (or .pkl; also SMPLX_MALE / SMPLX_FEMALE)
      smplx/SMPL-X__FLAME_vertex_ids.npy   optional: the 5023 SMPL-X ids of the FLAME head
      flame/FLAME_NEUTRAL.pkl              (or .npz, or FLAME 2020's generic_model.pkl;
                                           also FLAME_MALE / FLAME_FEMALE)
      flame/flame_static_embedding.pkl     51 face landmarks
      flame/flame_dynamic_embedding.npy    optional: 17 contour landmarks (use_face_contour)
      flame/FLAME_masks.pkl                optional: named vertex regions

The real files are licensed: register and download them from https://smpl-x.is.tue.mpg.de
and https://flame.is.tue.mpg.de. Without a folder the stand-in is used. This module
imports nothing heavy (it is used on the ``--help`` path).
"""

from __future__ import annotations

import os
from pathlib import Path

from motion.bodymodels.sources import (  # noqa: F401 (re-exported: the layout's base pieces)
    ENV_CACHE_DIR,
    FLAME_URL,
    SMPLX_URL,
    STANDIN_MARKER,
    cache_root,
    is_standin,
)
from motion.errors import MotionError

ENV_MODELS_DIR = "MOTION_MODELS_DIR"
GENDERS = ("neutral", "male", "female")


class ModelNotFoundError(MotionError, FileNotFoundError):
    """A model file (or folder) is missing; the message says which, where, and how to fix it."""


def _hint(what: str) -> str:
    url = FLAME_URL if what == "flame" else SMPLX_URL
    return (f"Get the real model from {url} (free registration required) and put it in that layout, "
            f"or pass no models folder (and unset ${ENV_MODELS_DIR}) to use the built-in stand-in models.")


def resolve_models_dir(models_dir: str | os.PathLike[str] | None = None) -> Path:
    """The models folder to use: ``models_dir`` > ``$MOTION_MODELS_DIR`` > stand-in."""
    if models_dir is None:
        env = os.environ.get(ENV_MODELS_DIR)
        if not env:
            from motion.bodymodels.standin import standin_models_dir

            return standin_models_dir()
        models_dir, origin = env, f"${ENV_MODELS_DIR}"
    else:
        origin = "the models folder argument"
    root = Path(models_dir).expanduser()
    if not root.is_dir():
        raise ModelNotFoundError(f"models folder {root} (from {origin}) does not exist. {_hint('smplx')}")
    return root


def models_dir_source(models_dir: str | os.PathLike[str] | None = None) -> str:
    """Where the folder comes from: 'argument', 'env' or 'stand-in'."""
    if models_dir is not None:
        return "argument"
    return "env" if os.environ.get(ENV_MODELS_DIR) else "stand-in"


def _find(folder: Path, stem: str, exts: tuple[str, ...], what: str, aliases: tuple[str, ...] = ()) -> Path:
    for name in [f"{stem}.{ext}" for ext in exts] + list(aliases):
        p = folder / name
        if p.is_file():
            return p
    names = " or ".join([f"{stem}.{e}" for e in exts] + list(aliases))
    raise ModelNotFoundError(f"missing model file {folder / (stem + '.' + exts[0])} (looked for {names} in {folder}). {_hint(what)}")


def _gender(gender: str) -> str:
    g = gender.lower()
    if g not in GENDERS:
        raise ValueError(f"unknown gender {gender!r}; choose one of {GENDERS}")
    return g.upper()


def smplx_model_file(root: str | os.PathLike[str], gender: str = "neutral") -> Path:
    """``<root>/smplx/SMPLX_<GENDER>.npz`` (or ``.pkl``); raises :class:`ModelNotFoundError`."""
    return _find(Path(root) / "smplx", f"SMPLX_{_gender(gender)}", ("npz", "pkl"), "smplx")


#: File names of the FLAME 2020 download, accepted as they come.
FLAME2020_NAMES = {"NEUTRAL": "generic_model.pkl", "MALE": "male_model.pkl", "FEMALE": "female_model.pkl"}


def flame_model_file(root: str | os.PathLike[str], gender: str = "neutral") -> Path:
    """``<root>/flame/FLAME_<GENDER>.pkl`` (or ``.npz``, or the FLAME 2020 download's own
    name, e.g. ``generic_model.pkl``); raises :class:`ModelNotFoundError`."""
    g = _gender(gender)
    return _find(Path(root) / "flame", f"FLAME_{g}", ("pkl", "npz"), "flame", (FLAME2020_NAMES[g],))


def flame_static_embedding_file(root: str | os.PathLike[str]) -> Path:
    """``<root>/flame/flame_static_embedding.pkl``; raises :class:`ModelNotFoundError`."""
    return _find(Path(root) / "flame", "flame_static_embedding", ("pkl",), "flame")


def flame_dynamic_embedding_file(root: str | os.PathLike[str]) -> Path:
    """``<root>/flame/flame_dynamic_embedding.npy`` (needed for face contour landmarks)."""
    return _find(Path(root) / "flame", "flame_dynamic_embedding", ("npy",), "flame")


def smplx_flame_correspondence_file(root: str | os.PathLike[str]) -> Path | None:
    """``<root>/smplx/SMPL-X__FLAME_vertex_ids.npy`` if present, else None."""
    p = Path(root) / "smplx" / "SMPL-X__FLAME_vertex_ids.npy"
    return p if p.is_file() else None


def describe_models_dir(models_dir: str | os.PathLike[str] | None = None) -> tuple[str, bool]:
    """A human-readable report of which model files would be used, and whether the
    SMPL-X and FLAME neutral models are both found (for ``motion models``)."""
    try:
        root = resolve_models_dir(models_dir)
    except ModelNotFoundError as exc:
        return str(exc), False
    source = models_dir_source(models_dir)
    lines = [f"models folder: {root} ({'built-in stand-in' if is_standin(root) else source})"]
    ok = True
    checks = [("SMPL-X neutral", lambda: smplx_model_file(root)), ("FLAME neutral", lambda: flame_model_file(root)),
              ("FLAME landmarks", lambda: flame_static_embedding_file(root))]
    for label, find in checks:
        try:
            lines.append(f"  {label:<16} {find()}")
        except ModelNotFoundError as exc:
            ok = False
            lines.append(f"  {label:<16} MISSING: {exc}")
    for label, path in (("FLAME contour", root / "flame" / "flame_dynamic_embedding.npy"),
                        ("SMPL-X<->FLAME", root / "smplx" / "SMPL-X__FLAME_vertex_ids.npy"),
                        ("FLAME regions", root / "flame" / "FLAME_masks.pkl")):
        lines.append(f"  {label:<16} {path if path.is_file() else 'not found (optional)'}")
    return "\n".join(lines), ok
