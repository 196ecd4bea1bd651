"""Gather the exports of the demo training runs into one weights folder; convert old weights.

    python -m motion.training.pack runs/demo motion/weights
    python -m motion.training.pack --convert motion/weights     # legacy .pt -> .safetensors, in place

Layout written (:mod:`motion.pipelines.weights`)::

    <dest>/manifest.json  names the parts (:class:`~motion.pipelines.motion_pipeline.MotionPipeline`)
    <dest>/body/     the latent-diffusion export (speech encoder, motion VAE, denoiser, ...)
    <dest>/face/     the face-decoder export of EMOTE's second stage (decoder, FLINT prior, settings)
                     and the lip-event detector (closure_detector.*)
    <dest>/metrics/  the motion-metrics export + the face-emotion classifier (``motion evaluate``)

Only the ``.json`` / weights (``.safetensors``, or ``.pt`` of older runs) / ``.txt`` files of each
``<run>/latest`` are copied (no checkpoints, no logs); every state dict is written as
safetensors. Weight matrices (floating tensors with two or more dimensions) are stored as
float16, which halves the download; :func:`motion.models.config.load_module` copies them
back into float32 modules (vectors - biases, standardisation statistics - stay float32).
Each folder's ``manifest.json`` is its first run's, naming every module the folder holds.
The destination is replaced atomically: built beside it, then renamed.

``--convert DIR`` rewrites a weights root (or one export folder) made before safetensors: every
``<name>.pt`` becomes ``<name>.safetensors`` with the same tensors (same values, same dtypes),
the manifests name every module, a root gets its parts' manifest; atomically as well.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from motion.pipelines.weights import MANIFEST

#: destination sub-folder -> the runs (under the runs root) whose ``latest`` export goes there
LAYOUT: dict[str, tuple[str, ...]] = {
    "body": ("latent_diffusion", "speech_encoder_robust"),  # the robust encoder replaces the denoiser's
    "face": ("face_decoder_exchange", "closure_detector"),  # + the lip-event detector (motion.audio.closures)
    "metrics": ("motion_metrics", "face_emotion"),
}
WEIGHT_SUFFIXES = (".safetensors", ".pt")
SUFFIXES = (".json", *WEIGHT_SUFFIXES, ".txt")


def _copy_weights(src: Path, dst_folder: Path, half: bool) -> None:
    """Write the state dict of ``src`` (safetensors or legacy .pt) as ``<stem>.safetensors``
    (matrices as float16 with ``half``; otherwise the tensors as they are)."""
    from motion.models.config import read_state, write_state

    write_state(read_state(src), dst_folder / f"{src.stem}.safetensors", half=half)


def _complete_manifest(folder: Path) -> None:
    """List every module export of ``folder`` in its ``manifest.json`` (``modules``: name -> class)."""
    from motion.models.config import module_names
    from motion.pipelines.weights import read_manifest, write_json

    manifest = read_manifest(folder)
    modules = dict(manifest.get("modules") or {})
    for name in module_names(folder):
        modules[name] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))["class_path"]
    manifest["modules"] = modules
    write_json(folder / MANIFEST, manifest)


def _write_root_manifest(root: Path, parts: list[str]) -> None:
    from motion.pipelines.motion_pipeline import root_manifest
    from motion.pipelines.weights import write_json

    write_json(root / MANIFEST, root_manifest(parts))


def pack(runs: Path, dest: Path, half: bool = True) -> dict[str, int]:
    """Copy the exports (matrices as float16 with ``half``); returns bytes per sub-folder.

    Raises:
        FileNotFoundError: a run has no ``latest`` export (its ``motion fit`` did not finish).
    """
    from motion.atomic import atomic_folder

    missing = [r for rs in LAYOUT.values() for r in rs if not (runs / r / "latest").is_dir()]
    if missing:
        raise FileNotFoundError(f"no export in {', '.join(str(runs / m / 'latest') for m in missing)}: "
                                "run `make weights` (or the missing `motion fit --config configs/demo/...`)")
    sizes: dict[str, int] = {}
    with atomic_folder(dest) as tmp:
        for sub, run_names in LAYOUT.items():
            (tmp / sub).mkdir(parents=True)
            for name in run_names:
                for f in sorted((runs / name / "latest").iterdir()):
                    if not (f.is_file() and f.suffix in SUFFIXES):
                        continue
                    if (tmp / sub / f.name).exists() and f.name == MANIFEST:
                        continue  # the first run's manifest describes the folder
                    if f.suffix in WEIGHT_SUFFIXES:
                        if f.suffix == ".pt" and (f.parent / f"{f.stem}.safetensors").is_file():
                            continue  # a stale legacy file beside its safetensors
                        _copy_weights(f, tmp / sub, half)
                    else:
                        shutil.copy2(f, tmp / sub / f.name)
            _complete_manifest(tmp / sub)
            sizes[sub] = sum(p.stat().st_size for p in (tmp / sub).iterdir())
        _write_root_manifest(tmp, list(LAYOUT))
    return sizes


def convert(folder: Path) -> dict[str, Any]:
    """Rewrite a weights root (or one export folder) with safetensors in place of ``.pt`` files
    (module docstring); returns ``{"converted": [...], "bytes_before": n, "bytes_after": n}``.

    Raises:
        FileNotFoundError: ``folder`` does not exist.
    """
    from motion.atomic import atomic_folder
    from motion.pipelines.motion_pipeline import PARTS

    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    before = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    converted: list[str] = []
    with atomic_folder(folder) as tmp:
        shutil.copytree(folder, tmp, dirs_exist_ok=True)
        subs = [tmp / p for p in PARTS if (tmp / p).is_dir()] or [tmp]
        for sub in subs:
            for pt in sorted(sub.glob("*.pt")):
                _copy_weights(pt, sub, half=False)  # the tensors as they are
                pt.unlink()
                converted.append(str(pt.relative_to(tmp)))
            _complete_manifest(sub)
        if subs != [tmp]:
            _write_root_manifest(tmp, [s.name for s in subs])
    after = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return {"converted": converted, "bytes_before": before, "bytes_after": after}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motion.training.pack", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", type=Path, nargs="?", help="runs root of the demo configs (runs/demo)")
    p.add_argument("dest", type=Path, nargs="?", help="weights folder to write (motion/weights)")
    p.add_argument("--float32", action="store_true", help="keep matrices in float32 (twice the size)")
    p.add_argument("--convert", type=Path, metavar="DIR",
                   help="convert the weights folder DIR from .pt to .safetensors in place (no runs needed)")
    a = p.parse_args(argv)
    if a.convert is not None:
        if a.runs is not None:
            p.error("--convert DIR takes no other folders")
        try:
            res = convert(a.convert)
        except FileNotFoundError as exc:
            print(f"pack: {exc}", file=sys.stderr)
            return 1
        print(f"converted {len(res['converted'])} files in {a.convert} to safetensors: "
              f"{res['bytes_before'] / 1e6:.2f} MB -> {res['bytes_after'] / 1e6:.2f} MB")
        return 0
    if a.runs is None or a.dest is None:
        p.error("give RUNS DEST (or --convert DIR)")
    try:
        sizes = pack(a.runs, a.dest, half=not a.float32)
    except FileNotFoundError as exc:
        print(f"pack: {exc}", file=sys.stderr)
        return 1
    total = sum(sizes.values())
    print(f"wrote {a.dest}: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items())
          + f" (total {total / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
