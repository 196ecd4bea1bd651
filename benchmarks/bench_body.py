"""Benchmark the body pipeline: generation time per second of audio, time vs length, memory.

Usage:
    python benchmarks/bench_body.py [--durations 30 60 180] [--memory-seconds 600]
                                    [--threads 2] [--steps 20] [--window-s 8]

The modules have the shipped (config) sizes - speech encoder width 256, motion VAE width
256 / 4 layers / 4x downsampling, denoiser width 256 / 9 layers - with untrained (random)
weights, written with the toolkit's export and loaded through ``BodyPipeline.from_pretrained``;
timing does not depend on training. The export's manifest records the default training
window (64 frames, ``configs/data/beat2.yaml``), so "default settings" means 2.13 s windows
with 1/4 overlap, DDIM 20 steps, audio / emotion guidance 1.0 / 1.5 (two denoiser passes per
step), inpainted overlaps. Every measurement runs in a fresh subprocess (torch threads as
given) on speech-like audio synthesised by :mod:`bench_audio`:

* ``time``: wall time of ``pipe(wav)`` per duration, split into features / speech encoder /
  sampling / VAE decoding, after a warm-up call;
* ``memory``: resident memory after loading + warm-up and the process peak (``ru_maxrss``)
  after generating ``--memory-seconds`` of audio (and 60 s for comparison).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from bench_audio import current_rss_mb, peak_rss_mb, synth_speech_like

TRAINING_WINDOW = 64  # frames, configs/data/beat2.yaml


def build_export(folder: Path) -> Path:
    """Shipped-size body modules with random weights, in the plain export format."""
    import torch

    from motion.models import LatentDenoiser, MotionVAE, SpeechDisentangler
    from motion.training.callbacks import write_export
    from motion.training.diffusion_module import LatentDiffusionModule

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = LatentDiffusionModule(lambda *d: LatentDenoiser(*d), speech_encoder=SpeechDisentangler(),
                                       vae=MotionVAE())
    torch.nn.init.normal_(module.denoiser.out.weight, std=0.02)  # not a zero predictor
    write_export(module, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["data"] = {"audio_features": "log_mel", "n_mels": 80, "fps": 30.0, "window": TRAINING_WINDOW}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    params = {n: sum(p.numel() for p in m.parameters()) for n, m in module.export_modules().items()}
    print(f"parameters: {params}", flush=True)
    return folder


def worker(export: str, wav: str, threads: int, steps: int, window_s: float | None) -> dict[str, float]:
    """Load the pipeline, warm up, generate ``wav`` once; time and memory figures."""
    import torch

    from motion.pipelines.body import BodyPipeline

    torch.set_num_threads(threads)
    pipe = BodyPipeline.from_pretrained(export)
    import numpy as np

    pipe(np.zeros(16000, np.float32) + 1e-3, seed=0, steps=2)  # warm-up (librosa, kernels)
    rss = current_rss_mb()
    t0 = time.perf_counter()
    out = pipe(wav, seed=0, steps=steps, window_s=window_s)
    total = time.perf_counter() - t0
    return {"total_s": total, **{f"{k}_s": v for k, v in out.timings.items()},
            "frames": out.motion.num_frames, "windows": len(out.windows),
            "window_s": out.motion.meta.extra["window_s"], "rss_before_mb": rss,
            "peak_rss_mb": peak_rss_mb()}


def run(export: Path, wav: Path, args: argparse.Namespace, window_s: float | None = None) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", str(export), str(wav), "--threads", str(args.threads),
           "--steps", str(args.steps)]
    if window_s is not None:
        cmd += ["--window-s", str(window_s)]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--durations", type=float, nargs="+", default=[30.0, 60.0, 180.0])
    ap.add_argument("--memory-seconds", type=float, default=600.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--window-s", type=float, default=None, help="worker: window seconds")
    ap.add_argument("--variant-window-s", type=float, default=8.0, help="also time 60 s with this window")
    ap.add_argument("--worker", nargs=2, default=None, metavar=("EXPORT", "WAV"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.threads, args.steps, args.window_s)))
        return
    print(f"cores {os.cpu_count()}, torch threads {args.threads}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        export = build_export(tmpd / "body")
        wavs = {}
        for d in sorted({*args.durations, 60.0, args.memory_seconds}):
            wavs[d] = tmpd / f"speech_{d:.0f}.wav"
            synth_speech_like(wavs[d], d, 16000, 1, seed=1)
        print(f"{'audio':>7s} {'window':>7s} {'total':>8s} {'s/s audio':>10s} {'features':>9s} "
              f"{'encoder':>8s} {'sampling':>9s} {'decode':>7s} {'windows':>8s} {'peak RSS':>9s}")
        rows = [(d, run(export, wavs[d], args)) for d in args.durations]
        rows.append((60.0, run(export, wavs[60.0], args, args.variant_window_s)))
        for d, r in rows:
            print(f"{d:>6.0f}s {r['window_s']:>6.2f}s {r['total_s']:>7.2f}s {r['total_s'] / d:>10.4f} "
                  f"{r['features_s']:>8.2f}s {r['encode_s']:>7.2f}s {r['sample_s']:>8.2f}s "
                  f"{r['decode_s']:>6.2f}s {r['windows']:>8.0f} {r['peak_rss_mb']:>7.0f}MB", flush=True)
        for d in (60.0, args.memory_seconds):
            r = run(export, wavs[d], args)
            print(f"memory, {d:.0f} s of audio: RSS after load + warm-up {r['rss_before_mb']:.0f} MB, "
                  f"peak {r['peak_rss_mb']:.0f} MB (+{r['peak_rss_mb'] - r['rss_before_mb']:.0f} MB); "
                  f"time {r['total_s']:.1f} s ({r['total_s'] / d:.4f} s per s of audio)", flush=True)


if __name__ == "__main__":
    main()
