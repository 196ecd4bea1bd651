"""One exception base (issue 17): every public exception class of the toolkit is a
:class:`motion.MotionError` and keeps the built-in type callers already catch."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import motion
from motion.errors import MotionError

REPO = Path(__file__).resolve().parents[1]


def _exception_classes() -> list[tuple[str, str]]:
    """``(module, class)`` of every public top-level class in ``motion/`` whose bases look like
    exceptions (a base named ``...Error`` / ``...Exception`` / ``...NotAvailable``)."""
    found = []
    for path in sorted((REPO / "motion").rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
                continue
            bases = [b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases]
            if any(b.endswith(("Error", "Exception", "NotAvailable")) for b in bases):
                found.append((module, node.name))
    return found


CLASSES = _exception_classes()


def test_the_scan_finds_the_toolkit_exceptions() -> None:
    names = {name for _, name in CLASSES}
    assert len(CLASSES) >= 20
    assert {"AudioError", "ExportError", "ModelNotFoundError", "WeightsNotFoundError", "MotionFormatError",
            "CLIError", "EspeakNotAvailable", "UnsafePickleError"} <= names


@pytest.mark.parametrize(("module", "name"), CLASSES, ids=[f"{m}.{n}" for m, n in CLASSES])
def test_public_exception_is_a_motion_error(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    if not issubclass(cls, Exception) or issubclass(cls, Warning):
        pytest.skip(f"{name} is not an error (a warning or a BaseException signal)")
    assert issubclass(cls, MotionError), f"{module}.{name} does not derive from motion.MotionError"


@pytest.mark.parametrize(("module", "name", "builtin"), [
    ("motion.audio.errors", "AudioError", ValueError),
    ("motion.audio.errors", "EmptyAudioError", ValueError),
    ("motion.audio._ffmpeg", "FFmpegError", RuntimeError),
    ("motion.bodymodels.paths", "ModelNotFoundError", FileNotFoundError),
    ("motion.bodymodels.sanitize", "ModelFormatError", ValueError),
    ("motion.pipelines.weights", "WeightsNotFoundError", FileNotFoundError),
    ("motion.models.config", "WeightsFileError", ValueError),
    ("motion.data.formats.errors", "MotionFileNotFoundError", FileNotFoundError),
    ("motion.data.formats.safe_pickle", "UnsafePickleError", __import__("pickle").UnpicklingError),
    ("motion.export.registry", "ExportError", ValueError),
    ("motion.render.scene", "RenderUnavailableError", RuntimeError),
    ("motion.api", "NotBuiltError", NotImplementedError),
    ("motion.threads", "ThreadsError", ValueError),
])
def test_existing_except_clauses_still_catch(module: str, name: str, builtin: type[Exception]) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, builtin) and issubclass(cls, MotionError)


def test_motion_error_is_exported_and_raised() -> None:
    from motion.bodymodels.paths import ModelNotFoundError, resolve_models_dir
    from motion.data.formats.errors import MotionFileNotFoundError

    assert motion.MotionError is MotionError and "MotionError" in motion.__all__
    with pytest.raises(MotionError) as info:
        resolve_models_dir(REPO / "no such folder")
    assert isinstance(info.value, ModelNotFoundError) and isinstance(info.value, FileNotFoundError)
    err = MotionFileNotFoundError("x.npz: no such file", path="x.npz")  # errno / filename as before
    assert err.errno == 2 and err.filename == "x.npz" and str(err) == "x.npz: no such file"


def test_motion_error_import_is_light() -> None:
    """``motion.MotionError`` loads without torch (the package stays light for ``--help``)."""
    code = "import sys, motion; motion.MotionError; assert 'torch' not in sys.modules, 'torch imported'"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
