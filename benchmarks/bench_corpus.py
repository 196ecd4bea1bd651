"""Benchmark the synthetic corpus generator: wall time, audio hours, disk size, memory.

Usage:
    python benchmarks/bench_corpus.py [--size small] [--workers 2] [--seed 0] [--keep DIR]

Generates the corpus into a temporary folder (or ``--keep DIR``) with a process pool and
prints: clips, hours of audio, wall time, clips/s, seconds of audio per second of
compute, size on disk, peak resident memory of the main process and of the largest
worker (``ru_maxrss``). The ``small`` size must finish in under 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BUDGET_S = {"tiny": 10.0, "small": 120.0}


def disk_size(root: Path) -> int:
    """Bytes of all files under ``root``."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="small", choices=["tiny", "small", "large"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="write here and keep the corpus")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    from motion.synthetic.corpus import generate_corpus

    tmp = None if args.keep else Path(tempfile.mkdtemp(prefix="bench_corpus_"))
    root = args.keep if args.keep else tmp / "corpus"  # type: ignore[operator]
    try:
        t0 = time.perf_counter()
        info = generate_corpus(root, size=args.size, seed=args.seed, workers=args.workers,
                               overwrite=True, progress=sys.stderr.isatty())
        wall = time.perf_counter() - t0
        size = disk_size(info.root)
        self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        figures = {
            "size": args.size, "workers": args.workers, "clips": info.num_clips,
            "audio_hours": round(info.total_audio_s / 3600, 4),
            "mean_clip_s": round(info.total_audio_s / info.num_clips, 2),
            "wall_s": round(wall, 2), "clips_per_s": round(info.num_clips / wall, 1),
            "audio_s_per_wall_s": round(info.total_audio_s / wall, 1),
            "disk_mb": round(size / 2**20, 1), "splits": info.splits,
            "peak_rss_main_mb": round(self_rss, 1), "peak_rss_worker_mb": round(child_rss, 1),
        }
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(figures))
    else:
        for k, v in figures.items():
            print(f"{k:>20}: {v}")
    budget = BUDGET_S.get(args.size)
    if budget is not None and wall > budget:
        print(f"FAIL: {args.size} took {wall:.1f} s > {budget:.0f} s budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
