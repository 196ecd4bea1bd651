"""PNG plots of motion curves against the speech waveform (matplotlib, Agg backend).

Curves, one per panel, sharing the time axis (seconds):

* waveform of the audio (min/max envelope per pixel column), when audio is given;
* jaw opening: the jaw joint's pitch (degrees, + = open);
* hand speed: left and right wrist joint speed (m/s) from the body model's forward kinematics;
* expression energy: ``||expression_t||`` (L2 norm of the coefficients);
* emotion curve, when the motion was generated with one (``meta.extra["emotion_curve"]``,
  :mod:`motion.pipelines.emotion_curve`): the 8 emotion weights stacked over time (they sum to
  1) and the intensity (0-3, right axis), keys marked.

Only ``matplotlib.figure.Figure`` with an Agg canvas is used (no ``pyplot`` global state),
so plotting works headless and in threads. Written atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from motion.pipelines.emotion_curve import EmotionCurve, curve_of_meta
from motion.render.output import atomic_output, check_motion, check_output
from motion.types import EMOTIONS, JAW, JOINT_INDEX

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion

COLORS = {"wave": "#5b6470", "jaw": "#c0504d", "left": "#4f81bd", "right": "#f39c12", "expr": "#7d5ba6"}
#: Colour of each of :data:`motion.types.EMOTIONS` in the emotion-curve panel.
EMOTION_COLORS = {"neutral": "#b8bcc2", "happy": "#f4c430", "sad": "#4f81bd", "surprised": "#9bbb59",
                  "fear": "#8064a2", "disgusted": "#4bacc6", "angry": "#c0504d", "contempt": "#a5714e"}


@dataclass(frozen=True)
class MotionCurves:
    """Per-frame curves of a motion: ``time`` (T,) s, ``jaw_deg`` (T,), ``hand_speed``
    (T, 2) m/s (left, right wrist), ``expression_energy`` (T,)."""

    time: np.ndarray
    jaw_deg: np.ndarray
    hand_speed: np.ndarray
    expression_energy: np.ndarray


def motion_curves(motion: Motion, body_model: Any = None, models_dir: str | os.PathLike[str] | None = None) -> MotionCurves:
    """Compute the plotted curves (FK through the body model for the wrists)."""
    import torch

    from motion.export.arkit import yaw_pitch_roll

    with torch.no_grad():
        joints = motion.forward_kinematics(body_model, None if models_dir is None else str(models_dir)).joints
    wrists = joints[:, [JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]]].cpu().numpy().astype(np.float64)
    speed = np.zeros(wrists.shape[:2])
    if motion.num_frames > 1:
        v = np.linalg.norm(np.diff(wrists, axis=0), axis=-1) * motion.fps
        speed[1:], speed[0] = v, v[0]
    assert motion.expression is not None
    energy = np.linalg.norm(motion.expression, axis=1) if motion.num_expressions else np.zeros(motion.num_frames)
    return MotionCurves(time=np.arange(motion.num_frames) / motion.fps,
                        jaw_deg=np.degrees(yaw_pitch_roll(motion.poses[:, JAW])[:, 1]),
                        hand_speed=speed, expression_energy=energy)


def _envelope(samples: np.ndarray, sr: int, bins: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time, min and max of ``samples`` over ``bins`` equal slices (fast waveform drawing)."""
    n = len(samples)
    bins = max(1, min(bins, n))
    edges = np.linspace(0, n, bins + 1).astype(int)
    lo = np.minimum.reduceat(samples, edges[:-1])
    hi = np.maximum.reduceat(samples, edges[:-1])
    return edges[:-1] / sr, lo, hi


def _emotion_panel(ax: Any, curve: EmotionCurve, t: np.ndarray) -> None:
    """Stacked emotion weights ``(T, 8)`` at frame times ``t (T,)``, the intensity on a right
    axis, and a tick at each key; only the emotions that take part are in the legend."""
    weights, intensity = curve.sample(t)
    used = [k for k in range(len(EMOTIONS)) if weights[:, k].max() > 0.02]
    ax.stackplot(t, weights[:, used].T, colors=[EMOTION_COLORS[EMOTIONS[k]] for k in used],
                 labels=[EMOTIONS[k] for k in used], alpha=0.85, linewidth=0)
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("emotion weight")
    for key in curve.keys:
        if key.time_s <= t[-1]:
            ax.axvline(key.time_s, color="#333333", lw=0.8, ls=":")
    right = ax.twinx()
    right.plot(t, intensity, color="#222222", lw=1.6, label="intensity")
    right.set_ylim(0.0, 3.05)
    right.set_ylabel("intensity")
    right.spines[["top"]].set_visible(False)
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = right.get_legend_handles_labels()
    ax.legend(handles + h2, labels + l2, loc="lower left", fontsize=8, frameon=True, framealpha=0.9,
              ncols=len(handles) + len(h2))


def plot_curves(
    motion: Motion,
    path: str | os.PathLike[str],
    audio: str | os.PathLike[str] | None = None,
    title: str | None = None,
    size: tuple[float, float] | None = None,
    dpi: int = 100,
    body_model: Any = None,
    models_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Plot jaw opening, hand speed and expression energy (and the waveform) to a PNG.

    Args:
        motion: the animation.
        path: output ``.png``.
        audio: optional audio file drawn in the top panel.
        title: figure title (default: emotion / source from the metadata).
        size: figure size in inches (default 10 x 6.4, 1.6 taller with an emotion-curve panel);
            ``dpi`` pixels per inch.
        body_model, models_dir: the SMPL-X model for the hand positions.

    Raises:
        RenderError: bad suffix / destination, non-finite motion.
        FileNotFoundError: the audio file does not exist.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = check_output(path, (".png",))
    check_motion(motion)
    if audio is not None and not Path(audio).is_file():
        raise FileNotFoundError(f"audio file not found: {audio}")
    curves = motion_curves(motion, body_model, models_dir)
    curve = curve_of_meta(motion.meta.extra or {})
    panels = ["wave"] * (audio is not None) + ["emotion"] * (curve is not None) + ["jaw", "hands", "expr"]
    fig = Figure(figsize=size or (10.0, 6.4 + 1.6 * (curve is not None)), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, sharex=True, height_ratios=[0.8 if p == "wave" else 1.0 for p in panels])
    axes = np.atleast_1d(axes)
    t = curves.time
    for ax, panel in zip(axes, panels):
        if panel == "wave":
            from motion.audio import load_audio

            a = load_audio(audio, allow_silent=True)
            et, lo, hi = _envelope(np.asarray(a.samples, np.float32), a.sr)
            ax.fill_between(et, lo, hi, color=COLORS["wave"], linewidth=0)
            ax.set_ylabel("audio")
            ax.set_yticks([])
        elif panel == "emotion":
            assert curve is not None
            _emotion_panel(ax, curve, t)
        elif panel == "jaw":
            ax.plot(t, curves.jaw_deg, color=COLORS["jaw"], lw=1.6)
            ax.set_ylabel("jaw open (deg)")
        elif panel == "hands":
            ax.plot(t, curves.hand_speed[:, 0], color=COLORS["left"], lw=1.4, label="left wrist")
            ax.plot(t, curves.hand_speed[:, 1], color=COLORS["right"], lw=1.4, label="right wrist")
            ax.set_ylabel("hand speed (m/s)")
            ax.legend(loc="upper right", fontsize=8, frameon=False, ncols=2)
        else:
            ax.plot(t, curves.expression_energy, color=COLORS["expr"], lw=1.6)
            ax.set_ylabel("expression energy")
        ax.grid(alpha=0.3)
        ax.spines[["top"] + ["right"] * (panel != "emotion")].set_visible(False)
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(0.0, max(motion.duration, 1.0 / motion.fps))
    if title is None:
        bits = [f"emotion curve {curve}" if curve is not None else motion.meta.emotion or "",
                f"intensity {motion.meta.intensity:g}" if motion.meta.intensity and curve is None else "",
                str(motion.meta.extra.get("text", "")) if motion.meta.extra else ""]
        title = " - ".join(b for b in bits if b)
    if title:
        fig.suptitle(title, fontsize=11)
    with atomic_output(out) as tmp:
        fig.savefig(tmp, format="png")
    return out
