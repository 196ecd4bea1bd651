"""Body + face (+ metric networks) as one pipeline: one way to load, save and move weights.

    from motion.pipelines.motion_pipeline import MotionPipeline

    pipe = MotionPipeline.from_pretrained()                    # the default weights (resolve_weights_dir)
    pipe = MotionPipeline.from_pretrained("my_weights", device="cuda", parts=("body", "face"))
    out = pipe("speech.wav", emotion="happy", seed=0)          # GenerationOutput; out.motion
    pipe.save_pretrained("my_weights_copy")                    # reads back bit for bit
    pipe.to("cpu")

A weights root (:mod:`motion.pipelines.weights`) holds one folder per part and a
``manifest.json`` naming them, in the format of the parts' own manifests::

    {"stage": "motion_pipeline",
     "modules": {"body": "motion.pipelines.body.BodyPipeline",
                 "face": "motion.pipelines.face.FacePipeline",
                 "metrics": "motion.pipelines.metric_nets.MetricNets"}}

Each part is ``<root>/<name>/``, loaded by that class's ``from_pretrained``. A root without a
manifest (older weights) is read by what it holds; a latent-diffusion export given as the root
is the body alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from motion.pipelines.weights import (
    BODY_MODULES,
    FACE_MODULES,
    MANIFEST,
    SavesPretrained,
    check_device,
    part_folder,
    read_manifest,
    resolve_weights_dir,
    write_json,
)

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from motion.pipelines.body import BodyPipeline
    from motion.pipelines.face import FacePipeline
    from motion.pipelines.generate import GenerationOutput
    from motion.pipelines.metric_nets import MetricNets

#: ``stage`` of a weights root's manifest.
ROOT_STAGE: Final[str] = "motion_pipeline"
#: The parts of a weights root, in order, and the class that loads each.
PARTS: Final[dict[str, str]] = {
    "body": "motion.pipelines.body.BodyPipeline",
    "face": "motion.pipelines.face.FacePipeline",
    "metrics": "motion.pipelines.metric_nets.MetricNets",
}


def root_manifest(parts: Sequence[str]) -> dict[str, Any]:
    """The ``manifest.json`` of a weights root holding ``parts``."""
    return {"stage": ROOT_STAGE, "modules": {p: PARTS[p] for p in PARTS if p in parts}}


def _part_class(name: str) -> Any:
    if name == "body":
        from motion.pipelines.body import BodyPipeline

        return BodyPipeline
    if name == "face":
        from motion.pipelines.face import FacePipeline

        return FacePipeline
    from motion.pipelines.metric_nets import MetricNets

    return MetricNets


def parts_in(root: Path) -> list[str]:
    """The parts a weights root holds: those its manifest names, else those found in it.

    Raises:
        WeightsFileError: the manifest names a part that is not one of :data:`PARTS`, or with
            another class.
    """
    manifest = read_manifest(root)
    if manifest.get("stage") == ROOT_STAGE:
        named = dict(manifest.get("modules") or {})
        for name, cls in named.items():
            if PARTS.get(name) != cls:
                from motion.models.config import WeightsFileError

                raise WeightsFileError(f"{root / MANIFEST}: part {name!r} ({cls}) is not one of "
                                       f"{', '.join(f'{k} ({v})' for k, v in PARTS.items())}")
        return [p for p in PARTS if p in named]
    from motion.models.config import module_names

    found = []
    if part_folder(root, "body", BODY_MODULES) is not None:
        found.append("body")
    if part_folder(root, "face", FACE_MODULES) is not None:
        found.append("face")
    if module_names(root / "metrics"):
        found.append("metrics")
    return found


class MotionPipeline(SavesPretrained):
    """The whole character: a :class:`~motion.pipelines.body.BodyPipeline`, a
    :class:`~motion.pipelines.face.FacePipeline` and the metric networks, each optional.

    Args:
        body, face, metrics: the parts (None: not loaded).
        notes: why a part is missing (``{"face": "no face weights in ..."}``).
        source: the weights root they came from.
    """

    def __init__(self, body: BodyPipeline | None = None, face: FacePipeline | None = None,
                 metrics: MetricNets | None = None, notes: dict[str, str] | None = None,
                 source: str | None = None) -> None:
        self.body, self.face, self.metrics = body, face, metrics
        self.notes = dict(notes or {})
        self.source = source

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str] | None = None, device: str | torch.device = "cpu",
                        parts: Sequence[str] | None = None) -> MotionPipeline:
        """Load a weights root.

        Args:
            path: the root (``body/``, ``face/``, ``metrics/``, ``manifest.json``), or a
                latent-diffusion export (the body alone); None: ``$MOTION_WEIGHTS_DIR``, else the
                shipped ``motion/weights`` (:func:`~motion.pipelines.weights.resolve_weights_dir`).
            device: where the modules go ("cpu", "cuda", "cuda:1"; the CPU by default).
            parts: the parts to load (each must be there); None: every part the root holds.

        Raises:
            WeightsNotFoundError: no such folder, a part asked for is missing, or the root holds none.
            WeightsFileError: a file is unreadable or does not fit (the message names it).
            DeviceNotAvailableError: CUDA asked for but not available.
            ValueError: an unknown part name.
        """
        dev = check_device(device)
        root = resolve_weights_dir(path)
        held = parts_in(root)
        if parts is None:
            if not held:
                from motion.pipelines.weights import TRAIN_BODY_HELP, WeightsNotFoundError

                raise WeightsNotFoundError(f"{root} holds no weights (body/, face/ or metrics/).\n{TRAIN_BODY_HELP}")
            wanted = held
        else:
            unknown = [p for p in parts if p not in PARTS]
            if unknown:
                raise ValueError(f"unknown part {unknown[0]!r}: the parts are {', '.join(PARTS)}")
            wanted = [p for p in PARTS if p in parts]
        loaded: dict[str, Any] = {}
        notes: dict[str, str] = {}
        for name in wanted:  # a part asked for but not held raises its own "not found" (how to train it)
            loaded[name] = _part_class(name).from_pretrained(root, dev)
        for name in PARTS:
            if name not in loaded:
                notes[name] = "not asked for" if name in held else f"no {name} weights in {root}"
        return cls(loaded.get("body"), loaded.get("face"), loaded.get("metrics"), notes, str(root))

    def parts(self) -> dict[str, Any]:
        """The loaded parts by name."""
        return {name: part for name, part in (("body", self.body), ("face", self.face), ("metrics", self.metrics))
                if part is not None}

    def write_to(self, folder: Path) -> None:
        """The loaded parts as a weights root (``<folder>/<part>/`` each, ``manifest.json`` naming
        them); :meth:`save_pretrained` writes it atomically."""
        parts = self.parts()
        if not parts:
            raise ValueError("nothing to save: the pipeline holds no part")
        for name, part in parts.items():
            (folder / name).mkdir()
            part.write_to(folder / name)
        write_json(folder / MANIFEST, root_manifest(list(parts)))

    def to(self, device: str | torch.device) -> MotionPipeline:
        """Move every part to ``device``; returns ``self``.

        Raises:
            DeviceNotAvailableError: CUDA asked for but not available.
        """
        dev = check_device(device)
        for part in self.parts().values():
            part.to(dev)
        return self

    def __call__(self, audio: Any, **kwargs: Any) -> GenerationOutput:
        """:func:`~motion.pipelines.generate.generate_motion` with this body and face (keyword
        arguments: its controls, ``emotion``, ``intensity``, ``style``, ``seed``, ``fps``, ...)."""
        from motion.pipelines.generate import generate_motion

        if self.body is None and self.face is None:
            raise ValueError("this pipeline holds neither a body nor a face to generate")
        kwargs.setdefault("face_note", self.notes.get("face"))
        return generate_motion(audio, self.body, self.face, **kwargs)

    def __repr__(self) -> str:
        return f"MotionPipeline(parts={list(self.parts())}, source={self.source!r})"
