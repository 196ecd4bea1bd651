"""Regenerate the golden output of ``motion generate`` (``tests/data/golden/generate_seed0.npz``).

tests/test_golden.py runs the same command and asks for the same bytes in every array, so a
refactor that changes what ``motion generate`` outputs is seen at once. When the output is meant
to change (new shipped weights, a deliberate change to sampling or post-processing), run::

    python scripts/update_golden.py

and commit the new reference with the change that explains it.

The command: the real recording ``tests/data/real/mfa_acoustic_corpus.wav`` (2.9 s), seed 0,
the shipped weights (``motion/weights``, not ``$MOTION_WEIGHTS_DIR``), every other option at
its default, one torch thread (sums in the same order on any machine's core count), in a
fresh process (the last bits of float32 results also depend on the thread counts a process
used before: the test runs it in a subprocess too).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AUDIO = REPO / "tests" / "data" / "real" / "mfa_acoustic_corpus.wav"
WEIGHTS = REPO / "motion" / "weights"
GOLDEN = REPO / "tests" / "data" / "golden" / "generate_seed0.npz"
#: Metadata fields that name where things are on this machine, not what was generated.
LOCAL_META = ("audio", "weights")


def golden_args(out: Path) -> list[str]:
    """The ``motion`` command line of the golden output, written to ``out``."""
    return ["generate", str(AUDIO), "-o", str(out), "--seed", "0", "--weights", str(WEIGHTS), "--threads", "1"]


def generate(out: Path) -> Path:
    """Run the golden command in this process; ``out`` (an .npz) is written."""
    from motion.cli import main

    code = main(golden_args(out))
    if code != 0:
        raise SystemExit(f"motion {' '.join(golden_args(out))} failed (exit {code})")
    return out


def main() -> int:
    sys.path.insert(0, str(REPO))  # the checkout's toolkit, whatever is installed
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(generate(Path(tmp) / "golden.npz"), GOLDEN)
    print(f"wrote {GOLDEN.relative_to(REPO)} ({GOLDEN.stat().st_size} bytes): commit it with the change it records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
