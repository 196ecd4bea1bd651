"""Gather the exports of the demo training runs into one weights folder.

    python -m motion.training.pack runs/demo motion/weights

Layout written (:mod:`motion.pipelines.weights`)::

    <dest>/body/     the latent-diffusion export (speech encoder, motion VAE, denoiser, ...)
    <dest>/face/     the face-decoder export (EMOTE's second stage, then read below 7.1 kHz; decoder, FLINT prior, settings)
                     and the lip-event detector (closure_detector.*)
    <dest>/metrics/  the motion-metrics export + the face-emotion classifier (``motion evaluate``)

Only ``.json`` / ``.pt`` / ``.txt`` files of each ``<run>/latest`` are copied (no checkpoints,
no logs). Weight matrices (floating tensors with two or more dimensions) are stored as
float16, which halves the download; :func:`motion.models.config.load_module` copies them
back into float32 modules (vectors - biases, standardisation statistics - stay float32).
The destination is replaced atomically: built beside it, then renamed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

#: destination sub-folder -> the runs (under the runs root) whose ``latest`` export goes there
LAYOUT: dict[str, tuple[str, ...]] = {
    "body": ("latent_diffusion", "speech_encoder_robust"),  # the robust encoder replaces the denoiser's
    "face": ("face_decoder_bands", "closure_detector"),  # + the lip-event detector (motion.audio.closures)
    "metrics": ("motion_metrics", "face_emotion"),
}
SUFFIXES = (".json", ".pt", ".txt")


def _copy_half(src: Path, dst: Path) -> None:
    """Copy a state dict, its matrices as float16."""
    import torch

    sd = torch.load(src, map_location="cpu", weights_only=True)
    out = {k: v.half() if torch.is_floating_point(v) and v.dim() >= 2 else v for k, v in sd.items()}
    torch.save(out, dst)


def pack(runs: Path, dest: Path, half: bool = True) -> dict[str, int]:
    """Copy the exports (matrices as float16 with ``half``); returns bytes per sub-folder.

    Raises:
        FileNotFoundError: a run has no ``latest`` export (its ``motion fit`` did not finish).
    """
    missing = [r for rs in LAYOUT.values() for r in rs if not (runs / r / "latest").is_dir()]
    if missing:
        raise FileNotFoundError(f"no export in {', '.join(str(runs / m / 'latest') for m in missing)}: "
                                "run `make weights` (or the missing `motion fit --config configs/demo/...`)")
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    sizes: dict[str, int] = {}
    for sub, run_names in LAYOUT.items():
        (tmp / sub).mkdir(parents=True)
        for name in run_names:
            for f in sorted((runs / name / "latest").iterdir()):
                if f.is_file() and f.suffix in SUFFIXES:
                    if (tmp / sub / f.name).exists() and f.name == "manifest.json":
                        continue  # the first run's manifest describes the folder
                    if half and f.suffix == ".pt":
                        _copy_half(f, tmp / sub / f.name)
                    else:
                        shutil.copy2(f, tmp / sub / f.name)
        sizes[sub] = sum(p.stat().st_size for p in (tmp / sub).iterdir())
    old = dest.with_name(dest.name + ".old")
    if dest.exists():
        dest.rename(old)
    tmp.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    return sizes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motion.training.pack", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", type=Path, help="runs root of the demo configs (runs/demo)")
    p.add_argument("dest", type=Path, help="weights folder to write (motion/weights)")
    p.add_argument("--float32", action="store_true", help="keep matrices in float32 (twice the size)")
    a = p.parse_args(argv)
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
