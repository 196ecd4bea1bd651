"""Bilabial lip closure as a geometric constraint on the generated face.

A speech-driven decoder trained on one voice opens the mouth with the loudness of the
speech; on another voice it rarely shuts the lips for the short /p b m/ closures. Viseme
animation systems enforce those closures explicitly instead: JALI (Edwards et al. 2016,
Sec. 4) keeps bilabials as hard lip-closure visemes whatever the jaw does, and production
lip-sync rigs treat them as constraints. Here the closure is solved on the face model
itself, so it works for the stand-in and for a real FLAME basis alike (which has no
"lips press" coefficient to set):

* the inner-lip gap is measured between ``K`` upper / lower inner-lip vertex pairs (under
  iBUG landmarks 61/67, 62/66, 63/65): ``r(x) = v_up(x) - v_lo(x)``, ``(K, 3)``, with
  ``x = [psi, theta]`` the expression coefficients ``(E,)`` and the jaw axis-angle ``(3,)``;
* per closure frame, damped Gauss-Newton (Levenberg-Marquardt) steps find the smallest
  change that shuts the lips::

      min_x  sum_k ||r_k(x)||^2 + (x - x0)^T D (x - x0)
      dx = -(J^T J + D)^{-1} (J^T r + D (x - x0))

  with ``D = diag(mu_expr, ..., mu_jaw x3)`` (a rotation of the jaw costs more than a lip
  shape, so the lips press rather than the jaw snapping shut);
* only as much of the step as brings the gap down to ``target_gap`` (1 mm) is taken (lips
  already closer are untouched: least intervention on a decoder that does close them);
* the closed pose is blended in with a per-frame weight ``w(t)`` in [0, 1] that is 1 over the
  bilabial and eases in and out over ``ramp_s`` (coarticulation: the lips start to close
  before the stop and part after it): ``x(t) = x0(t) + w(t) (x*(t) - x0(t))``.

The same solve shuts the mouth at rest in pauses (:func:`rest_weights`: pause segments of
``min_pause_s`` or more, less ``margin_s`` at both ends, where a speaker's lips meet between
phrases rather than hang open).

Phone timings come from :mod:`motion.audio.phones` (the phone loop, or forced alignment
when the transcript is known) or from the caller (:func:`closure_weights`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from motion.bodymodels.flame_landmarks import IBUG_INNER_LIP_PAIRS, inner_lip_pairs  # noqa: F401 (re-exported)

#: Default ease in / out around each bilabial (s): about two frames at 30 fps.
RAMP_S = 0.07


def closure_weights(phonemes: Sequence[Any] | Mapping[str, Any], num_frames: int, fps: float,
                    ramp_s: float = RAMP_S, min_hold_s: float = 0.0) -> np.ndarray:
    """``(T,)`` float closure weight in [0, 1]: 1 on frames inside a bilabial (p, b, m) and on
    the frame nearest its middle, easing to 0 over ``ramp_s`` on either side (raised cosine).

    Args:
        phonemes: timings as :func:`motion.synthetic.tts.phonemes.phoneme_triples` accepts.
        num_frames, fps: the face's frame grid.
        ramp_s: ease-in / ease-out time (s).
        min_hold_s: a bilabial shorter than this is held closed this long around its middle.
    """
    from motion.synthetic.tts.phonemes import is_bilabial, phoneme_triples

    w = np.zeros(num_frames)
    for sym, s, e in phoneme_triples(phonemes):
        if not is_bilabial(sym) or num_frames == 0:
            continue
        mid = 0.5 * (s + e)
        half = max(0.5 * (e - s), 0.5 * min_hold_s)
        a, b = _span(mid - half - ramp_s, mid + half + ramp_s, fps, num_frames)
        d = np.maximum(np.abs(np.arange(a, b) / fps - mid) - half, 0.0)  # (s) outside the held interval
        w[a:b] = np.maximum(w[a:b], _ease(d, ramp_s))
        w[int(np.clip(round(mid * fps), 0, num_frames - 1))] = 1.0
    return w.astype(np.float32)


def _span(t0: float, t1: float, fps: float, num_frames: int) -> tuple[int, int]:
    """Frames ``[a, b)`` whose times may lie in ``[t0, t1]`` (clipped to the clip)."""
    a = int(np.clip(np.floor(t0 * fps), 0, num_frames)) if np.isfinite(t0) else 0
    b = int(np.clip(np.ceil(t1 * fps) + 1, 0, num_frames)) if np.isfinite(t1) else num_frames
    return a, b


def _ease(d: np.ndarray, ramp_s: float) -> np.ndarray:
    """Raised-cosine ease: 1 at distance ``d`` <= 0 (s), 0 from ``ramp_s`` on."""
    return np.where(d <= 0, 1.0, 0.5 * (1 + np.cos(np.pi * np.minimum(d / max(ramp_s, 1e-9), 1.0))))


def rest_weights(phonemes: Sequence[Any] | Mapping[str, Any], num_frames: int, fps: float,
                 min_pause_s: float = 0.3, margin_s: float = 0.1, ramp_s: float = 0.1) -> np.ndarray:
    """``(T,)`` float weight in [0, 1] that shuts the mouth in pauses: 1 inside every pause
    (symbol ``_``) of at least ``min_pause_s``, shrunk by ``margin_s`` where it meets speech,
    easing to 0 over ``ramp_s`` (raised cosine) towards the speech."""
    from motion.synthetic.tts.phonemes import phoneme_triples

    w = np.zeros(num_frames)
    for sym, s, e in phoneme_triples(phonemes):
        if sym != "_" or e - s < min_pause_s:
            continue
        lo = s + margin_s if s > 0 else -np.inf  # no speech before the clip's start ...
        hi = e - margin_s if e < (num_frames - 1) / fps else np.inf  # ... nor after its end
        a, b = _span(lo - ramp_s, hi + ramp_s, fps, num_frames)
        t = np.arange(a, b) / fps
        d = np.maximum(np.maximum(lo - t, t - hi), 0.0)
        w[a:b] = np.maximum(w[a:b], _ease(d, ramp_s))
    return w.astype(np.float32)


class LipCloser:
    """Shuts the lips on weighted frames by a damped Gauss-Newton solve (module notes).

    Args:
        layer: a :class:`~motion.models.face.flame_layer.FlameExpressionLayer` over the
            ``2K`` inner-lip vertices, ordered upper_1, lower_1, upper_2, lower_2, ...
        iterations: at most this many Gauss-Newton steps (the map is linear in the expression,
            nearly so in the jaw: 2-3 steps usually reach ``tol``).
        mu_expr, mu_jaw: damping of expression / jaw changes (per unit squared).
        tol: stop once every lip pair is closer than this (m).
        batch: frames solved at once.
        target_gap: mean inner-lip gap (m) a closure brings the lips to (under the 2 mm of
            "closed"); lips already closer are left alone.
    """

    def __init__(self, layer: torch.nn.Module, iterations: int = 10, mu_expr: float = 1e-7,
                 mu_jaw: float = 1e-5, tol: float = 1e-4, batch: int = 1024, target_gap: float = 1e-3) -> None:
        self.layer, self.iterations = layer.eval(), iterations
        self.mu_expr, self.mu_jaw, self.tol, self.batch = mu_expr, mu_jaw, tol, batch
        self.target_gap = target_gap

    @classmethod
    def from_face_model(cls, face_model: Any, num_expressions: int, **kwargs: Any) -> LipCloser:
        """Build from a loaded FLAME model (:func:`motion.bodymodels.load_face_model`)."""
        from motion.models.face.flame_layer import FlameExpressionLayer

        ids = inner_lip_pairs(face_model).reshape(-1)
        return cls(FlameExpressionLayer.from_flame(face_model, num_expressions, vertex_ids=ids), **kwargs)

    @property
    def num_expressions(self) -> int:
        return int(self.layer.num_expressions)  # type: ignore[attr-defined]

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3K)`` upper-minus-lower inner-lip offsets (m) for ``x`` ``(N, E + 3)``."""
        E = self.num_expressions
        v = self.layer(x[:, :E], x[:, E:])  # (N, 2K, 3)
        return (v[:, 0::2] - v[:, 1::2]).reshape(x.shape[0], -1)

    def gap(self, expression: np.ndarray, jaw: np.ndarray) -> np.ndarray:
        """``(T,)`` mean inner-lip gap (m) over the pairs."""
        x = torch.from_numpy(np.concatenate([expression[:, :self.num_expressions], jaw], 1).astype(np.float32))
        with torch.no_grad():
            r = self.residual(x).reshape(x.shape[0], -1, 3)
        return r.norm(dim=-1).mean(-1).numpy()

    @torch.no_grad()
    def solve(self, x0: torch.Tensor) -> torch.Tensor:
        """``(N, E + 3)`` closed poses nearest ``x0`` ``(N, E + 3)`` (float32)."""
        E = self.num_expressions
        D = torch.cat([torch.full((E,), self.mu_expr), torch.full((3,), self.mu_jaw)]).to(x0)
        x = x0.clone()
        jac = torch.func.vmap(torch.func.jacrev(lambda z: self.residual(z[None])[0]))
        for _ in range(self.iterations):
            r = self.residual(x)  # (N, 3K)
            if r.reshape(len(x), -1, 3).norm(dim=-1).max() < self.tol:
                break
            J = jac(x)  # (N, 3K, E + 3)
            A = J.transpose(1, 2) @ J + torch.diag_embed(D.expand_as(x))
            g = (J.transpose(1, 2) @ r[..., None])[..., 0] + D * (x - x0)
            x = x - torch.linalg.solve(A, g)
        return x

    def __call__(self, expression: np.ndarray, jaw: np.ndarray, weight: np.ndarray,
                 inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Expression ``(T, E')`` and jaw ``(T, 3)`` with the lips shut where ``weight`` ``(T,)`` > 0
        (blended by the weight); coefficients beyond the layer's E are left as they are.
        ``inplace``: change (and return) the arrays given instead of copies (the same numbers)."""
        w = np.asarray(weight, np.float64)
        if w.shape != (expression.shape[0],):
            raise ValueError(f"weight must be ({expression.shape[0]},), got {w.shape}")
        expr, jw = (expression, jaw) if inplace else (expression.copy(), jaw.copy())
        idx = np.flatnonzero(w > 0)
        if len(idx) == 0:
            return expr, jw
        E = min(self.num_expressions, expression.shape[1])
        x0 = np.zeros((len(idx), self.num_expressions + 3), np.float32)
        x0[:, :E], x0[:, -3:] = expression[idx, :E], jaw[idx]
        x0_t = torch.from_numpy(x0)
        for i in range(0, len(idx), self.batch):  # in batches: memory stays flat on long audio
            rows, b0 = idx[i:i + self.batch], x0[i:i + self.batch]
            xs = self.solve(x0_t[i:i + self.batch]).double().numpy()
            # Least intervention: lips already within `target_gap` stay as they are, wider ones move
            # only as far as `target_gap` (the map is nearly linear in x, so the step scales the gap).
            g0 = self.gap(b0[:, :self.num_expressions], b0[:, -3:]).astype(np.float64)
            share = np.clip(1.0 - self.target_gap / np.maximum(g0, 1e-9), 0.0, 1.0)
            delta = (w[rows] * share)[:, None] * (xs - b0)
            expr[rows, :E] = (expression[rows, :E] + delta[:, :E]).astype(expression.dtype)
            jw[rows] = (jaw[rows] + delta[:, -3:]).astype(jaw.dtype)
        return expr, jw
