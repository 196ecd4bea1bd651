"""Build (and validate) the extension zip: ``python blender_addon/build.py [--output-dir DIR]``.

Uses Blender's own extension builder, the equivalent of ``blender --command extension build``:
the ``blender_ext.py`` tool that ships inside the ``bpy`` module (``bpy/<version>/scripts/
addons_core/bl_pkg/cli/blender_ext.py``, a plain Python script: ``bpy`` is not imported), or
a ``blender`` executable (>= 4.2) given with ``--blender`` or found on ``PATH``. Writes
``motion_speech-<version>.zip`` (default folder: ``blender_addon/dist``) and prints its path.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "motion_speech"
DEFAULT_OUT = HERE / "dist"


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
    res = subprocess.run(cmd + ["validate", str(SOURCE)], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"the manifest does not validate:\n{res.stdout}{res.stderr}")
    before = set(output_dir.glob("*.zip"))
    res = subprocess.run(cmd + ["build", "--source-dir", str(SOURCE), "--output-dir", str(output_dir)],
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
    args = p.parse_args(argv)
    try:
        print(build(args.output_dir, args.blender))
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
