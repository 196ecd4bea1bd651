"""The networks that score motion (``motion evaluate``), loaded and saved as one part.

    nets = MetricNets.from_pretrained("motion/weights")          # a root holding metrics/, or the folder
    nets["feature_extractor"], nets["emotion_classifier"], nets["speaker_classifier"]  # body metrics (FGD, ...)
    nets["face_emotion"]                                          # the face emotion classifier
    nets.save_pretrained("my_weights/metrics")

A metrics folder is a set of module exports (``<name>.json`` + ``<name>.safetensors``,
:mod:`motion.models.config`) and a ``manifest.json`` naming them; which classes they are is
up to the folder (each JSON names its class, under ``motion.`` only). Nothing here imports
the metric code: the modules are rebuilt from their configs.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motion.pipelines.weights import (
    MANIFEST,
    TRAIN_METRICS_HELP,
    SavesPretrained,
    WeightsNotFoundError,
    check_device,
    load_modules,
    read_manifest,
    require_part,
    save_modules,
    write_json,
)

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn


class MetricNets(SavesPretrained, Mapping[str, "nn.Module"]):
    """Metric networks by name (a read-only mapping), in eval mode.

    Args:
        modules: ``{export name: module}``.
        manifest: the folder's ``manifest.json`` (kept by :meth:`save_pretrained`).
        source: the folder they came from.
    """

    def __init__(self, modules: Mapping[str, nn.Module], manifest: dict[str, Any] | None = None,
                 source: str | None = None) -> None:
        self._modules = {name: module.eval() for name, module in modules.items()}
        self.manifest = copy.deepcopy(manifest) if manifest is not None else {"stage": "motion_metrics"}
        self.source = source

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], device: str | torch.device = "cpu",
                        names: Sequence[str] | None = None, help_text: str = TRAIN_METRICS_HELP) -> MetricNets:
        """Load a metrics folder, or the ``metrics/`` of a weights root.

        Args:
            path: the folder or the root.
            device: where the modules go.
            names: the modules wanted (all must be there); None: every module export in the
                folder (those its manifest names must be there).
            help_text: how to make missing modules (appended to the error).

        Raises:
            WeightsNotFoundError: a module asked for (or named by the manifest) is missing, or
                the folder holds none.
            WeightsFileError: a file is unreadable or does not fit (the message names it).
        """
        from motion.models.config import module_names

        dev = check_device(device)
        if names is None:
            root = Path(path).expanduser()
            folder = next((f for f in (root / "metrics", root) if module_names(f)), None)
            if folder is None:
                raise WeightsNotFoundError(f"no metric networks (<name>.json + <name>.safetensors) in {root} "
                                           f"or {root / 'metrics'}.\n{help_text}")
            listed = list(read_manifest(folder).get("modules") or {})
            names = listed + [n for n in module_names(folder) if n not in listed]
        folder = require_part(path, "metrics", list(names), help_text)
        return cls(load_modules(folder, list(names), dev), read_manifest(folder), str(folder))


    def write_to(self, folder: Path) -> None:
        """Write the files of :meth:`save_pretrained` into the existing ``folder`` (not atomic)."""
        manifest = copy.deepcopy(self.manifest)
        manifest["modules"] = save_modules(folder, self._modules)
        write_json(folder / MANIFEST, manifest)

    def to(self, device: str | torch.device) -> MetricNets:
        """Move every network to ``device``; returns ``self``."""
        dev = check_device(device)
        for module in self._modules.values():
            module.to(dev)
        return self

    def modules(self) -> dict[str, nn.Module]:
        """The networks by their export names."""
        return dict(self._modules)

    def __getitem__(self, name: str) -> nn.Module:
        try:
            return self._modules[name]
        except KeyError:
            raise KeyError(f"no metric network {name!r} (loaded from {self.source}: {sorted(self._modules)})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __repr__(self) -> str:
        return f"MetricNets({sorted(self._modules)}, source={self.source!r})"
