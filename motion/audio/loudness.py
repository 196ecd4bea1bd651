"""Loudness normalisation of speech (ITU-R BS.1770-4 / EBU R 128), streamed.

Every model of the toolkit reads speech after :func:`normalize_loudness`, so the recording
level, the microphone gain and the number of channels do not change what the models hear.

Integrated loudness (BS.1770-4, Sec. 2):

* K-weighting: a high-shelf (+4 dB above ~1.7 kHz, the head) then a high-pass (RLB,
  ~38 Hz); the coefficients are pyloudnorm's ``Meter(sr)`` filters at the signal's rate;
* mean square ``z_j`` of 400 ms blocks with 75 % overlap (eq. 1): here the mean of four
  consecutive 100 ms hops, so the signal is filtered and summed chunk by chunk with the
  filter state carried over (memory does not grow with the length);
* block loudness ``l_j = -0.691 + 10 log10 z_j`` (eq. 4); gating: blocks above -70 LUFS
  (absolute gate), then blocks within 10 LU of their mean (relative gate, eq. 6-7), which
  keeps the speech and drops pauses and breaths; loudness = -0.691 + 10 log10 mean(z_j).

Mono only (the toolkit down-mixes first); equal to ``pyloudnorm.Meter(sr).integrated_loudness``
to float precision (tested). Clips shorter than one block are measured as one block.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np

from motion.audio.io import Audio

#: Loudness every model input is brought to (LUFS). The synthetic corpus spans -26.5 to
#: -17.3 LUFS (5th-95th percentile; sad is quietest at -26.0 on average, angry loudest at
#: -18.0) with a median of -21.6: the demo weights, trained before normalisation, hear
#: speech at about the level they were trained on.
TARGET_LUFS: float = -22.0
#: BS.1770-4 gates.
ABSOLUTE_GATE_LUFS: float = -70.0
RELATIVE_GATE_LU: float = -10.0
#: Block and hop (s): 400 ms blocks, 75 % overlap.
BLOCK_S: float = 0.4
HOP_S: float = 0.1
#: Gain limits (dB): a near-silent file is not blown up into its noise floor by more.
MAX_GAIN_DB: float = 50.0
#: Samples filtered at once.
CHUNK_SAMPLES: int = 1 << 18


@dataclass(frozen=True)
class LoudnessInfo:
    """What :func:`normalize_loudness` measured and did.

    Attributes:
        lufs: integrated loudness of the input (LUFS); ``-inf`` when every block is below
            the absolute gate (silence).
        gain_db: gain applied (dB); 0 for silence.
        target_lufs: the level asked for.
    """

    lufs: float
    gain_db: float
    target_lufs: float


def _k_weighting(sr: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(b, a), ...]`` K-weighting biquads at ``sr`` (pyloudnorm's, BS.1770-4 Table 1-2)."""
    import pyloudnorm

    meter = pyloudnorm.Meter(sr)  # the filters are built for this rate
    return [(np.asarray(f.b, np.float64) * f.passband_gain, np.asarray(f.a, np.float64))
            for f in meter._filters.values()]


def hop_mean_squares(samples: np.ndarray, sr: int, chunk: int = CHUNK_SAMPLES) -> np.ndarray:
    """``(H,)`` float64 mean square of the K-weighted signal per 100 ms hop.

    Hop ``k`` covers samples ``[k h, (k + 1) h)``, ``h = round(0.1 sr)``; the partial last
    hop is dropped (as the block grid of BS.1770 drops it).
    """
    from scipy.signal import lfilter, lfilter_zi

    from motion.audio._stream import samples_or_array

    x = samples_or_array(samples)  # on-disk samples are read chunk by chunk
    hop = int(round(HOP_S * sr))
    n_hops = x.shape[0] // hop
    out = np.zeros(n_hops, np.float64)
    filters = _k_weighting(sr)
    states = [lfilter_zi(b, a) * 0.0 for b, a in filters]
    chunk = max(hop, chunk - chunk % hop)
    for start in range(0, n_hops * hop, chunk):
        y = x[start:min(start + chunk, n_hops * hop)].astype(np.float64)
        for i, (b, a) in enumerate(filters):
            y, states[i] = lfilter(b, a, y, zi=states[i])
        k0 = start // hop
        out[k0:k0 + y.shape[0] // hop] = np.mean(y.reshape(-1, hop) ** 2, axis=1)
    return out


def integrated_loudness(samples: np.ndarray, sr: int) -> float:
    """BS.1770-4 gated loudness (LUFS) of a mono signal ``(N,)``; ``-inf`` for silence.

    On-disk samples (:func:`motion.audio.io.open_audio`) are read chunk by chunk. Of an
    :class:`~motion.audio.io.Audio`, :func:`audio_loudness` measures it once."""
    from motion.audio._stream import samples_or_array

    x = samples_or_array(samples)
    if x.ndim != 1:
        raise ValueError(f"integrated_loudness takes mono (N,) samples, got shape {x.shape}")
    hops_per_block = int(round(BLOCK_S / HOP_S))
    z_hop = hop_mean_squares(x, sr)
    if z_hop.shape[0] >= hops_per_block:
        kernel = np.ones(hops_per_block) / hops_per_block
        z = np.convolve(z_hop, kernel, mode="valid")  # (J,) 400 ms blocks every 100 ms
    else:  # shorter than one block: the whole clip is one block
        from scipy.signal import lfilter

        y = np.asarray(x, np.float64)
        for b, a in _k_weighting(sr):
            y = lfilter(b, a, y)
        z = np.array([np.mean(y**2)]) if y.size else np.zeros(0)
    with np.errstate(divide="ignore"):
        lj = -0.691 + 10.0 * np.log10(z)
    gated = z[lj >= ABSOLUTE_GATE_LUFS]
    if gated.size == 0:
        return -math.inf
    rel = -0.691 + 10.0 * math.log10(float(gated.mean())) + RELATIVE_GATE_LU
    keep = z[(lj > rel) & (lj > ABSOLUTE_GATE_LUFS)]
    return -0.691 + 10.0 * math.log10(float(keep.mean()))


#: The loudness of each :class:`~motion.audio.io.Audio` measured so far (an Audio's samples never
#: change; entries go with their Audio).
_MEASURED: weakref.WeakKeyDictionary[Audio, float] = weakref.WeakKeyDictionary()


def audio_loudness(audio: Audio) -> float:
    """:func:`integrated_loudness` of ``audio``, measured once per Audio: the speech features and
    the lip-event detector both bring the same recording to the target level."""
    lufs = _MEASURED.get(audio)
    if lufs is None:
        lufs = _MEASURED[audio] = integrated_loudness(audio.samples, audio.sr)
    return lufs


def loudness_gain_db(lufs: float, target_lufs: float = TARGET_LUFS,
                     max_gain_db: float = MAX_GAIN_DB) -> float:
    """Gain (dB) that brings ``lufs`` to ``target_lufs``, within ``+-max_gain_db``; 0 for silence."""
    if not math.isfinite(lufs):
        return 0.0
    return float(np.clip(target_lufs - lufs, -max_gain_db, max_gain_db))


def normalize_loudness(audio: Audio, target_lufs: float = TARGET_LUFS, *,
                       max_gain_db: float = MAX_GAIN_DB) -> tuple[Audio, LoudnessInfo]:
    """``audio`` scaled to ``target_lufs`` integrated loudness.

    Samples may exceed [-1, 1] afterwards: the features are computed in floating point, so
    nothing is clipped (a loud target never distorts the analysis).

    Returns:
        (the scaled :class:`Audio`, same length and rate; a :class:`LoudnessInfo`).
    """
    scale, info = loudness_scale(audio, target_lufs, max_gain_db=max_gain_db)
    samples = audio.samples if scale is None else np.multiply(audio.samples, scale, dtype=np.float32)
    return Audio(samples=samples, sr=audio.sr, path=audio.path), info


def loudness_scale(audio: Audio, target_lufs: float = TARGET_LUFS, *,
                   max_gain_db: float = MAX_GAIN_DB) -> tuple[np.float32 | None, LoudnessInfo]:
    """The float32 factor :func:`normalize_loudness` multiplies the samples by (``None`` for a
    gain of 0 dB), without making the scaled copy: feature code applies it chunk by chunk
    (:func:`motion.audio.features.log_mel_features` ``gain=``), so a long recording is held once."""
    lufs = audio_loudness(audio)
    gain = loudness_gain_db(lufs, target_lufs, max_gain_db)
    scale = None if gain == 0.0 else np.float32(10.0 ** (gain / 20.0))
    return scale, LoudnessInfo(lufs, gain, target_lufs)
