"""Motion file formats: one reader module per format (``read_<fmt>``; the writers are in
:mod:`motion.export`).

==============  ===========================================================
``beat2``       BEAT2 / EMAGE SMPL-X npz (30 fps, 300 betas, 100 expressions)
``amass``       AMASS SMPL-X npz (often 120 fps; resampled on read)
``amuse``       AMUSE-style npz, poses ``(T, 55, 3)``, no expressions
``flame_params`` EMOTE-style FLAME parameters (.npz / restricted .pkl, 25 fps)
==============  ===========================================================

Use :func:`read_motion` (sniffs the flavour; also reads the BVH / glTF the toolkit exports);
write with :func:`motion.export.export`. Every reader
raises :class:`MotionFormatError` naming the file, the key, and expected vs found.
Only numpy and :mod:`motion.container` are imported here; torch loads only when a
motion is resampled.
"""

from __future__ import annotations

from motion.data.formats.errors import MotionFileNotFoundError, MotionFormatError
from motion.data.formats.registry import FORMATS, format_name, read_motion, sniff_format

__all__ = ["FORMATS", "MotionFileNotFoundError", "MotionFormatError", "format_name", "read_motion", "sniff_format"]
