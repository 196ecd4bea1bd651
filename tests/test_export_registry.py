"""The exporter registry: format choice, destination checks, NaN refusal, atomic writes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from motion.container import Motion
from motion.export import (
    EXPORTERS,
    ExportError,
    export,
    known_suffixes,
    register_exporter,
    resolve_format,
)


def _motion(T: int = 8) -> Motion:
    t = np.arange(T) / 30.0
    m = Motion.zeros(T, num_expressions=10)
    m.poses[:, 1, 0] = 0.3 * np.sin(2 * np.pi * t)
    m.trans[:, 2] = 0.1 * t
    return m


@pytest.fixture
def scratch_format() -> Iterator[list[Path]]:
    """Register a ``.tst`` format that records its paths; removed afterwards."""
    calls: list[Path] = []

    def write(motion: Motion, path: Path, **opts: Any) -> None:
        calls.append(path)
        path.write_text(f"{motion.num_frames} {opts}")

    def fail(motion: Motion, path: Path, **opts: Any) -> None:
        path.write_bytes(b"half a file")
        raise RuntimeError("writer crashed half-way")

    register_exporter("tst", (".tst",), write, "test format")
    register_exporter("tstfail", (".tstfail",), fail, "failing test format")
    yield calls
    EXPORTERS.pop("tst")
    EXPORTERS.pop("tstfail")


def test_import_is_light() -> None:
    code = "import sys, motion.export; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_known_formats_and_suffix_choice() -> None:
    assert {".npz", ".bvh", ".glb", ".gltf"} <= set(known_suffixes())
    assert resolve_format("a.npz").name == "beat2"
    assert resolve_format("a.NPZ", "amass").name == "amass"
    assert resolve_format("a.bvh").name == "bvh"
    assert resolve_format("a.glb").name == "glb"
    assert resolve_format("a.gltf").name == "gltf"
    assert resolve_format("a", "glb").name == "glb"


def test_unknown_suffix_lists_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as err:
        export(_motion(), tmp_path / "clip.xyz")
    msg = str(err.value)
    assert "'.xyz'" in msg
    for sfx in (".npz", ".bvh", ".glb", ".gltf"):
        assert sfx in msg
    with pytest.raises(ExportError, match="unknown export format"):
        export(_motion(), tmp_path / "clip.npz", format="nope")
    with pytest.raises(ExportError, match="writes .glb"):
        export(_motion(), tmp_path / "clip.bvh", format="glb")
    with pytest.raises(ExportError, match="no option 'unitz'.*units"):
        export(_motion(), tmp_path / "clip.bvh", unitz="m")
    assert list(tmp_path.iterdir()) == []


def test_picks_by_suffix_and_format(tmp_path: Path, scratch_format: list[Path]) -> None:
    out = export(_motion(), tmp_path / "a.tst", flag=1)
    assert out == tmp_path / "a.tst" and out.read_text() == "8 {'flag': 1}"
    out = export(_motion(), tmp_path / "b", format="tst")  # suffix added from the format
    assert out == tmp_path / "b.tst" and out.exists()
    # the writer saw an unnamed file (/proc/PID/fd/N) or, without O_TMPFILE, a hidden one beside the destination
    assert all(str(p).startswith("/proc/") or (p.parent == tmp_path and p.name.startswith("."))
               for p in scratch_format)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tst", "b.tst"]
    with pytest.raises(ExportError, match="file exists"):
        export(_motion(), out, overwrite=False)


@pytest.mark.parametrize("where", ["missing_parent", "parent_is_file", "dest_is_dir"])
def test_unwritable_destination(tmp_path: Path, where: str, scratch_format: list[Path]) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    (tmp_path / "adir.tst").mkdir()
    dest = {
        "missing_parent": tmp_path / "no" / "such" / "a.tst",
        "parent_is_file": blocker / "a.tst",
        "dest_is_dir": tmp_path / "adir.tst",
    }[where]
    with pytest.raises(ExportError, match="cannot write"):
        export(_motion(), dest)
    assert scratch_format == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir.tst", "blocker"]


def test_nan_motion_is_refused(tmp_path: Path, scratch_format: list[Path]) -> None:
    m = _motion()
    m.poses[3, 5, 1] = np.nan
    with pytest.raises(ExportError, match="NaN") as err:
        export(m, tmp_path / "a.tst")
    assert isinstance(err.value, ValueError) and "frame 3" in str(err.value)
    m = _motion()
    m.trans[0, 0] = np.inf
    with pytest.raises(ExportError, match="trans"):
        export(m, tmp_path / "b.npz")
    assert scratch_format == [] and list(tmp_path.iterdir()) == []


def test_failed_writer_leaves_no_partial_file(tmp_path: Path, scratch_format: list[Path]) -> None:
    dest = tmp_path / "a.tstfail"
    with pytest.raises(RuntimeError, match="half-way"):
        export(_motion(), dest)
    assert list(tmp_path.iterdir()) == []
    dest.write_text("previous")  # an existing file survives a failed export untouched
    with pytest.raises(RuntimeError):
        export(_motion(), dest)
    assert dest.read_text() == "previous" and list(tmp_path.iterdir()) == [dest]


def test_npz_round_trip(tmp_path: Path) -> None:
    from motion.data.formats import read_motion, sniff_format

    m = _motion(12)
    m.expression[:, 2] = np.linspace(0, 1, 12)
    a = export(m, tmp_path / "clip.npz", models_dir=None)  # mesh-format options are ignored
    assert sniff_format(a) == "beat2"
    back = read_motion(a, fps=None)
    np.testing.assert_allclose(back.poses, m.poses, atol=1e-7)
    np.testing.assert_allclose(back.trans, m.trans, atol=1e-7)
    np.testing.assert_allclose(back.expression[:, :10], m.expression, atol=1e-7)
    b = export(m, tmp_path / "clip_amass.npz", format="amass", fps=60)
    assert sniff_format(b) == "amass"
    back = read_motion(b, fps=None)
    assert back.fps == 60 and back.num_frames == 24
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.npz", "clip_amass.npz"]
