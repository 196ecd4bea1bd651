"""Warnings about audio that loads but is probably not what the user meant.

* :func:`truncated_wav` - a WAV whose header declares more samples than the file holds (a
  download or recording cut off): the audio ends early.
* :func:`silence_note` - a recording with (almost) no sound in it: the animation will idle.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

#: Blocks of this many seconds are measured for :func:`silence_note`.
BLOCK_S = 0.1
#: A block louder than this (RMS, dBFS) counts as sound.
SOUND_DBFS = -50.0
#: Recordings with less sound than this (seconds, and fraction of the length) are "silent".
MIN_SOUND_S = 0.5
MIN_SOUND_FRACTION = 0.01


def truncated_wav(path: Path) -> str | None:
    """A sentence if ``path`` is a RIFF/RF64 WAV cut short, else ``None``.

    Reads the chunk headers only: the ``data`` chunk's declared size is compared with the
    bytes after it (a streamed WAV's placeholder sizes ``0`` / ``0xFFFFFFFF`` are skipped).
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
                return None
            rate = block = 0
            big = None
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                cid, n = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"ds64":
                    body = f.read(n + (n & 1))
                    big = struct.unpack("<Q", body[8:16])[0] if len(body) >= 16 else None
                    continue
                if cid == b"data":
                    declared = big if head[:4] == b"RF64" and big is not None else n
                    available = size - f.tell()
                    break
                body = f.read(n + (n & 1))
                if cid == b"fmt " and len(body) >= 14:
                    rate = struct.unpack("<I", body[4:8])[0]
                    block = struct.unpack("<H", body[12:14])[0]
    except OSError:
        return None
    if declared in (0, 0xFFFFFFFF) or declared <= available + max(block, 1):
        return None
    if rate and block:
        return (f"{path} is truncated: its header declares {declared / (rate * block):.2f} s of audio but the file "
                f"holds {available / (rate * block):.2f} s; the end is missing (re-export or re-download it)")
    return (f"{path} is truncated: its header declares {declared} bytes of audio but the file holds {available}; "
            "the end is missing (re-export or re-download it)")


def silence_note(samples: np.ndarray, sr: int, source: str) -> str | None:
    """A sentence if ``samples`` hold (almost) no sound, else ``None`` (one pass, no copy of the signal)."""
    n = max(1, int(round(BLOCK_S * sr)))
    blocks = samples.shape[0] // n
    if blocks == 0:
        return None
    threshold = float(10.0 ** (SOUND_DBFS / 20.0)) ** 2 * n
    loud = 0
    loudest = 0.0
    step = 4096  # blocks per pass: bounded temporary memory
    for b0 in range(0, blocks, step):
        b1 = min(b0 + step, blocks)
        x = samples[b0 * n : b1 * n].reshape(b1 - b0, n)
        energy = np.einsum("ij,ij->i", x, x)
        loud += int((energy > threshold).sum())
        loudest = max(loudest, float(energy.max()))
    sound_s = loud * BLOCK_S
    total_s = blocks * BLOCK_S
    if sound_s >= MIN_SOUND_S and loud >= MIN_SOUND_FRACTION * blocks:
        return None
    level = 10.0 * np.log10(max(loudest / n, 1e-20))
    return (f"{source} is almost silent: {sound_s:.1f} s of its {total_s:.1f} s are above {SOUND_DBFS:g} dBFS "
            f"(loudest {BLOCK_S:g} s at {level:.0f} dBFS); the animation will barely move. Check the recording "
            "(muted microphone? wrong channel?)")
