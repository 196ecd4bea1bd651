"""Benchmark how the face finds lip closures in real speech: hits, false alarms, compute.

Usage:
    python benchmarks/bench_closures.py data/real [--modes detector loop words]
    python benchmarks/bench_closures.py --manifest data/real_train/manifest.csv --split val

Clips: recordings with phone labels (``STEM.TextGrid`` / ``.lab`` / ``.phn`` anywhere under
the folder, as ``motion evaluate --real`` finds them), or the clips of a recordings manifest
(``--split``: its speaker-independent val or train split, as the detector's training used it;
labels from the manifest's phone labels, else forced alignment of its transcripts).

Per mode (``detector``: :func:`motion.audio.closures.detect_closures`; ``loop`` / ``words``:
:func:`motion.audio.phones.recognise_phones`):

* **hit rate**: labelled p/b/m whose middle gets a closure weight >= 0.5 at 30 fps
  (:func:`motion.pipelines.lip_closure.closure_weights` of the found phones: what the face
  closes);
* **precision**: found bilabials whose middle lies within 50 ms of a labelled one;
* **false/min**: found bilabials per minute that are not;
* **cpu s/s**: thread CPU time per second of audio (one thread).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

FPS = 30.0
NEAR_S = 0.05


def _clips(args: argparse.Namespace) -> list[tuple[str, Path, list[tuple[str, float, float]]]]:
    if args.manifest:
        from motion.audio.io import load_audio
        from motion.data.closure_data import clip_phones, real_clips

        out = []
        for c in real_clips(args.manifest):
            if c.split != args.split:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                phones = clip_phones(c, load_audio(c.audio, allow_silent=True))
            if phones:
                out.append((c.id, Path(c.audio), phones))
        return out[: args.max_clips] if args.max_clips else out
    from motion.metrics.real_speech import find_real_clips

    return [(c.name, c.path, c.phones) for c in find_real_clips(args.folder) if c.phones]


def _found(mode: str, audio: Any, weights: str | None) -> tuple[list[tuple[str, float, float]], float]:
    t0 = time.thread_time()
    if mode == "detector":
        from motion.audio.closures import detect_closures, load_detector

        track = detect_closures(audio, load_detector(weights))
    else:
        from motion.audio.phones import recognise_phones

        track = recognise_phones(audio, mode=mode)  # type: ignore[arg-type]
    return (track.triples() if track.language_ok else []), time.thread_time() - t0


def score(labels: list[tuple[str, float, float]], found: list[tuple[str, float, float]], duration: float
          ) -> dict[str, float]:
    """Hits / labelled, near / found, and counts for one clip (module notes)."""
    from motion.pipelines.lip_closure import closure_weights
    from motion.synthetic.tts.phonemes import is_bilabial

    T = int(round(duration * FPS))
    w = closure_weights(found, T, FPS)
    mids = [0.5 * (s + e) for sym, s, e in labels if is_bilabial(sym)]
    hits = sum(w[int(np.clip(round(m * FPS), 0, T - 1))] >= 0.5 for m in mids)
    spans = [(s - NEAR_S, e + NEAR_S) for sym, s, e in labels if is_bilabial(sym)]
    fmids = [0.5 * (s + e) for sym, s, e in found if is_bilabial(sym)]
    near = sum(any(a <= m <= b for a, b in spans) for m in fmids)
    return {"labelled": len(mids), "hits": int(hits), "found": len(fmids), "near": int(near)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", type=Path, help="recordings with phone labels")
    ap.add_argument("--manifest", type=Path, help="a recordings manifest instead of a folder")
    ap.add_argument("--split", default="val", choices=["train", "val"], help="manifest split (default val)")
    ap.add_argument("--modes", nargs="+", default=["detector", "loop"], choices=["detector", "loop", "words"])
    ap.add_argument("--weights", default=None, help="folder with closure_detector.json/.safetensors (default: shipped)")
    ap.add_argument("--max-clips", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    if not args.folder and not args.manifest:
        ap.error("give a folder or --manifest")
    import torch

    from motion.audio.io import load_audio

    torch.set_num_threads(1)
    clips = _clips(args)
    if not clips:
        print("no clips with phone labels", file=sys.stderr)
        return 1
    total = {m: {"labelled": 0, "hits": 0, "found": 0, "near": 0, "cpu_s": 0.0} for m in args.modes}
    seconds = 0.0
    for name, path, labels in clips:
        audio = load_audio(path, allow_silent=True)
        seconds += audio.duration
        for mode in args.modes:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found, cpu = _found(mode, audio, args.weights)
            for k, v in score(labels, found, audio.duration).items():
                total[mode][k] += v
            total[mode]["cpu_s"] += cpu
    print(f"{len(clips)} clips, {seconds / 60:.1f} min")
    print(f"{'mode':10s} {'p/b/m':>6s} {'hit rate':>9s} {'precision':>10s} {'false/min':>10s} {'cpu s/s':>8s}")
    out: dict[str, Any] = {"clips": len(clips), "minutes": seconds / 60}
    for mode, t in total.items():
        hit, prec = t["hits"] / max(t["labelled"], 1), t["near"] / max(t["found"], 1)
        fpm = (t["found"] - t["near"]) / (seconds / 60)
        print(f"{mode:10s} {t['labelled']:6d} {hit:9.3f} {prec:10.3f} {fpm:10.1f} {t['cpu_s'] / seconds:8.4f}")
        out[mode] = {**t, "hit_rate": hit, "precision": prec, "false_per_min": fpm, "cpu_s_per_s": t["cpu_s"] / seconds}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
