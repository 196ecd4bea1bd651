"""Architecture (issue 17): inference stands alone.

``motion generate`` runs with only the base install: neither Lightning nor the training code
(:mod:`motion.training`) is imported on the generate path.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "tests/data/real/mfa_acoustic_corpus.wav"

#: Top-level packages of the ``train`` extra, and the toolkit's training code.
BLOCKED_PACKAGES = ("pytorch_lightning", "lightning", "lightning_fabric")
BLOCKED_MOTION = "motion.training"

_BLOCKER = f"""
import importlib.abc, sys

class _NoTraining(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED_PACKAGES!r} or name == {BLOCKED_MOTION!r} or name.startswith({BLOCKED_MOTION!r} + "."):
            raise ImportError(f"blocked for this test: {{name}} (inference must not need it)")
        return None

for _name in list(sys.modules):
    if _name.split(".")[0] in {BLOCKED_PACKAGES!r}:
        raise SystemExit(f"{{_name}} was imported before the blocker")
sys.meta_path.insert(0, _NoTraining())
"""


def test_blocker_blocks() -> None:
    """The blocker itself works: with it, importing Lightning or the training code fails."""
    for name in ("pytorch_lightning", "motion.training.face_prior"):
        res = subprocess.run([sys.executable, "-c", _BLOCKER + f"\nimport {name}\n"],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode != 0 and "blocked for this test" in res.stderr, res.stderr[-2000:]


def test_generate_without_lightning_or_training(tmp_path: Path) -> None:
    """``motion generate`` (body and face, the shipped weights) on a real speech clip succeeds in
    a process where importing Lightning or :mod:`motion.training` raises ImportError."""
    out = tmp_path / "clip.npz"
    code = _BLOCKER + f"""
from motion.cli import main
rc = main(["generate", {str(CLIP)!r}, "-o", {str(out)!r}, "--seed", "0"])
leaked = sorted(n for n in sys.modules if n.split(".")[0] in {BLOCKED_PACKAGES!r} or n.startswith({BLOCKED_MOTION!r}))
assert not leaked, leaked
sys.exit(rc)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, f"generate failed without Lightning / motion.training:\n{res.stderr[-4000:]}"
    with np.load(out, allow_pickle=True) as z:
        assert z["poses"].shape[0] > 30 and z["expressions"].shape == (z["poses"].shape[0], 100)
        assert np.abs(z["expressions"]).max() > 0  # the face was generated, not left neutral
