"""Build (and validate) the extension zip: ``python blender_addon/build.py [--output-dir DIR]``.

Uses Blender's own extension builder, the equivalent of ``blender --command extension build``:
the ``blender_ext.py`` tool that ships inside the ``bpy`` module (``bpy/<version>/scripts/
addons_core/bl_pkg/cli/blender_ext.py``, a plain Python script: ``bpy`` is not imported), or
a ``blender`` executable (>= 4.2) given with ``--blender`` or found on ``PATH``. Writes
``motion_speech-<version>.zip`` (default folder: ``blender_addon/dist``) and prints its path.

The extension is built from a staged copy: ``motion_speech/`` plus the toolkit's modules that
the add-on shares (:data:`SHARED`: the character rig, the frame-rate resampling and the floor height, numpy
and ``bpy`` only), copied in at build time, so the add-on runs the toolkit's own code without the
toolkit importing the add-on or anyone keeping a copy by hand. ``--stage DIR`` writes only the
staged package, ``DIR/motion_speech`` (to run the add-on from a source checkout).
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "motion_speech"
DEFAULT_OUT = HERE / "dist"
REPO = HERE.parent
#: Module of the add-on package -> the toolkit file it is a copy of (self-contained: numpy at
#: module level, ``bpy`` inside functions, no toolkit import).
SHARED: dict[str, Path] = {
    "rig.py": REPO / "motion" / "export" / "blender_rig.py",
    "resample.py": REPO / "motion" / "resample.py",
    "floor.py": REPO / "motion" / "export" / "floor.py",
    "smplx_names.py": REPO / "motion" / "smplx_names.py",
}


def stage(dest: Path) -> Path:
    """Write the add-on package with its shared modules to ``dest/motion_speech``; returns it.

    Raises:
        FileNotFoundError: a shared module is missing from the toolkit.
        RuntimeError: the add-on source holds a module of a shared name (a copy by hand).
    """
    clash = sorted(name for name in SHARED if (SOURCE / name).exists())
    if clash:
        raise RuntimeError(f"{SOURCE} holds {clash}: these come from the toolkit at build time ({SHARED})")
    missing = [str(p) for p in SHARED.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"the toolkit modules the add-on shares are missing: {missing}")
    pkg = Path(dest).resolve() / SOURCE.name
    if pkg.exists():
        shutil.rmtree(pkg)
    shutil.copytree(SOURCE, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name, src in SHARED.items():
        shutil.copyfile(src, pkg / name)
    return pkg


def find_blender_ext() -> Path | None:
    """``blender_ext.py`` inside the installed ``bpy`` module, or ``None``."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        for cand in sorted(Path(root).glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py")):
            return cand
    return None


def builder_command(blender: str | None = None) -> list[str]:
    """The command prefix that runs Blender's extension tool (before ``build`` / ``validate``).

    Raises:
        FileNotFoundError: neither the ``bpy`` module nor a ``blender`` executable is available.
    """
    if blender:
        return [blender, "--factory-startup", "--command", "extension"]
    tool = find_blender_ext()
    if tool is not None:
        return [sys.executable, str(tool)]
    exe = shutil.which("blender")
    if exe:
        return [exe, "--factory-startup", "--command", "extension"]
    raise FileNotFoundError("Blender's extension builder was not found: pip install bpy==4.2.* (Python 3.11) "
                            "or pass --blender /path/to/blender (4.2 or newer)")


def build(output_dir: Path = DEFAULT_OUT, blender: str | None = None) -> Path:
    """Validate and build the extension; returns the zip's path.

    Raises:
        RuntimeError: validation or the build failed (with the builder's output).
    """
    cmd = builder_command(blender)
    output_dir = Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="motion_speech_stage_") as tmp:
        staged = stage(Path(tmp))
        res = subprocess.run(cmd + ["validate", str(staged)], capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"the manifest does not validate:\n{res.stdout}{res.stderr}")
        before = set(output_dir.glob("*.zip"))
        res = subprocess.run(cmd + ["build", "--source-dir", str(staged), "--output-dir", str(output_dir)],
                             capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"the build failed:\n{res.stdout}{res.stderr}")
    version = next(line.split("=", 1)[1].strip().strip('"') for line in
                   (SOURCE / "blender_manifest.toml").read_text().splitlines() if line.startswith("version"))
    out = output_dir / f"motion_speech-{version}.zip"
    if not out.is_file():
        new = sorted(set(output_dir.glob("*.zip")) - before)
        if not new:
            raise RuntimeError(f"the builder wrote no zip in {output_dir}:\n{res.stdout}")
        out = new[-1]
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--output-dir", type=Path, default=DEFAULT_OUT, help=f"where the zip goes (default {DEFAULT_OUT})")
    p.add_argument("--blender", default=None, help="a blender executable (>= 4.2) to build with")
    p.add_argument("--stage", type=Path, default=None, metavar="DIR",
                   help="only write the package with its shared modules to DIR/motion_speech (no zip)")
    args = p.parse_args(argv)
    try:
        print(stage(args.stage) if args.stage is not None else build(args.output_dir, args.blender))
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
