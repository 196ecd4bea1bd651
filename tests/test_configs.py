"""The training configs (configs/): every runnable file resolves with `motion fit --print_config`
(in-process, the CLI's own include mechanism) and the layout rules of configs/README.md hold:
includes at most two deep, complete stage files, and children that list only differences and
never undo what their parent chose."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
BASE = CONFIGS / "trainer" / "default.yaml"  # what every stage file includes
GROUPS = ("trainer", "model", "data", "optimizer", "lr_scheduler")  # LightningCLI's config groups
RUNNABLE = sorted(p for d in ("body", "face", "demo") for p in (CONFIGS / d).glob("*.yaml"))
CHILDREN = [p for p in RUNNABLE if yaml.safe_load(p.read_text()).get("config") != "../trainer/default.yaml"]
_FLOAT = re.compile(r"[-+]?\d+(\.\d*)?[eE][-+]?\d+")  # 1.0e6: a float to the CLI, a string to PyYAML


def _name(path: Path) -> str:
    return str(path.relative_to(CONFIGS))


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys -> leaves (dicts by key, lists of dicts by index, other lists whole)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}.{i}", out)
    else:
        out[prefix] = float(value) if isinstance(value, str) and _FLOAT.fullmatch(value) else value
    return out


def _parent(path: Path) -> Path | None:
    inc = _load(path).get("config")
    return (path.parent / inc).resolve() if inc else None


def _chain(path: Path) -> list[Path]:
    """``path`` and the files it includes with ``config:``, nearest first."""
    out = [path.resolve()]
    while (p := _parent(out[-1])) is not None:
        assert p not in out, f"{_name(path)}: include loop"
        out.append(p)
    return out


def _own(path: Path) -> dict[str, Any]:
    """What the file itself sets (a group given as a file: that file's settings), flattened."""
    out: dict[str, Any] = {}
    for key, value in _load(path).items():
        if key == "config":
            continue
        if key in GROUPS and isinstance(value, str) and value.endswith((".yaml", ".yml")):
            value = _load(path.parent / value)
        _flatten(value, key, out)
    return out


def _explicit(path: Path) -> dict[str, Any]:
    """Every setting the file and the files it includes write down (the nearest file wins)."""
    out: dict[str, Any] = {}
    for p in reversed(_chain(path)):
        out.update(_own(p))
    return out


@cache
def _resolved(path: Path) -> dict[str, Any]:
    """The CLI's resolved config (``motion fit --config path --print_config``), flattened."""
    from motion.training.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["fit", "--config", str(path), "--print_config"])
    assert rc == 0, f"{_name(path)} does not resolve:\n{err.getvalue()[-3000:]}"
    return _flatten(yaml.safe_load(out.getvalue()), "", {})


def _import(class_path: str) -> Any:
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _same(key: str, a: Any, b: Any) -> bool:
    if key.endswith("class_path") and isinstance(a, str) and isinstance(b, str):
        return _import(a) is _import(b)  # the CLI prints the shortest import path
    return a == b


def test_layout() -> None:
    """Folders: trainer/ and data/ hold groups (included, never run), body/ face/ demo/ what is run."""
    found = {_name(p) for p in CONFIGS.rglob("*.yaml")}
    assert {n.split("/")[0] for n in found} == {"trainer", "data", "body", "face", "demo"}, found
    for p in [*CONFIGS.glob("data/*.yaml"), *CONFIGS.glob("trainer/*.yaml")]:
        assert "config" not in _load(p), f"{_name(p)}: a group file includes nothing"
    assert set(_load(BASE)) == {"trainer"}


@pytest.mark.parametrize("path", RUNNABLE, ids=_name)
def test_includes_at_most_two_deep(path: Path) -> None:
    chain = _chain(path)
    assert len(chain) - 1 <= 2, f"{_name(path)} includes {len(chain) - 1} deep: {[_name(p) for p in chain]}"
    assert chain[-1] == BASE.resolve(), f"{_name(path)}: the chain ends at {_name(chain[-1])}, not trainer/default.yaml"


@pytest.mark.parametrize("path", [p for p in RUNNABLE if p not in CHILDREN], ids=_name)
def test_stage_files_are_complete(path: Path) -> None:
    """A stage file (in body/ or face/, including only the trainer) names its model, its data and its run folder."""
    assert path.parent.name in ("body", "face"), f"{_name(path)}: demo files include a stage file"
    own = _own(path)
    for key in ("model.class_path", "data.class_path", "trainer.default_root_dir"):
        assert key in own, f"{_name(path)} does not set {key}"


@pytest.mark.parametrize("path", CHILDREN, ids=_name)
def test_children_never_undo_their_parent(path: Path) -> None:
    """The rule of configs/README.md: a child never sets to null what its parent (with everything the
    parent includes) sets explicitly, and never swaps a class_path the parent sets."""
    parent = _explicit(_parent(path))  # type: ignore[arg-type]
    undone = []
    for key, value in _own(path).items():
        if value is None and (parent.get(key) is not None or any(k.startswith(key + ".") for k in parent)):
            undone.append(f"{key}: {parent.get(key, '...')!r} -> null")
        elif key.endswith("class_path") and key in parent and not _same(key, parent[key], value):
            undone.append(f"{key}: {parent[key]} -> {value}")
    assert not undone, f"{_name(path)} undoes its parent {_name(_parent(path))}: {undone}"  # type: ignore[arg-type]


@pytest.mark.parametrize("path", CHILDREN, ids=_name)
def test_children_list_only_differences(path: Path) -> None:
    parent = _resolved(_parent(path))  # type: ignore[arg-type]
    same = [k for k, v in _own(path).items() if k in parent and _same(k, parent[k], v)]
    assert not same, f"{_name(path)} repeats what its parent resolves to: {same}"


@pytest.mark.parametrize("path", RUNNABLE, ids=_name)
def test_every_written_setting_reaches_the_cli(path: Path) -> None:
    """Every runnable config resolves, and every setting its files write down is in the resolved
    config. This also catches a group given as a file and overridden field by field in the same
    file, which the CLI resolves by silently dropping one of the two."""
    resolved, lost = _resolved(path), []
    for key, value in _explicit(path).items():
        if key not in resolved or not _same(key, resolved[key], value):
            lost.append(f"{key}: {value!r} -> {resolved.get(key, 'missing')!r}")
    assert not lost, f"{_name(path)}: settings the CLI does not resolve as written: {lost}"


def test_mel_decoder_is_the_decoder_but_for_its_input() -> None:
    """face_decoder_mel.yaml is complete in itself (as a child it would null the speech encoder):
    it must stay face_decoder.yaml but for the speech input and the run folder."""
    mel, content = _explicit(CONFIGS / "face/face_decoder_mel.yaml"), _explicit(CONFIGS / "face/face_decoder.yaml")
    inputs = {f"model.init_args.{k}" for k in ("audio_input", "speech_encoder_export", "audio_dim")}
    differ = {k for k in mel.keys() | content.keys() if mel.get(k, "?") != content.get(k, "?")}
    assert differ == inputs | {"trainer.default_root_dir"}, differ
    assert mel["model.init_args.speech_encoder_export"] is None and mel["model.init_args.audio_input"] == "log_mel"


def test_make_weights_runs_existing_configs() -> None:
    """`make weights` names configs that exist (DEMO_STAGES and the other demo stages it runs)."""
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    paths = set(re.findall(r"configs/[\w/]+\.yaml", text))
    stages = re.search(r"^DEMO_STAGES\s*:=(.*)$", text, re.M)
    assert stages is not None
    loops = re.findall(r"for s in ([\w ]+?); do [^\n]*configs/demo/\$\$s\.yaml", text)
    names = stages.group(1).split() + [s for loop in loops for s in loop.split()]
    assert names and paths
    missing = sorted(p for p in paths | {f"configs/demo/{n}.yaml" for n in names} if not (REPO / p).is_file())
    assert not missing, missing
