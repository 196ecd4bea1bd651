"""Benchmark motion.audio on synthetic speech-like audio: time and peak memory.

Usage:
    python benchmarks/bench_audio.py [--durations 60 600] [--sr 44100] [--channels 2]

For each duration a WAV (44.1 kHz stereo 16-bit by default, so resampling and
down-mixing are exercised) is synthesised to a temporary folder, then measured in
fresh subprocesses so that sizes do not mix:

* ``time`` run: wall time of ``load_audio``, ``compute_features`` and ``kaldi_fbank``;
  resident memory before the work (after imports and a warm-up call that loads
  librosa and numba kernels) and the process peak (``ru_maxrss``) after it.
* ``trace`` run: ``tracemalloc`` peak of the same work (Python + numpy allocations).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BLOCK_SECONDS = 10.0


def synth_speech_like(path: Path, duration: float, sr: int, channels: int, seed: int = 0) -> None:
    """Write ``duration`` s of syllable-like audio: voiced harmonics with a wandering f0,
    noise bursts (fricatives) and pauses, over a quiet noise floor; 16-bit PCM."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    n_total = int(round(duration * sr))
    # Event list: (start, length, kind, f0) covering the whole duration.
    events: list[tuple[int, int, str, float]] = []
    pos = 0
    while pos < n_total:
        kind = rng.choice(["voiced", "voiced", "voiced", "fricative", "pause"])
        length = int(sr * {"voiced": rng.uniform(0.12, 0.3), "fricative": rng.uniform(0.05, 0.12),
                           "pause": rng.uniform(0.1, 0.6)}[kind])  # fmt: skip
        events.append((pos, length, str(kind), float(rng.uniform(90, 260))))
        pos += length
    block = int(BLOCK_SECONDS * sr)
    with sf.SoundFile(path, "w", samplerate=sr, channels=channels, subtype="PCM_16") as f:
        ev = 0
        for b0 in range(0, n_total, block):
            b1 = min(b0 + block, n_total)
            x = 0.002 * rng.standard_normal(b1 - b0)
            while ev < len(events) and events[ev][0] < b1:
                start, length, kind, f0 = events[ev]
                s0, s1 = max(start, b0), min(start + length, b1)
                t = (np.arange(s0, s1) - start) / sr
                env = np.sin(np.pi * np.clip(t * sr / length, 0, 1)) ** 2
                if kind == "voiced":
                    # f(t) = f0 (1 + 0.15 sin(4 pi t)), integrated into a phase.
                    phase = 2 * np.pi * f0 * (t + 0.15 * (1 - np.cos(4 * np.pi * t)) / (4 * np.pi))
                    sig = sum(np.sin(k * phase) / k for k in range(1, 8)) * 0.25
                elif kind == "fricative":
                    sig = 0.08 * np.diff(rng.standard_normal(s1 - s0 + 1))
                else:
                    sig = np.zeros(s1 - s0)
                x[s0 - b0 : s1 - b0] += env * sig
                if start + length <= b1:
                    ev += 1
                else:
                    break
            f.write(np.repeat(x[:, None], channels, axis=1) * np.linspace(1.0, 0.6, channels))


def current_rss_mb() -> float:
    """Resident set size now (MB), from /proc/self/statm."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """Process peak resident set size (MB); ru_maxrss is in KiB on Linux."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(path: str, mode: str) -> dict[str, float]:
    """Run load + features + fbank on ``path`` in this (fresh) process and measure."""
    import tracemalloc

    from motion.audio import Audio, compute_features, kaldi_fbank, load_audio

    warm = Audio(samples=(0.1 * np.sin(np.arange(16000) * 0.1)).astype(np.float32), sr=16000)
    compute_features(warm)
    kaldi_fbank(warm)
    result: dict[str, float] = {"rss_before_mb": current_rss_mb()}
    if mode == "trace":
        tracemalloc.start()
    t0 = time.perf_counter()
    audio = load_audio(path)
    t1 = time.perf_counter()
    feats = compute_features(audio)
    t2 = time.perf_counter()
    fbank = kaldi_fbank(audio)
    t3 = time.perf_counter()
    if mode == "trace":
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    result.update(
        load_s=t1 - t0, features_s=t2 - t1, fbank_s=t3 - t2, peak_rss_mb=peak_rss_mb(),
        duration_s=audio.duration, frames=feats.num_frames, fbank_frames=fbank.shape[0],
        output_mb=audio.samples.nbytes / 2**20,
    )  # fmt: skip
    return result


def run_worker(path: Path, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(path), "--mode", mode],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--durations", type=float, nargs="+", default=[60.0, 600.0])
    parser.add_argument("--sr", type=int, default=44100)
    parser.add_argument("--channels", type=int, default=2)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="time", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.mode)))
        return

    print(f"input: synthetic speech-like WAV, {args.sr} Hz, {args.channels} ch, PCM_16")
    header = (
        f"{'audio':>7} {'load s':>7} {'feat s':>7} {'fbank s':>8} {'x realtime':>10} "
        f"{'RSS before':>10} {'RSS peak':>9} {'peak-before':>11} {'traced peak':>11} "
        f"{'out MB':>7}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-audio-") as tmp:
        rows = []
        for dur in args.durations:
            path = Path(tmp) / f"speech_{int(dur)}s.wav"
            synth_speech_like(path, dur, args.sr, args.channels)
            timed = run_worker(path, "time")
            traced = run_worker(path, "trace")
            rows.append((dur, timed, traced, path.stat().st_size / 2**20))
        print(header)
        for dur, r, tr, file_mb in rows:
            total = r["load_s"] + r["features_s"]
            print(
                f"{dur:>6.0f}s {r['load_s']:>7.2f} {r['features_s']:>7.2f} {r['fbank_s']:>8.2f} "
                f"{dur / total:>9.0f}x {r['rss_before_mb']:>8.0f}MB {r['peak_rss_mb']:>7.0f}MB "
                f"{r['peak_rss_mb'] - r['rss_before_mb']:>9.0f}MB {tr['traced_peak_mb']:>9.0f}MB "
                f"{r['output_mb']:>7.1f}"
            )
            print(f"         (file {file_mb:.0f} MB, {r['frames']:.0f} motion frames, "
                  f"{r['fbank_frames']:.0f} fbank frames)")  # fmt: skip
        print(
            "x realtime = audio seconds per second of load + compute_features; "
            "traced peak = tracemalloc peak of load + features + fbank."
        )


if __name__ == "__main__":
    main()
