"""Benchmark torch's intra-op thread choice for ``motion generate``: idle vs a busy neighbour.

Usage:
    python benchmarks/bench_threads.py [--seconds 30] [--repeats 3] [--weights DIR] [--face/--no-face]

Generates body + face (the CLI's default path, :func:`motion.generate`) for ``--seconds`` of
speech-like audio (:mod:`bench_audio`), each setting in a fresh subprocess after a warm-up
call, and prints seconds of compute per second of audio (s/s, best of ``--repeats``) for:

* ``torch default``: torch's own pool size (one thread per core; what the toolkit used before);
* ``1`` / ``2`` threads fixed;
* ``auto``: :func:`motion.threads.choose_threads` (affinity, cgroup quota, load average),

on an idle machine and with one competing CPU-bound process (a busy Python loop started
before the subprocess and kept running through it). The last lines give the slowdown of
each setting under contention against the idle ``torch default``.
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

from bench_audio import synth_speech_like

SETTINGS = ("torch default", "1", "2", "auto")


def worker(wav: str, setting: str, repeats: int, weights: str | None, face: bool) -> dict:
    """Warm up, then time ``repeats`` generations of ``wav``; the best s/s and the threads used."""
    import soundfile as sf
    import torch

    import motion
    from motion.threads import apply_threads

    if setting == "auto":
        threads = apply_threads()
    elif setting != "torch default":
        threads = apply_threads(int(setting))
    else:
        threads = torch.get_num_threads()
    seconds = sf.info(wav).duration
    kw = {"weights": weights, "face": face, "seed": 0}
    warm = str(Path(wav).with_name("warm.wav"))
    motion.generate(warm, **kw)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        motion.generate(wav, **kw)
        times.append(time.perf_counter() - t0)
    return {"setting": setting, "threads": threads, "s_per_s": min(times) / seconds,
            "load": os.getloadavg()[0]}


def run(wav: Path, setting: str, repeats: int, weights: str | None, face: bool) -> dict:
    """:func:`worker` in a fresh interpreter."""
    code = (f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"from bench_threads import worker; "
            f"print(json.dumps(worker({str(wav)!r}, {setting!r}, {repeats}, {weights!r}, {face!r})))")
    env = {k: v for k, v in os.environ.items() if k != "MOTION_THREADS"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"worker failed ({setting}):\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    """Entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="audio length (default 30)")
    ap.add_argument("--repeats", type=int, default=3, help="timed generations per setting (default 3, best kept)")
    ap.add_argument("--weights", default=None, help="weights folder (default: the shipped ones)")
    ap.add_argument("--no-face", action="store_true", help="body only")
    args = ap.parse_args()
    print(f"cores {os.cpu_count()}, affinity {len(os.sched_getaffinity(0))}, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    rows: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory(prefix="motion-bench-threads-") as tmp:
        wav = Path(tmp) / "speech.wav"
        synth_speech_like(wav, args.seconds, 16000, 1)
        synth_speech_like(Path(tmp) / "warm.wav", 2.0, 16000, 1, seed=1)
        for scenario in ("idle", "contended"):
            hog = None
            if scenario == "contended":
                hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
                time.sleep(1.0)
            try:
                for setting in SETTINGS:
                    r = rows[(scenario, setting)] = run(wav, setting, args.repeats, args.weights, not args.no_face)
                    print(f"{scenario:9s} {setting:13s} threads {r['threads']}  {r['s_per_s']:.4f} s/s  "
                          f"(load {r['load']:.2f})", flush=True)
            finally:
                if hog is not None:
                    hog.kill()
                    hog.wait()
    base = rows[("idle", "torch default")]["s_per_s"]
    print("\nslowdown vs idle torch default:")
    for setting in SETTINGS:
        idle, busy = rows[("idle", setting)]["s_per_s"], rows[("contended", setting)]["s_per_s"]
        print(f"  {setting:13s} idle {idle / base:.2f}x   contended {busy / base:.2f}x "
              f"(vs its own idle {busy / idle:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
