"""Architecture (issue 17): inference stands alone, and the package has no import circles.

* ``motion generate`` runs with only the base install: neither Lightning nor the training code
  (:mod:`motion.training`) is imported on the generate path (a subprocess that blocks them).
* The import graph of ``motion`` (from the source, by the AST: every ``import`` / ``from``
  statement anywhere in a module, at module level, in functions or under ``TYPE_CHECKING``,
  and ``importlib.import_module("motion....")`` with a literal name) has no cycle, and no arrow
  from the inference side (models, pipelines, metrics, export, render, the API) into training,
  directly or through other modules; a few layering arrows that once pointed up stay gone.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "motion"
CLIP = REPO / "tests/data/real/mfa_acoustic_corpus.wav"

#: Top-level packages of the ``train`` extra, and the toolkit's training code.
BLOCKED_PACKAGES = ("pytorch_lightning", "lightning", "lightning_fabric")
BLOCKED_MOTION = "motion.training"

_BLOCKER = f"""
import importlib.abc, sys

class _NoTraining(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED_PACKAGES!r} or (name + ".").startswith({BLOCKED_MOTION!r} + "."):
            raise ImportError(f"blocked for this test: {{name}} (inference must not need it)")
        return None

for _name in list(sys.modules):
    if _name.split(".")[0] in {BLOCKED_PACKAGES!r}:
        raise SystemExit(f"{{_name}} was imported before the blocker")
sys.meta_path.insert(0, _NoTraining())
"""


def test_blocker_blocks() -> None:
    """The blocker itself works: with it, importing Lightning or the training code fails."""
    for name in ("pytorch_lightning", "motion.training.flint_module"):
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


# --------------------------------------------------------------------------- import graph
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The deepest module or package of the repo that ``name`` (dotted) lies in, or None."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def _imported_names(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """``(absolute dotted name, line)`` of everything ``module`` imports, anywhere in it; for
    ``from X import a`` both ``X.a`` (a submodule, if it is one) and ``X``."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            yield source, node.lineno
            for alias in node.names:
                if alias.name != "*":
                    yield f"{source}.{alias.name}", node.lineno
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"):
            yield node.args[0].value, node.lineno


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: first line}. Importing ``a.b.c`` also runs the packages
    ``a`` and ``a.b``: those are arrows too, except to the importer's own enclosing packages
    (already being imported when its code runs)."""
    modules = _modules()
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
        edges: dict[str, int] = {}
        for name, line in _imported_names(module, path):
            target = _resolve(name, modules)
            if target is None:
                continue
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                t = ".".join(parts[:i])
                if t in modules and t != module and t not in own:
                    edges.setdefault(t, line)
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected component of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles = []
    for comp in components:  # a shortest cycle through the component's first module
        members, start = set(comp), min(comp)
        prev: dict[str, str] = {}
        frontier, found = [start], None
        while frontier and found is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v]):
                    if w == start:
                        found = v
                        break
                    if w in members and w not in prev and w != start:
                        prev[w] = v
                        nxt.append(w)
                if found is not None:
                    break
            frontier = nxt
        path = [start]
        v = found
        while v is not None and v != start:
            path.append(v)
            v = prev.get(v)
        cycles.append([start] + path[1:][::-1] + [start])
    return cycles


def _describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    return " -> ".join(f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])) + f" -> {cycle[-1]}"


def test_import_graph_is_built_from_the_source() -> None:
    """The graph sees imports in functions, relative imports and package arrows."""
    graph = import_graph()
    assert "motion.container" in graph["motion.pipelines.face_smoothing"]  # module level
    assert "motion.synthetic.tts.phonemes" in graph["motion.pipelines.lip_closure"]  # inside a function
    assert "motion.models.face.flint" in graph["motion.pipelines.face"]  # inside a method
    assert "motion.bodymodels" in graph["motion.container"]  # the package of a lazily imported module
    assert find_cycles({"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}) == [["a", "b", "c", "a"]]


def test_no_import_cycles() -> None:
    graph = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles in motion:\n" + "\n".join(_describe(c, graph) for c in cycles)


#: The inference side: it must not reach the training code (nor Lightning, which only it imports).
INFERENCE = ("motion.api", "motion.models", "motion.pipelines", "motion.metrics", "motion.export", "motion.render")


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_inference_does_not_import_training() -> None:
    graph = import_graph()
    direct = [f"{a} -> {b} (line {line})" for a in sorted(graph) if _within(a, INFERENCE)
              for b, line in sorted(graph[a].items()) if _within(b, ("motion.training",))]
    assert not direct, "inference imports training:\n" + "\n".join(direct)
    for start in sorted(m for m in graph if _within(m, INFERENCE)):  # nor through other modules
        prev: dict[str, str] = {start: ""}
        todo = [start]
        while todo:
            v = todo.pop()
            for w in graph[v]:
                if w not in prev:
                    prev[w] = v
                    todo.append(w)
        reached = sorted(m for m in prev if _within(m, ("motion.training",)))
        if reached:
            chain, v = [], reached[0]
            while v:
                chain.append(v)
                v = prev[v]
            pytest.fail(f"{start} reaches training: " + " <- ".join(chain))


#: Arrows that point the wrong way (a lower layer importing a higher one); each once existed.
FORBIDDEN = {
    "motion.bodymodels": ("motion.container", "motion.data", "motion.synthetic", "motion.models", "motion.metrics",
                          "motion.pipelines", "motion.export", "motion.render", "motion.training"),
    "motion.models": ("motion.data", "motion.synthetic.corpus", "motion.metrics", "motion.pipelines", "motion.export",
                      "motion.render", "motion.training", "motion.api", "motion.demo"),
    "motion.audio": ("motion.pipelines", "motion.metrics", "motion.export", "motion.render", "motion.training",
                     "motion.api", "motion.demo"),
    "motion.data": ("motion.pipelines", "motion.metrics", "motion.render", "motion.api", "motion.demo"),
    # the synthetic corpus writes with export/ and is read by data/; it generates, it does not infer or train
    "motion.synthetic.corpus": ("motion.pipelines", "motion.metrics", "motion.render", "motion.api", "motion.demo",
                                "motion.training"),
    # every writer is in export/, every reader in data/formats/ (which may use export's layouts)
    "motion.export": ("motion.data", "motion.synthetic", "motion.pipelines", "motion.metrics", "motion.render",
                      "motion.api", "motion.demo"),
    "motion.render": ("motion.demo",),
    "motion.resample": ("motion.container",),
    "motion.synthetic.tts": ("motion.data", "motion.synthetic.corpus", "motion.pipelines", "motion.metrics",
                             "motion.models"),
}


def test_layering() -> None:
    graph = import_graph()
    wrong = [f"{a} -> {b} (line {line})" for a in sorted(graph) for low, high in FORBIDDEN.items() if _within(a, (low,))
             for b, line in sorted(graph[a].items()) if _within(b, high)]
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


# --------------------------------------------------------------------------- one of each core
def test_one_skeleton_forward_kinematics() -> None:
    """The metrics and the synthetic corpus share one numpy FK and one ``UPPER_BODY``."""
    from motion.bodymodels import kinematics
    from motion.synthetic.corpus import skeleton as corpus
    from motion.metrics import body as metrics
    from motion.types import UPPER_BODY

    assert metrics.UPPER_BODY is UPPER_BODY and corpus.UPPER_BODY is UPPER_BODY
    assert corpus.global_rotations is kinematics.global_rotations
    g = np.random.default_rng(0)
    poses, trans = g.normal(0.0, 0.4, (20, 55, 3)), g.normal(0.0, 1.0, (20, 3))
    ref = kinematics.skeleton_forward_kinematics(poses, trans)
    assert np.array_equal(metrics.joint_positions(poses, trans), ref)
    assert np.array_equal(corpus.forward_kinematics(poses, trans), ref)  # the same stand-in rest joints
    rest = np.zeros((55, 3))
    assert np.array_equal(kinematics.skeleton_forward_kinematics(poses, None, rest), np.zeros((20, 55, 3)))
