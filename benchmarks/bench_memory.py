"""Peak memory of body + face generation against the length of the speech (issue 16).

Usage:
    python benchmarks/bench_memory.py [--seconds 60 600 3600] [--phones detector] [--threads 1]
                                      [--repeat 1] [--speech tests/data/real/mfa_acoustic_corpus.wav] [--trace]

For each length, real speech (``--speech``, looped to the length, 16 kHz 16-bit WAV) goes
through :func:`motion.generate` (shipped weights, body and face, seed 0, default settings) in a
fresh subprocess, which prints:

* ``rss_loaded``: resident memory after loading the models and a 1 s warm-up;
* ``peak``: the process peak resident set size (``ru_maxrss``) after the generation;
* ``growth``: peak minus ``rss_loaded``: what the generation itself added;
* with ``--trace``, the ``tracemalloc`` peak of the generation (Python + numpy allocations, not
  torch's) and the ten source lines holding the most memory at that peak;
* with ``--repeat N``, each length N times (fresh processes) and the median peak: the peak
  varies by about +-20 MB from run to run (glibc's per-thread arenas).

The goal (issue 16): 10 minutes of speech peaks at <= 1 GB, and 60 minutes completes with the
same peak (memory flat in the length).

Figures (2 shared cores, 1 thread, mfa_acoustic_corpus.wav looped, median of 3 runs; the models
take 506 MB): phones=detector (the default) 60 / 600 / 3600 s peak at 579 / 631 / 760 MB (before
the recording stayed on disk and the detector ran chunk by chunk: 632 / 874 / 1688 MB);
phones=loop 3600 s at 780 MB in one run (before: 951; before the first streaming changes 1477 MB).
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

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEECH = ROOT / "tests" / "data" / "real" / "mfa_acoustic_corpus.wav"


def peak_rss_mb() -> float:
    """Process peak resident set size (MB); ru_maxrss is in KiB on Linux."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def loop_speech(src: Path, dest: Path, seconds: float) -> None:
    """Write ``seconds`` of ``src`` (looped, 16 kHz mono, 16-bit) to ``dest``, block by block."""
    import numpy as np
    import soundfile as sf

    from motion.audio import load_audio

    x = load_audio(src).samples
    n = int(seconds * 16000)
    with sf.SoundFile(dest, "w", 16000, 1, "PCM_16") as f:
        done = 0
        block = np.tile(x, max(1, (16000 * 60) // len(x)))
        while done < n:
            part = block[:n - done]
            f.write(part)
            done += len(part)


def worker(wav: str, phones: str, threads: int, trace: bool) -> dict:
    import numpy as np

    import torch

    import motion

    torch.set_num_threads(threads)  # motion.generate keeps a pool size its caller chose
    warm_dir = tempfile.mkdtemp(prefix="bench_memory_")
    warm = Path(warm_dir) / "warm.wav"
    import soundfile as sf

    sf.write(warm, (np.random.default_rng(0).standard_normal(16000) * 0.05).astype(np.float32), 16000)
    motion.generate(warm, seed=0, options=motion.GenerationOptions(phones=phones))  # loads and caches the models
    os.unlink(warm)
    os.rmdir(warm_dir)
    rss = current_rss_mb()
    if trace:
        import tracemalloc

        tracemalloc.start(12)
    t0 = time.perf_counter()
    m = motion.generate(wav, seed=0, options=motion.GenerationOptions(phones=phones))
    total = time.perf_counter() - t0
    res = {"frames": m.num_frames, "total_s": round(total, 1), "rss_loaded_mb": round(rss, 1),
           "peak_rss_mb": round(peak_rss_mb(), 1)}
    if trace:
        import tracemalloc

        snap_peak = tracemalloc.get_traced_memory()[1]
        res["trace_peak_mb"] = round(snap_peak / 2**20, 1)
        stats = tracemalloc.take_snapshot().statistics("lineno")[:10]
        res["trace_top_after"] = [f"{s.size / 2**20:.1f} MB {s.traceback[0]}" for s in stats]
    return res


def run(wav: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--worker", str(wav), "--phones", args.phones,
           "--threads", str(args.threads)] + (["--trace"] if args.trace else [])
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        return {"error": (res.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, nargs="+", default=[60.0, 600.0, 3600.0])
    ap.add_argument("--phones", default="detector")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--speech", type=Path, default=DEFAULT_SPEECH)
    ap.add_argument("--trace", action="store_true", help="also tracemalloc (slower)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per length (the median peak is printed)")
    ap.add_argument("--worker", type=str, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.phones, args.threads, args.trace)))
        return
    print(f"body + face, phones={args.phones}, {args.threads} thread(s), speech: {args.speech.name} looped",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_memory_") as tmp:
        for s in args.seconds:
            wav = Path(tmp) / f"speech_{int(s)}s.wav"
            loop_speech(args.speech, wav, s)
            peaks = []
            for _ in range(max(args.repeat, 1)):
                r = run(wav, args)
                if "error" in r:
                    print(f"{s:7.0f} s: failed: {r['error']}", flush=True)
                    continue
                peaks.append(r["peak_rss_mb"])
                print(f"{s:7.0f} s: peak RSS {r['peak_rss_mb']:6.0f} MB (loaded {r['rss_loaded_mb']:.0f} MB, "
                      f"+{r['peak_rss_mb'] - r['rss_loaded_mb']:.0f} MB), {r['total_s']:.1f} s"
                      + (f", tracemalloc peak {r['trace_peak_mb']:.0f} MB" if "trace_peak_mb" in r else ""),
                      flush=True)
                for line in r.get("trace_top_after", []):
                    print(f"           {line}")
            wav.unlink()
            if len(peaks) > 1:
                print(f"{s:7.0f} s: median peak RSS {sorted(peaks)[len(peaks) // 2]:6.0f} MB of {len(peaks)} runs "
                      f"({min(peaks):.0f}-{max(peaks):.0f})", flush=True)


if __name__ == "__main__":
    main()
