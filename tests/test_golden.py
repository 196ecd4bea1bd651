"""Golden test: ``motion generate`` (seed 0, the shipped weights, a 2.9 s real recording) gives
the committed reference ``tests/data/golden/generate_seed0.npz`` bit for bit, array by array.

A pure refactor must pass it unchanged. When the output changes on purpose (new weights, a
change to sampling or post-processing), regenerate the reference with
``python scripts/update_golden.py`` and commit it with the change.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("update_golden", REPO / "scripts" / "update_golden.py")
assert _spec is not None and _spec.loader is not None
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

REGENERATE = ("if the output changed on purpose (new weights, a deliberate change to generation), "
              "regenerate the reference: python scripts/update_golden.py, and commit it")


def _meta(text: Any) -> dict[str, Any]:
    """The metadata without the fields that name this machine's paths."""
    meta = json.loads(str(text))
    for key in golden.LOCAL_META:
        meta.pop(key, None)
        meta.get("extra", {}).pop(key, None)
    return meta


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """The golden command in a fresh process, as ``scripts/update_golden.py`` runs it: the last bits of
    a float32 result depend on the thread counts this process's earlier calls used (the math
    libraries keep per-process state), so a test run in the pytest process would depend on the
    tests before it."""
    out = tmp_path_factory.mktemp("golden") / "generate_seed0.npz"
    res = subprocess.run([sys.executable, "-m", "motion", *golden.golden_args(out)], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    with np.load(out, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def test_generate_gives_the_golden_bytes(generated: dict[str, np.ndarray]) -> None:
    assert golden.GOLDEN.is_file(), f"no reference at {golden.GOLDEN}: {REGENERATE}"
    with np.load(golden.GOLDEN, allow_pickle=False) as z:
        reference = {k: z[k] for k in z.files}
    assert sorted(generated) == sorted(reference), f"other arrays than the reference's; {REGENERATE}"
    for key, want in reference.items():
        got = generated[key]
        if key == "motion_meta":
            assert _meta(got) == _meta(want), f"the metadata differs from the reference; {REGENERATE}"
            continue
        assert got.dtype == want.dtype and got.shape == want.shape, \
            f"{key}: {got.dtype}{got.shape}, the reference {want.dtype}{want.shape}; {REGENERATE}"
        if not np.array_equal(got, want):
            diff = got != want
            detail = ""
            if np.issubdtype(want.dtype, np.number):
                detail = f", max |difference| {np.abs(got.astype(np.float64) - want.astype(np.float64)).max():.3g}"
            pytest.fail(f"motion generate (seed 0, shipped weights) no longer gives the reference's {key!r}: "
                        f"{int(diff.sum())} of {diff.size} values differ{detail}; {REGENERATE}")
