"""Benchmark generation: time per second of audio (body, face, both), time vs length, memory,
and the seam metric on long audio.

Usage:
    python benchmarks/bench_body.py [--weights DIR] [--durations 30 60 180]
                                    [--memory-seconds 600] [--threads 2] [--steps N] [--speech REAL.wav]

Weights: ``--weights``, else the weights shipped in ``motion/weights`` (the trained demo
models), else random weights at the demo configs' sizes (``configs/demo``; timing does not
depend on training). "Default settings" are the pipelines' defaults: the training window
(2.13 s) with half-window overlap, DPM-Solver++ steps, audio / emotion guidance 1.0 / 2.5 (two
denoiser passes per step, batched), body smoothing sigma 1 frame, all windows of up to 32 at a time denoised together
(``stitch="fused"``). Every measurement runs in a fresh subprocess (torch threads as given)
on speech-like audio synthesised by :mod:`bench_audio`:

* ``time``: wall time of a generation per duration, split into features / speech encoder /
  sampling / VAE decoding, after a warm-up call; also the old one-window-after-another
  path (``stitch="inpaint"``) at 60 s for comparison, the face pipeline alone and body + face
  through the public API path (:func:`motion.pipelines.generate.generate_motion`);
* ``seams``: on the longest input, the joint-velocity jump within 4 frames of every window
  seam against the same statistic away from seams (:func:`motion.metrics.body.seam_jumps`),
  averaged over ``SEAM_SEEDS`` seeds (after the timing);
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
from pathlib import Path

from bench_audio import current_rss_mb, peak_rss_mb, synth_speech_like

TRAINING_WINDOW = 64  # frames, configs/data/beat2.yaml
SEAM_SEEDS = 5  # seeds averaged in the seam figure


def build_export(folder: Path) -> Path:
    """Demo-size body modules (configs/demo) with random weights, saved as a weights root."""
    import torch

    from motion.data.feature_cache import FeatureConfig
    from motion.models import LatentDenoiser, MotionVAE, SpeechDisentangler
    from motion.models.layers import Standardizer
    from motion.models.sampler import training_scheduler
    from motion.pipelines.body import BodyPipeline

    torch.manual_seed(0)
    enc, vae = SpeechDisentangler(width=128, layers=1), MotionVAE(width=192)
    den = LatentDenoiser(vae.latent_dim, enc.content_dim, enc.emotion_dim, enc.style_dim, vae.downsample,
                         width=128, layers=7)
    torch.nn.init.normal_(den.out.weight, std=0.02)  # not a zero predictor
    pipe = BodyPipeline(enc, vae, den, Standardizer(vae.latent_dim, eps=1e-3), dict(training_scheduler().config),
                        FeatureConfig("log_mel", 80, 30.0), train_window=TRAINING_WINDOW)
    pipe.save_pretrained(folder / "body")
    return folder


def worker(weights: str, wav: str, threads: int, part: str, options: dict) -> dict:
    """Load, warm up, generate ``wav`` once; time, memory and seam figures."""
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    from motion.pipelines.body import BodyPipeline
    from motion.pipelines.generate import generate_motion, load_face_pipeline

    body = BodyPipeline.from_pretrained(weights) if part in ("body", "both") else None
    face = load_face_pipeline(weights)[0] if part in ("face", "both") else None
    if part in ("face", "both") and face is None:
        return {"error": f"no face weights in {weights}"}
    warm = np.zeros(16000, np.float32) + 1e-3
    if body is not None:
        body(warm, seed=0, steps=2)  # warm-up (librosa, kernels)
    if face is not None:
        face(warm, seed=0)
    rss = current_rss_mb()
    t0 = time.perf_counter()
    res: dict = {}
    if part == "body":
        out = body(wav, seed=0, **options)
        from motion.metrics.body import joint_positions, seam_jumps

        res = {**{f"{k}_s": v for k, v in out.timings.items()}, "windows": len(out.windows),
               "window_s": out.motion.meta.extra["window_s"], "frames": out.motion.num_frames,
               "steps": out.motion.meta.extra["steps"], "sampler": out.motion.meta.extra["sampler"]}
        total = time.perf_counter() - t0
        res["peak_rss_mb"] = peak_rss_mb()  # before the seam metric (its SMPL-X forward kinematics)
        if out.seams:  # one seed's figure is noisy (a few large strokes decide it): mean of SEAM_SEEDS
            stats = [seam_jumps(joint_positions(out.motion.poses), out.seams, 30.0)]
            for seed in range(1, SEAM_SEEDS):
                o = body(wav, seed=seed, **options)
                stats.append(seam_jumps(joint_positions(o.motion.poses), o.seams, 30.0))
            seam, inside = (float(np.mean([getattr(x, k) for x in stats])) for k in ("seam", "inside"))
            res["seams"] = {"seam": seam, "inside": inside, "ratio": seam / inside,
                            "ratios": [x.ratio for x in stats]}
    elif part == "face":
        out = face(wav, seed=0, **options)
        total = time.perf_counter() - t0
        res = {"frames": int(out.expression.shape[0]), "phones": out.meta.get("phones", {}).get("source")}
    else:
        m = generate_motion(wav, body, face, seed=0, **options).motion
        total = time.perf_counter() - t0
        res = {"frames": m.num_frames}
    return {"total_s": total, "peak_rss_mb": peak_rss_mb(), **res, "rss_before_mb": rss}


def loop_speech(src: Path, dest: Path, seconds: float) -> None:
    """Write ``seconds`` of ``src`` (looped, 16 kHz mono) to ``dest``."""
    import numpy as np
    import soundfile as sf

    from motion.audio import load_audio

    x = load_audio(src).samples
    n = int(seconds * 16000)
    sf.write(dest, np.tile(x, -(-n // len(x)))[:n], 16000, subtype="PCM_16")


def run(weights: Path, wav: Path, args: argparse.Namespace, part: str = "body", **options) -> dict:
    opts = {k: v for k, v in {"steps": args.steps, **options}.items() if v is not None}
    cmd = [sys.executable, __file__, "--worker", str(weights), str(wav), "--threads", str(args.threads),
           "--part", part, "--options", json.dumps(opts)]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path, default=None, help="weights folder (default: shipped, else random)")
    ap.add_argument("--durations", type=float, nargs="+", default=[30.0, 60.0, 180.0])
    ap.add_argument("--memory-seconds", type=float, default=600.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=None, help="sampling steps (default: the pipeline's)")
    ap.add_argument("--speech", type=Path, default=None,
                    help="a real recording, looped / cut to each duration (default: synthetic speech-like audio); "
                    "the face's phone recogniser only costs what it costs on real speech")
    ap.add_argument("--worker", nargs=2, default=None, metavar=("WEIGHTS", "WAV"), help=argparse.SUPPRESS)
    ap.add_argument("--part", default="body", help=argparse.SUPPRESS)
    ap.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.threads, args.part, json.loads(args.options))))
        return
    print(f"cores {os.cpu_count()}, torch threads {args.threads}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        weights = args.weights
        if weights is None:
            from motion.pipelines.weights import SHIPPED_WEIGHTS

            weights = SHIPPED_WEIGHTS if (SHIPPED_WEIGHTS / "body").is_dir() else build_export(tmpd / "w")
        print(f"weights: {weights}", flush=True)
        wavs = {}
        for d in sorted({*args.durations, 60.0, args.memory_seconds}):
            wavs[d] = tmpd / f"speech_{d:.0f}.wav"
            if args.speech is None:
                synth_speech_like(wavs[d], d, 16000, 1, seed=1)
            else:
                loop_speech(args.speech, wavs[d], d)
        print(f"audio: {args.speech or 'synthetic speech-like'}", flush=True)
        print(f"{'audio':>7s} {'mode':>8s} {'total':>8s} {'s/s audio':>10s} {'features':>9s} "
              f"{'encoder':>8s} {'sampling':>9s} {'decode':>7s} {'windows':>8s} {'peak RSS':>9s}")
        rows = [(d, "fused", run(weights, wavs[d], args)) for d in args.durations]
        rows.append((60.0, "inpaint", run(weights, wavs[60.0], args, stitch="inpaint")))
        for d, mode, r in rows:
            print(f"{d:>6.0f}s {mode:>8s} {r['total_s']:>7.2f}s {r['total_s'] / d:>10.4f} "
                  f"{r['features_s']:>8.2f}s {r['encode_s']:>7.2f}s {r['sample_s']:>8.2f}s "
                  f"{r['decode_s']:>6.2f}s {r['windows']:>8.0f} {r['peak_rss_mb']:>7.0f}MB", flush=True)
        r0 = rows[0][2]
        print(f"settings: {r0['sampler']} {r0['steps']} steps, window {r0['window_s']:.2f} s", flush=True)
        d_long, _, r_long = max(rows[:-1], key=lambda x: x[0])
        if "seams" in r_long:
            s = r_long["seams"]
            print(f"seams, {d_long:.0f} s, seeds 0-{SEAM_SEEDS - 1}: velocity jump at seams {s['seam']:.4f}, "
                  f"away from seams {s['inside']:.4f} m/s per frame (ratio {s['ratio']:.2f}; per seed "
                  f"{', '.join(f'{r:.2f}' for r in s['ratios'])})", flush=True)
        for part, phones in ((p, ph) for p in ("face", "both") for ph in ("off", "detector", "loop")):
            r = run(weights, wavs[60.0], args, part=part, phones=phones)
            if "error" in r:
                print(f"{part}: {r['error']}")
                continue
            print(f"{'face' if part == 'face' else 'body + face'} (phones {phones}), 60 s: {r['total_s']:.2f} s "
                  f"({r['total_s'] / 60.0:.4f} s per s of audio), peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
        r = run(weights, wavs[args.memory_seconds], args, part="both")
        print(f"body + face, {args.memory_seconds:.0f} s of audio: {r['total_s']:.1f} s "
              f"({r['total_s'] / args.memory_seconds:.4f} s per s of audio), RSS after load {r['rss_before_mb']:.0f} MB, "
              f"peak {r['peak_rss_mb']:.0f} MB", flush=True)
        for d in (60.0, args.memory_seconds):
            r = run(weights, wavs[d], args)
            print(f"memory, {d:.0f} s of audio: RSS after load + warm-up {r['rss_before_mb']:.0f} MB, "
                  f"peak {r['peak_rss_mb']:.0f} MB (+{r['peak_rss_mb'] - r['rss_before_mb']:.0f} MB); "
                  f"time {r['total_s']:.1f} s ({r['total_s'] / d:.4f} s per s of audio)", flush=True)


if __name__ == "__main__":
    main()
