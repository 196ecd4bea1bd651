"""``motion bench``: run the benchmark scripts of a source checkout and relay their figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"


def run_benchmarks(names: list[str]) -> int:
    """Run ``benchmarks/bench_<name>.py`` for each name; returns the worst exit status."""
    if not BENCH_DIR.is_dir():
        raise RuntimeError(
            f"benchmark scripts not found in {BENCH_DIR}; run `motion bench` from a source checkout"
        )
    status = 0
    for name in names:
        script = BENCH_DIR / f"bench_{name}.py"
        if not script.is_file():
            known = sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))
            raise ValueError(f"unknown benchmark {name!r}; available: {', '.join(known)}")
        print(f"== {name} ==", flush=True)
        status = max(status, subprocess.run([sys.executable, str(script)], check=False).returncode)
    return status
