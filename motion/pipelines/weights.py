"""Where inference weights live, how a part's folder is read and written, and which device.

Weights are folders of module exports (``<name>.json`` + ``<name>.safetensors`` per sub-module,
:mod:`motion.models.config`; older exports hold ``<name>.pt``, still read) with a
``manifest.json`` naming the modules (``{"stage": ..., "modules": {name: class_path}, ...}``).
A *weights root* holds one such folder per part and a manifest naming the parts::

    <weights>/manifest.json   {"stage": "motion_pipeline", "modules": {"body": "motion.pipelines.body.BodyPipeline", ...}}
    <weights>/body/           speech_encoder, motion_vae, denoiser, latent_norm, scheduler_config.json
    <weights>/face/           face_decoder, flint, closure_detector, face_pipeline.json
    <weights>/metrics/        feature_extractor, emotion_classifier, speaker_classifier, face_emotion

Every part loads with ``from_pretrained(path)`` and writes with ``save_pretrained(path)``
(:class:`~motion.pipelines.body.BodyPipeline`, :class:`~motion.pipelines.face.FacePipeline`,
:class:`~motion.pipelines.metric_nets.MetricNets`; all of them:
:class:`~motion.pipelines.motion_pipeline.MotionPipeline`); ``path`` is the part's folder or a
weights root holding it (:func:`part_folder`).

Resolution order of the default root (:func:`resolve_weights_dir`): the ``weights``
argument, then ``$MOTION_WEIGHTS_DIR``, then ``motion/weights/`` shipped inside the package;
otherwise :class:`WeightsNotFoundError` explains how to train them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from motion.errors import MotionError

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

#: Environment variable naming the default weights folder.
WEIGHTS_ENV: Final[str] = "MOTION_WEIGHTS_DIR"
#: Weights shipped inside the package (absent in a source checkout until trained).
SHIPPED_WEIGHTS: Path = Path(__file__).resolve().parent.parent / "weights"
#: Sub-modules of a latent-diffusion export that the body pipeline loads.
BODY_MODULES: Final[tuple[str, ...]] = ("speech_encoder", "motion_vae", "denoiser", "latent_norm")
#: Sub-modules that make a face export (``speech_encoder`` and ``closure_detector`` are optional).
FACE_MODULES: Final[tuple[str, ...]] = ("face_decoder", "flint")
#: The manifest of an export folder or a weights root.
MANIFEST: Final[str] = "manifest.json"
#: Sub-modules of a motion-metrics export.
METRIC_MODULES: Final[tuple[str, ...]] = ("feature_extractor", "emotion_classifier",
                                          "speaker_classifier")

TRAIN_BODY_HELP: Final[str] = """\
Train them with the toolkit (the synthetic corpus is enough to try it out):
    motion corpus data/corpus --size small
    motion fit --config configs/body/speech_encoder.yaml
    motion fit --config configs/body/motion_vae.yaml
    motion fit --config configs/body/latent_diffusion.yaml
then pass --weights runs/latent_diffusion/latest (Python: weights=...) or
export MOTION_WEIGHTS_DIR=runs/latent_diffusion/latest."""

TRAIN_METRICS_HELP: Final[str] = """\
Train the metric networks (feature extractor for FGD, emotion and speaker classifiers) with
    motion fit --config configs/body/motion_metrics.yaml
and pass --metrics runs/motion_metrics/latest."""

TRAIN_FACE_HELP: Final[str] = """\
Train the face model with the toolkit (the synthetic corpus is enough to try it out):
    motion fit --config configs/face/flint.yaml
    motion fit --config configs/face/face_decoder.yaml
then put runs/face_decoder/latest under WEIGHTS/face, or pass --weights runs/face_decoder/latest."""

TRAIN_FACE_METRICS_HELP: Final[str] = """\
Train the face emotion classifier with
    motion fit --config configs/face/face_emotion.yaml
and pass --face-metrics runs/face_emotion/latest."""


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


def part_folder(path: str | os.PathLike[str] | None, part: str, names: Sequence[str]) -> Path | None:
    """The folder of a part: ``path`` itself when it holds the modules ``names``, else
    ``path/<part>`` when that does; None when neither does (or ``path`` is None)."""
    from motion.models.config import has_module

    if path is None:
        return None
    root = Path(path).expanduser()
    for folder in (root, root / part):
        if names and all(has_module(folder, n) for n in names):
            return folder
    return None


def require_part(path: str | os.PathLike[str], part: str, names: Sequence[str], help_text: str) -> Path:
    """:func:`part_folder`, or :class:`WeightsNotFoundError` naming the missing files and how to make them."""
    from motion.models.config import has_module

    folder = part_folder(path, part, names)
    if folder is not None:
        return folder
    root = Path(path).expanduser()
    where = root / part if (root / part).is_dir() else root
    missing = [n for n in names if not has_module(where, n)]
    raise WeightsNotFoundError(
        f"{part} weights: {', '.join(f'{m}.json/.safetensors' for m in missing)} not found in {root}"
        f"{f' or {root / part}' if where != root else ''}.\n{help_text}")


def load_modules(folder: Path, names: Sequence[str], device: str | torch.device = "cpu",
                 expected: Mapping[str, type[nn.Module]] | None = None) -> dict[str, nn.Module]:
    """``{name: module}`` of the exports ``names`` in ``folder``, in eval mode on ``device``.

    Raises:
        WeightsFileError: a module is not of its class in ``expected`` (``{name: class}``), or
            (:func:`~motion.models.config.load_module`) a file is unreadable or does not fit.
    """
    from motion.models.config import WeightsFileError, load_module

    mods = {n: load_module(folder, n, device).to(device).eval() for n in names}
    for name, module in mods.items():
        want = (expected or {}).get(name)
        if want is not None and not isinstance(module, want):
            raise WeightsFileError(f"{folder / name}.json builds {type(module).__name__}, expected {want.__name__}")
    return mods


def save_modules(folder: Path, modules: dict[str, nn.Module]) -> dict[str, str]:
    """Write each module's export to ``folder`` (float16 matrices where lossless: weights
    loaded from float16 files are written back as they were); returns ``{name: class_path}``."""
    from motion.models.config import module_config, save_module

    written = {}
    for name, module in modules.items():
        save_module(module, folder, name, half="exact")
        written[name] = module_config(module)["class_path"]
    return written


def read_manifest(folder: Path) -> dict[str, Any]:
    """``manifest.json`` of an export (empty dict if absent).

    Raises:
        WeightsFileError: it is not a JSON object.
    """
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        from motion.models.config import WeightsFileError

        raise WeightsFileError(f"{path} is not JSON ({exc})") from None
    if not isinstance(data, dict):
        from motion.models.config import WeightsFileError

        raise WeightsFileError(f"{path} is not a manifest (a JSON object)")
    return data


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON (a manifest, a settings file), atomically."""
    from motion.atomic import atomic_write

    text = json.dumps(data, indent=2) + "\n"
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


class SavesPretrained:
    """``save_pretrained`` for a pipeline that can write its files into a folder (``write_to``):
    the folder is built beside ``path`` and renamed into place (an existing folder there is
    replaced as a whole, never left half-written), as diffusers' ``save_pretrained``."""

    def write_to(self, folder: Path) -> None:
        """Write the pipeline's files into the existing ``folder`` (not atomic)."""
        raise NotImplementedError

    def save_pretrained(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`write_to`'s files as the folder ``path``, atomically; returns ``path``
        (``from_pretrained(path)`` reads it back bit for bit)."""
        from motion.atomic import atomic_folder

        out = Path(path)
        with atomic_folder(out) as tmp:
            self.write_to(tmp)
        return out


class DeviceNotAvailableError(MotionError, RuntimeError):
    """The device asked for (``device="cuda"``) is not available in this process."""


def check_device(device: str | torch.device) -> torch.device:
    """``device`` as a :class:`torch.device` that this process can use.

    Raises:
        ValueError: not a device name.
        DeviceNotAvailableError: CUDA (or MPS) asked for but not available, or a GPU index
            beyond those present.
    """
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r} ({exc})") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            why = ("this torch build has no CUDA support" if torch.version.cuda is None
                   else "no CUDA GPU is visible (driver, CUDA_VISIBLE_DEVICES)")
            raise DeviceNotAvailableError(f"device={str(device)!r} asked for, but {why} "
                                          f"(torch {torch.__version__}); use device='cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceNotAvailableError(f"device={str(device)!r}: only {torch.cuda.device_count()} "
                                          "CUDA device(s) visible")
    elif dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise DeviceNotAvailableError(f"device={str(device)!r} asked for, but MPS is not available; use device='cpu'")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    return dev
