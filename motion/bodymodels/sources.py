"""Where model files come from: the licensed downloads, the toolkit's cache folder, and the
marker of a stand-in folder generated into it.

The base of :mod:`motion.bodymodels.paths` (which resolves a models folder, falling back to the
stand-in) and of :mod:`motion.bodymodels.standin` / :mod:`~motion.bodymodels.sanitize` (which
write into the cache); it imports nothing heavy.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_CACHE_DIR = "MOTION_CACHE_DIR"
SMPLX_URL = "https://smpl-x.is.tue.mpg.de"
FLAME_URL = "https://flame.is.tue.mpg.de"
#: Marker file that identifies a generated stand-in folder.
STANDIN_MARKER = "STANDIN.txt"


def cache_root() -> Path:
    """Cache folder of the toolkit: ``$MOTION_CACHE_DIR`` or ``~/.cache/motion``."""
    env = os.environ.get(ENV_CACHE_DIR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "motion"


def is_standin(root: str | os.PathLike[str]) -> bool:
    """True when ``root`` is a generated stand-in folder."""
    return (Path(root) / STANDIN_MARKER).is_file()
