"""Audio of any length: overlapping latent windows, inpainted overlaps, cross-faded seams.

AMUSE cuts long audio into independent 10 s windows, which leaves a visible jump at every
seam. Here the latent sequence (rate ``fps / f``, f = the VAE's downsampling) is covered by
windows of ``W`` latents that overlap by ``O`` latents::

    window 0: [0, W)       window 1: [W-O, 2W-O)      ...      last: [L-W, L)

Window ``k > 0`` is sampled with its first latents *known*: those it shares with window
``k-1`` are fixed to window ``k-1``'s result by the replacement method (Song et al. 2021,
"Score-Based Generative Modeling through SDEs", App. I.2; Lugmayr et al. 2022, "RePaint",
Eq. 8; used for autoregressive extension by Ho et al. 2022, "Video Diffusion Models",
Sec. 3.1), see :func:`motion.models.sampler.denoise`. Each window is then decoded on its own
and the decoded features are cross-faded over the overlap with a smoothstep weight, which
hides the small differences the decoder's context makes. The speech encoder runs on the
same windows, so memory does not grow with the audio length. :class:`BodyDecoder` stitches,
smooths and decodes the windows to SMPL-X as they come, so only the output (poses and
translation, 71 MB per hour) is whole; the per-frame features (``(T, 315)`` floats, 136 MB per
hour) only when they are asked for.

Stitching modes (``stitch=``): ``"fused"`` (default: all windows denoised together with
their overlaps fused at every step, :mod:`motion.pipelines.fused`; the batches of windows
are joined by the inpainting below), ``"inpaint"`` (above, one window after another), ``"crossfade"`` (overlapping
windows sampled independently, cross-faded) and ``"concat"`` (no overlap, hard cuts: the
AMUSE baseline, for comparison).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    """One window of the latent sequence.

    Attributes:
        start, stop: latent range ``[start, stop)``.
        known: leading latents shared with (and taken from) the previous window.
    """

    start: int
    stop: int
    known: int

    @property
    def length(self) -> int:
        return self.stop - self.start

    def frames(self, downsample: int, num_frames: int) -> tuple[int, int]:
        """Motion-frame range ``[a, b)`` of the window, cropped to ``num_frames``."""
        return self.start * downsample, min(self.stop * downsample, num_frames)


def plan_windows(num_latents: int, window: int, overlap: int, shift_last: bool = True
                 ) -> list[Window]:
    """Cover ``[0, num_latents)`` with windows of ``window`` latents overlapping by ``overlap``.

    With ``shift_last`` the last window is moved back to end at ``num_latents`` (its overlap
    then grows), so every window has the full length when the sequence is at least one
    window long; otherwise the last window is simply shorter.

    Raises:
        ValueError: ``window < 1`` or ``overlap`` not in ``[0, window)``.
    """
    if window < 1:
        raise ValueError(f"window must be at least one latent frame, got {window}")
    if not 0 <= overlap < window:
        raise ValueError(f"overlap must be in [0, window={window}), got {overlap}")
    if num_latents <= window:
        return [Window(0, max(num_latents, 0), 0)]
    hop = window - overlap
    out = [Window(0, window, 0)]
    while out[-1].stop < num_latents:
        start = out[-1].start + hop
        if shift_last:
            start = min(start, num_latents - window)
        stop = min(start + window, num_latents)
        out.append(Window(start, stop, out[-1].stop - start))
    return out


def smoothstep(n: int) -> np.ndarray:
    """``(n,)`` weights rising from ~0 to ~1: ``w = 3s^2 - 2s^3`` at ``s = (i + 1) / (n + 1)``."""
    s = (np.arange(n, dtype=np.float64) + 1.0) / (n + 1.0)
    return (3.0 * s**2 - 2.0 * s**3).astype(np.float32)


class FeatureStitcher:
    """Writes per-window decoded features into one ``(T, D)`` array, cross-fading overlaps."""

    def __init__(self, num_frames: int, dim: int) -> None:
        self.out = np.zeros((num_frames, dim), np.float32)
        self.filled = 0  # frames [0, filled) are written

    def add(self, start: int, feats: np.ndarray, crossfade: bool = True) -> None:
        """Place ``feats (n, D)`` at frame ``start``; blend ``[start, filled)`` if ``crossfade``.

        Without cross-fade the new window overwrites the overlap (a hard cut at ``start``).
        """
        n = min(feats.shape[0], self.out.shape[0] - start)
        if n <= 0:
            return
        _place(self.out, start, feats[:n], max(0, min(self.filled - start, n)), crossfade)
        self.filled = max(self.filled, start + n)


def _place(out: np.ndarray, at: int, feats: np.ndarray, overlap: int, crossfade: bool) -> None:
    """Write ``feats (n, D)`` into ``out[at:at + n]``, its first ``overlap`` frames cross-faded
    (smoothstep) with what ``out`` holds there if ``crossfade``, else overwriting it."""
    if overlap and crossfade:
        w = smoothstep(overlap)[:, None]
        out[at:at + overlap] = (1.0 - w) * out[at:at + overlap] + w * feats[:overlap]
    else:
        overlap = 0
    out[at + overlap:at + feats.shape[0]] = feats[overlap:]


def seam_frames(windows: list[Window], downsample: int, num_frames: int) -> list[int]:
    """Motion frames where consecutive windows meet: the middle of each overlap (its start
    when there is no overlap)."""
    out = []
    for prev, cur in itertools.pairwise(windows):
        a = cur.start * downsample
        b = min(prev.stop * downsample, num_frames)
        out.append(min((a + b) // 2, num_frames - 1))
    return out


def window_latents(window_s: float, overlap_s: float, fps: float, downsample: int
                   ) -> tuple[int, int]:
    """Window and overlap in latent frames from seconds (overlap at least 1 unless 0 s)."""
    rate = fps / downsample
    w = max(1, round(window_s * rate))
    o = round(overlap_s * rate)
    if overlap_s > 0:
        o = max(o, 1)
    return w, min(o, w - 1)


#: Window length when the weights do not record their training window.
DEFAULT_WINDOW_S = 8.0
#: Default overlap, as a fraction of the window: half for fused sampling (on the demo weights
#: the seam / inside velocity-jump ratio over 3 minutes is 1.19 with a quarter, 0.88 with a
#: half; fused windows cost little), a quarter for the one-window-after-another modes.
FUSED_OVERLAP = 0.5
DEFAULT_OVERLAP = 0.25


def plan_clip(num_frames: int, downsample: int, fps: float, train_window: int | None,
              window_s: float | None, overlap_s: float | None, stitch: str
              ) -> tuple[list[Window], float, float]:
    """Windows of a clip of ``num_frames`` motion frames, and the window / overlap in seconds.

    Defaults: the training window (``train_window`` frames; the models were trained on
    windows of that length, so they see the context they know) or :data:`DEFAULT_WINDOW_S`,
    and an overlap of half a window for "fused", a quarter otherwise; "concat" has no overlap
    and a shorter last window.

    Raises:
        ValueError: an overlap as long as the window or longer (not silently clamped).
    """
    if window_s is None:
        window_s = train_window / fps if train_window else DEFAULT_WINDOW_S
    if overlap_s is None:
        overlap_s = (FUSED_OVERLAP if stitch == "fused" else DEFAULT_OVERLAP) * window_s
    if stitch == "concat":
        overlap_s = 0.0
    elif overlap_s >= window_s:
        raise ValueError(f"the overlap ({overlap_s:g} s, --overlap / overlap_s) must be shorter than the window "
                         f"({window_s:g} s, --window / window_s)")
    W, O = window_latents(window_s, overlap_s, fps, downsample)
    windows = plan_windows(-(-num_frames // downsample), W, O, shift_last=stitch != "concat")
    return windows, W * downsample / fps, O * downsample / fps


def smooth_features(features: np.ndarray, sigma: float, inplace: bool = False, chunk: int = 4096) -> np.ndarray:
    """``(T, D)`` features filtered over time by a Gaussian of ``sigma`` frames (edges: nearest
    frame repeated); ``sigma = 0`` returns them unchanged.

    ``inplace``: filter ``features`` itself, ``chunk`` frames at a time, each with the kernel's
    reach of original frames on both sides (kept aside before they are overwritten): the same
    numbers as filtering the whole array, without a second array of the clip's length.
    """
    if sigma <= 0 or features.shape[0] < 2:
        return features
    from scipy.ndimage import gaussian_filter1d

    if not inplace:
        return gaussian_filter1d(features, sigma, axis=0, mode="nearest").astype(features.dtype, copy=False)
    T, reach = features.shape[0], int(4.0 * float(sigma) + 0.5)  # gaussian_filter1d's radius (truncate 4)
    chunk = max(int(chunk), reach + 1)
    before = features[:0].copy()  # original frames [a - reach, a)
    for a in range(0, T, chunk):
        b = min(a + chunk, T)
        seg = np.concatenate([before, features[a:min(b + reach, T)]])
        out = gaussian_filter1d(seg, sigma, axis=0, mode="nearest")
        k = before.shape[0]
        before = features[max(b - reach, 0):b].copy()
        features[a:b] = out[k:k + b - a]
    return features


def decode_body_chunked(features: np.ndarray, fps: float, chunk: int = 1800
                        ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`motion.models.body_features.decode_body` in chunks of ``chunk`` frames.

    The rotation conversion is per frame, so chunks only need the root translation carried
    over: chunk ``c`` starts at ``x_a = x_{a-1} + v_a / fps`` (horizontal axes), which is
    what one call over the whole sequence integrates. Peak memory is that of one chunk.

    Returns:
        poses ``(T, 55, 3)`` and trans ``(T, 3)``, float32.
    """
    T = features.shape[0]
    poses = np.empty((T, 55, 3), np.float32)
    trans = np.empty((T, 3), np.float32)
    for a in range(0, T, chunk):
        _decode_into(np.ascontiguousarray(features[a:a + chunk], np.float32), a, poses, trans, fps)
    return poses, trans


def _decode_into(x_np: np.ndarray, a: int, poses: np.ndarray, trans: np.ndarray, fps: float) -> None:
    """Decode the features ``(n, D)`` of frames ``[a, a + n)`` into ``poses`` and ``trans``, the
    root translation carried on from frame ``a - 1`` (:func:`decode_body_chunked`)."""
    import torch

    from motion.models.body_features import ROT_DIM, decode_body

    x = torch.from_numpy(x_np)
    start = torch.zeros(3)
    if a:
        vel = x[0, ROT_DIM:ROT_DIM + 3]
        start = torch.from_numpy(trans[a - 1]) + torch.stack([vel[0], vel.new_zeros(()), vel[2]]) / fps
    p, t = decode_body(x, fps=fps, start=start)
    poses[a:a + x_np.shape[0]], trans[a:a + x_np.shape[0]] = p.numpy(), t.numpy()


#: Frames :class:`BodyDecoder` smooths and decodes at once (``decode_body_chunked``'s chunk).
DECODE_CHUNK = 1800


class BodyDecoder:
    """:class:`FeatureStitcher`, :func:`smooth_features` and :func:`decode_body_chunked` as the
    windows come: the same numbers, without the ``(T, D)`` features of the whole clip.

    Windows are added in order of their start (as :class:`FeatureStitcher` takes them). Frames
    before a window's start are final (no later window reaches them); once the stitched frames
    reach ``chunk`` frames (plus the smoothing's reach) past the last decoded frame, that chunk
    is smoothed (with the reach of stitched frames either side, as ``smooth_features`` does) and
    decoded (``decode_body_chunked``'s chunks: the same boundaries, the translation carried over).
    Only the open frames are held besides the outputs.

    Args:
        num_frames: T.
        dim: D, features per frame.
        fps: frame rate (the root translation integrates velocities).
        sigma: Gaussian smoothing over time in frames (0: none).
        chunk: frames decoded at once (``decode_body_chunked``'s ``chunk``; default :data:`DECODE_CHUNK`).
        keep_features: also keep the smoothed ``(T, D)`` features (:attr:`features`).
    """

    def __init__(self, num_frames: int, dim: int, fps: float, sigma: float = 0.0, chunk: int | None = None,
                 keep_features: bool = False) -> None:
        self.T, self.fps, self.chunk = int(num_frames), float(fps), max(int(chunk or DECODE_CHUNK), 1)
        self.sigma = float(sigma) if sigma > 0 and num_frames >= 2 else 0.0
        self.reach = int(4.0 * self.sigma + 0.5) if self.sigma else 0  # gaussian_filter1d's radius
        self.poses = np.empty((self.T, 55, 3), np.float32)
        self.trans = np.empty((self.T, 3), np.float32)
        self.features = np.empty((self.T, dim), np.float32) if keep_features else None
        self._rows = np.zeros((0, dim), np.float32)  # stitched frames [base, base + len)
        self._base = 0
        self.filled = 0  # frames [0, filled) are written
        self._done = 0  # frames [0, done) are decoded

    def add(self, start: int, feats: np.ndarray, crossfade: bool = True) -> None:
        """:meth:`FeatureStitcher.add`: ``feats (n, D)`` at frame ``start``, ``[start, filled)`` blended."""
        n = min(feats.shape[0], self.T - start)
        if n <= 0:
            return
        if start < self._base:
            raise ValueError(f"windows must come in order of their start: frame {start} is already decoded")
        end = start + n
        if end > self._base + self._rows.shape[0]:  # frames not written yet are zeros, as the stitcher's
            grow = np.zeros((end - self._base - self._rows.shape[0], self._rows.shape[1]), np.float32)
            self._rows = np.concatenate([self._rows, grow])
        _place(self._rows, start - self._base, feats[:n], max(0, min(self.filled - start, n)), crossfade)
        self.filled = max(self.filled, end)
        self._decode(start)

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """Decode what is left; ``(poses (T, 55, 3), trans (T, 3))`` float32."""
        self._decode(self.T)
        return self.poses, self.trans

    def _decode(self, final: int) -> None:
        """Decode the chunks whose smoothing needs only frames before ``final`` (final frames)."""
        while self._done < self.T:
            a = self._done
            b = min(a + self.chunk, self.T)
            if min(b + self.reach, self.T) > final:
                return
            lo, hi = max(a - self.reach, 0), min(b + self.reach, self.T)
            seg = self._rows[lo - self._base:hi - self._base]
            if self.sigma:
                from scipy.ndimage import gaussian_filter1d

                seg = gaussian_filter1d(seg, self.sigma, axis=0, mode="nearest")
            x_np = np.ascontiguousarray(seg[a - lo:b - lo], np.float32)
            if self.features is not None:
                self.features[a:b] = x_np
            _decode_into(x_np, a, self.poses, self.trans, self.fps)
            self._done = b
            keep = max(b - self.reach, self._base) - self._base  # the next chunk's smoothing reach
            self._rows = self._rows[keep:].copy()
            self._base += keep
