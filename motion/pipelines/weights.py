"""Where inference weights live, and how a missing folder is reported.

Weights are the plain exports of the training stages (``<name>.json`` + ``<name>.pt`` per
sub-module, :mod:`motion.models.config`). The body pipeline needs the latent-diffusion
export (it holds every body module)::

    <body export>/speech_encoder.{json,pt}  motion_vae.{json,pt}  denoiser.{json,pt}
                  latent_norm.{json,pt}     scheduler_config.json manifest.json

A *weights folder* is either such an export or a root laid out as::

    <weights>/body/      the latent-diffusion export (above)
    <weights>/face/      the face export (owned by the face pipeline)
    <weights>/metrics/   the motion-metrics export (feature extractor, classifiers)

Resolution order of the default folder (:func:`resolve_weights_dir`): the ``weights``
argument, then ``$MOTION_WEIGHTS_DIR``, then ``motion/weights/`` shipped inside the package;
otherwise :class:`WeightsNotFoundError` explains how to train them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from motion.errors import MotionError

#: Environment variable naming the default weights folder.
WEIGHTS_ENV: Final[str] = "MOTION_WEIGHTS_DIR"
#: Weights shipped inside the package (absent in a source checkout until trained).
SHIPPED_WEIGHTS: Path = Path(__file__).resolve().parent.parent / "weights"
#: Sub-modules of a latent-diffusion export that the body pipeline loads.
BODY_MODULES: Final[tuple[str, ...]] = ("speech_encoder", "motion_vae", "denoiser", "latent_norm")
#: Sub-modules of a motion-metrics export.
METRIC_MODULES: Final[tuple[str, ...]] = ("feature_extractor", "emotion_classifier",
                                          "speaker_classifier")

TRAIN_BODY_HELP: Final[str] = """\
Train them with the toolkit (the synthetic corpus is enough to try it out):
    motion corpus data/corpus --size small
    motion fit --config configs/experiment/speech_encoder.yaml
    motion fit --config configs/experiment/motion_vae.yaml
    motion fit --config configs/experiment/latent_diffusion.yaml
then pass --weights runs/latent_diffusion/latest (Python: weights=...) or
export MOTION_WEIGHTS_DIR=runs/latent_diffusion/latest."""

TRAIN_METRICS_HELP: Final[str] = """\
Train the metric networks (feature extractor for FGD, emotion and speaker classifiers) with
    motion fit --config configs/experiment/motion_metrics.yaml
and pass --metrics runs/motion_metrics/latest."""


class WeightsNotFoundError(MotionError, FileNotFoundError):
    """No usable weights folder; the message says where it looked and how to train them."""


def resolve_weights_dir(weights: str | os.PathLike[str] | None = None) -> Path:
    """The weights folder: ``weights`` > ``$MOTION_WEIGHTS_DIR`` > shipped ``motion/weights``.

    Raises:
        WeightsNotFoundError: none of them exists (names each place looked at and the
            ``motion fit`` commands that make the weights).
    """
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_dir():
            raise WeightsNotFoundError(f"weights folder {path} does not exist.\n{TRAIN_BODY_HELP}")
        return path
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise WeightsNotFoundError(f"${WEIGHTS_ENV}={env} is not a folder.\n{TRAIN_BODY_HELP}")
        return path
    if SHIPPED_WEIGHTS.is_dir():
        return SHIPPED_WEIGHTS
    hint = ""
    local = Path("runs/latent_diffusion/latest")
    if (local / "denoiser.json").is_file():
        hint = f"\nA trained export exists here: pass --weights {local} (or weights='{local}')."
    raise WeightsNotFoundError(
        "no trained body weights found: no weights= argument, $MOTION_WEIGHTS_DIR is not set "
        f"and no weights are shipped in {SHIPPED_WEIGHTS}.{hint}\n{TRAIN_BODY_HELP}")


def _holds(folder: Path, names: Sequence[str]) -> bool:
    return all((folder / f"{n}.json").is_file() and (folder / f"{n}.pt").is_file() for n in names)


def locate_modules(folders: Sequence[str | os.PathLike[str]], names: Sequence[str],
                   subfolder: str, what: str, help_text: str) -> dict[str, Path]:
    """Folder of each of ``names``: the first of ``folders`` (or its ``subfolder``) holding it.

    Args:
        folders: export folders or weights roots, searched in order.
        names: sub-module names (``<name>.json`` + ``<name>.pt``).
        subfolder: child of a weights root to look in too (``body``, ``metrics``).
        what: description for the error message.
        help_text: how to make the missing files.

    Raises:
        WeightsNotFoundError: a module is in none of the folders.
    """
    candidates: list[Path] = []
    for f in folders:
        p = Path(f).expanduser()
        candidates += [p, p / subfolder]
    found: dict[str, Path] = {}
    for name in names:
        for c in candidates:
            if _holds(c, [name]):
                found[name] = c
                break
    missing = [n for n in names if n not in found]
    if missing:
        looked = ", ".join(str(c) for c in candidates)
        raise WeightsNotFoundError(
            f"{what}: {', '.join(f'{m}.json/.pt' for m in missing)} not found in {looked}.\n"
            f"{help_text}")
    return found


def read_manifest(folder: Path) -> dict[str, Any]:
    """``manifest.json`` of an export (empty dict if absent)."""
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))
