"""The one typed container for an animation: :class:`Motion`.

A :class:`Motion` holds a whole-character SMPL-X animation (body, hands, jaw, eyes) with
FLAME-style face expression, at a frame rate (30 fps inside the toolkit, as BEAT2), and
the metadata that produced it. Arrays are numpy ``float32``; torch (and roma) are only
imported by the methods that need them, so this module is cheap to import.

Layout (``T`` frames, ``E`` expression coefficients, ``B`` shape coefficients)::

    poses       (T, 55, 3)  axis-angle, radians, SMPL-X joint order (motion.types.JOINT_NAMES)
                            joint 0 = global orient, 22 = jaw, 23/24 = left/right eye
    trans       (T, 3)      root translation, metres
    betas       (B,)        body shape
    expression  (T, E)      FLAME / SMPL-X expression coefficients
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from motion.types import (
    FPS,
    JAW,
    LEFT_EYE,
    LEFT_HAND_JOINTS,
    NUM_JOINTS,
    RIGHT_EYE,
    RIGHT_HAND_JOINTS,
    canonical_emotion,
)

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from motion.rotations import RotationRep


@dataclass
class MotionMeta:
    """What produced a motion. Every field is optional.

    Attributes:
        emotion: one of :data:`motion.types.EMOTIONS` (aliases are canonicalised).
        intensity: emotion intensity, 1-3 (MEAD levels) or continuous between them.
        style: speaker id or the path of a reference clip.
        audio: path of the source speech recording.
        seed: random seed of the generator.
        source: where the motion came from (file path, ``"corpus"``, model name...).
        extra: free-form JSON-serialisable extras (e.g. sentence id, take).
    """

    emotion: str | None = None
    intensity: float | None = None
    style: str | None = None
    audio: str | None = None
    seed: int | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.emotion is not None:
            self.emotion = canonical_emotion(self.emotion)
        if self.intensity is not None:
            self.intensity = float(self.intensity)
            if not 0.0 <= self.intensity <= 3.0:
                raise ValueError(f"intensity must be within [0, 3], got {self.intensity}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (``None`` fields dropped)."""
        d = dataclasses.asdict(self)
        return {k: v for k, v in d.items() if v is not None and v != {}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MotionMeta":
        """Inverse of :meth:`to_dict`; unknown keys go to ``extra``."""
        names = {f.name for f in dataclasses.fields(cls)}
        known = {k: v for k, v in d.items() if k in names}
        extra = dict(known.pop("extra", {}) or {})
        extra.update({k: v for k, v in d.items() if k not in names})
        return cls(**known, extra=extra)


def _as_f32(name: str, a: Any, ndim: int) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float32)
    if arr.ndim != ndim:
        raise ValueError(f"Motion.{name} must have {ndim} dimensions, got shape {arr.shape}")
    return arr


@dataclass
class Motion:
    """A whole-character SMPL-X + FLAME-expression animation.

    Attributes:
        poses: ``(T, 55, 3)`` axis-angle rotations (radians) in SMPL-X joint order.
        trans: ``(T, 3)`` root translation in metres.
        betas: ``(B,)`` shape coefficients (BEAT2 uses B = 300).
        expression: ``(T, E)`` expression coefficients (E = 100 for SMPL-X 2020 / BEAT2;
            E may be 0 for a body-only motion).
        fps: frame rate in frames per second.
        gender: body model gender (``"neutral"``, ``"male"``, ``"female"``).
        meta: provenance and controls, see :class:`MotionMeta`.
    """

    poses: np.ndarray
    trans: np.ndarray
    betas: np.ndarray = field(default_factory=lambda: np.zeros(10, np.float32))
    expression: np.ndarray | None = None
    fps: float = FPS
    gender: str = "neutral"
    meta: MotionMeta = field(default_factory=MotionMeta)

    def __post_init__(self) -> None:
        self.poses = _as_f32("poses", self.poses, 3)
        if self.poses.shape[1:] != (NUM_JOINTS, 3):
            raise ValueError(f"Motion.poses must be (T, 55, 3), got {self.poses.shape}")
        T = self.poses.shape[0]
        self.trans = _as_f32("trans", self.trans, 2)
        if self.trans.shape != (T, 3):
            raise ValueError(f"Motion.trans must be ({T}, 3) to match poses, got {self.trans.shape}")
        self.betas = _as_f32("betas", self.betas, 1)
        if self.expression is None:
            self.expression = np.zeros((T, 0), np.float32)
        self.expression = _as_f32("expression", self.expression, 2)
        if self.expression.shape[0] != T:
            raise ValueError(
                f"Motion.expression must have {T} frames to match poses, got {self.expression.shape}"
            )
        self.fps = float(self.fps)
        if not (0.0 < self.fps <= 1000.0):
            raise ValueError(f"Motion.fps must be in (0, 1000], got {self.fps}")
        if self.gender not in ("neutral", "male", "female"):
            raise ValueError(f"Motion.gender must be neutral/male/female, got {self.gender!r}")
        if isinstance(self.meta, dict):
            self.meta = MotionMeta.from_dict(self.meta)

    # ------------------------------------------------------------------ construction
    @classmethod
    def zeros(
        cls,
        num_frames: int,
        fps: float = FPS,
        num_expressions: int = 100,
        num_betas: int = 10,
        **kwargs: Any,
    ) -> "Motion":
        """A rest-pose motion of ``num_frames`` frames."""
        return cls(
            poses=np.zeros((num_frames, NUM_JOINTS, 3), np.float32),
            trans=np.zeros((num_frames, 3), np.float32),
            betas=np.zeros(num_betas, np.float32),
            expression=np.zeros((num_frames, num_expressions), np.float32),
            fps=fps,
            **kwargs,
        )

    @classmethod
    def from_flat(cls, poses165: np.ndarray, trans: np.ndarray, **kwargs: Any) -> "Motion":
        """Build from a flat ``(T, 165)`` pose vector (BEAT2 / AMASS layout)."""
        p = np.asarray(poses165, np.float32)
        if p.ndim != 2 or p.shape[1] != NUM_JOINTS * 3:
            raise ValueError(f"flat poses must be (T, 165), got {p.shape}")
        return cls(poses=p.reshape(-1, NUM_JOINTS, 3), trans=trans, **kwargs)

    def replace(self, **changes: Any) -> "Motion":
        """A copy with some fields replaced (arrays are shared unless replaced)."""
        return dataclasses.replace(self, **changes)

    def copy(self) -> "Motion":
        """A deep copy."""
        return copy.deepcopy(self)

    # ------------------------------------------------------------------ views
    @property
    def num_frames(self) -> int:
        return int(self.poses.shape[0])

    def __len__(self) -> int:
        return self.num_frames

    @property
    def duration(self) -> float:
        """Length in seconds (``T / fps``)."""
        return self.num_frames / self.fps

    @property
    def num_expressions(self) -> int:
        assert self.expression is not None
        return int(self.expression.shape[1])

    @property
    def flat_poses(self) -> np.ndarray:
        """``(T, 165)`` flat pose vector (BEAT2 / AMASS layout)."""
        return self.poses.reshape(self.num_frames, NUM_JOINTS * 3)

    @property
    def global_orient(self) -> np.ndarray:
        """``(T, 3)`` root rotation."""
        return self.poses[:, 0]

    @property
    def body_pose(self) -> np.ndarray:
        """``(T, 21, 3)`` body joints 1..21."""
        return self.poses[:, 1:22]

    @property
    def jaw(self) -> np.ndarray:
        """``(T, 3)`` jaw rotation (SMPL-X joint 22 = FLAME jaw)."""
        return self.poses[:, JAW]

    @property
    def eyes(self) -> np.ndarray:
        """``(T, 2, 3)`` left and right eye rotations."""
        return self.poses[:, [LEFT_EYE, RIGHT_EYE]]

    @property
    def left_hand(self) -> np.ndarray:
        """``(T, 15, 3)``."""
        return self.poses[:, list(LEFT_HAND_JOINTS)]

    @property
    def right_hand(self) -> np.ndarray:
        """``(T, 15, 3)``."""
        return self.poses[:, list(RIGHT_HAND_JOINTS)]

    def is_finite(self) -> bool:
        """True when no array holds NaN or Inf."""
        assert self.expression is not None
        return bool(
            np.isfinite(self.poses).all()
            and np.isfinite(self.trans).all()
            and np.isfinite(self.betas).all()
            and np.isfinite(self.expression).all()
        )

    def check_finite(self, what: str = "motion") -> None:
        """Raise ``ValueError`` naming the first array that holds NaN/Inf."""
        assert self.expression is not None
        for name in ("poses", "trans", "betas", "expression"):
            arr = getattr(self, name)
            bad = ~np.isfinite(arr)
            if bad.any():
                frame = int(np.argwhere(bad)[0][0]) if arr.ndim > 1 else None
                where = f" (first at frame {frame})" if frame is not None else ""
                raise ValueError(f"{what}: {name} contains NaN or Inf values{where}")

    # ------------------------------------------------------------------ rotations
    def rotations(self, rep: "RotationRep" = "6d") -> "torch.Tensor":
        """All joint rotations as a torch tensor, ``(T, 55, *REP_DIMS[rep])``."""
        from motion.rotations import as_tensor, convert

        return convert(as_tensor(self.poses), "axis_angle", rep)

    @classmethod
    def from_rotations(
        cls, rot: "torch.Tensor | np.ndarray", rep: "RotationRep", trans: np.ndarray, **kwargs: Any
    ) -> "Motion":
        """Inverse of :meth:`rotations`: ``rot`` is ``(T, 55, *REP_DIMS[rep])``."""
        from motion.rotations import as_tensor, convert

        aa = convert(as_tensor(rot), rep, "axis_angle").detach().cpu().numpy()
        return cls(poses=aa, trans=trans, **kwargs)

    # ------------------------------------------------------------------ time
    def slice(self, start: int, stop: int | None = None) -> "Motion":
        """Frames ``[start, stop)`` (Python slice semantics, step 1)."""
        sl = slice(start, stop)
        assert self.expression is not None
        out = self.replace(
            poses=self.poses[sl].copy(),
            trans=self.trans[sl].copy(),
            expression=self.expression[sl].copy(),
        )
        if out.num_frames == 0:
            raise ValueError(f"slice [{start}:{stop}] of a {self.num_frames}-frame motion is empty")
        return out

    def clip(self, start_s: float, end_s: float | None = None) -> "Motion":
        """The part between ``start_s`` and ``end_s`` seconds."""
        a = int(round(start_s * self.fps))
        b = None if end_s is None else int(round(end_s * self.fps))
        return self.slice(a, b)

    def resample(self, fps: float) -> "Motion":
        """Resample to another frame rate.

        Rotations are interpolated by quaternion slerp (never by linear interpolation of
        Euler angles or axis-angle), translation and expression linearly. Output frame
        ``j`` samples time ``j / fps``; the frame count is ``round(T * fps / self.fps)``
        so the duration is kept.
        """
        return resample_motion(self, fps)

    def concat(self, other: "Motion", crossfade: int = 0) -> "Motion":
        """Append ``other``, blending the last/first ``crossfade`` frames.

        Over the overlap, rotations are slerped and translation / expression lerped
        with a smoothstep weight ``w = 3s^2 - 2s^3``. ``other``'s translation is shifted
        so that its first overlapped frame meets ``self``'s (horizontal axes only), so
        the character does not jump. The result has ``T1 + T2 - crossfade`` frames.
        """
        return concat_motions([self, other], crossfade=crossfade)

    @staticmethod
    def concatenate(motions: Sequence["Motion"], crossfade: int = 0) -> "Motion":
        """Concatenate several motions (see :meth:`concat`)."""
        return concat_motions(list(motions), crossfade=crossfade)

    # ------------------------------------------------------------------ geometry
    def forward_kinematics(self, body_model: Any = None, models_dir: str | None = None, vertices: bool = False) -> Any:
        """Joint positions (and optionally vertices) through the SMPL-X body model.

        Args:
            body_model: a model from :func:`motion.bodymodels.load_body_model`; loaded
                from ``models_dir`` (or the stand-in) when omitted.
            models_dir: models folder (see :mod:`motion.bodymodels.paths`).
            vertices: also return mesh vertices.

        Returns:
            :class:`motion.bodymodels.loader.FKOutput` with ``joints`` ``(T, 55, 3)``
            and ``vertices`` ``(T, V, 3)`` (or ``None``) as torch tensors.
        """
        from motion.bodymodels import forward_kinematics, load_body_model

        assert self.expression is not None
        model = body_model if body_model is not None else load_body_model(models_dir, gender=self.gender)
        return forward_kinematics(
            model,
            poses=self.poses,
            trans=self.trans,
            betas=self.betas,
            expression=self.expression,
            return_vertices=vertices,
        )

    def __repr__(self) -> str:
        return (
            f"Motion(frames={self.num_frames}, fps={self.fps:g}, duration={self.duration:.2f}s, "
            f"betas={self.betas.shape[0]}, expression={self.num_expressions}, meta={self.meta.to_dict()})"
        )


# ---------------------------------------------------------------------- resampling, concatenation
def resample_motion(motion: Motion, fps: float) -> Motion:
    """Return ``motion`` resampled to ``fps`` (see :meth:`Motion.resample`; the arithmetic is
    :func:`motion.resample.resample_channels`)."""
    from motion.resample import resample_channels

    fps = float(fps)
    if fps <= 0:
        raise ValueError(f"target fps must be positive, got {fps}")
    if abs(fps - motion.fps) < 1e-9:
        return motion.copy()
    assert motion.expression is not None
    poses, trans, expression = resample_channels(motion.poses, motion.trans, motion.expression, motion.fps, fps)
    return motion.replace(poses=poses, trans=trans, expression=expression, fps=fps)


def concat_motions(motions: list[Motion], crossfade: int = 0) -> Motion:
    """Concatenate motions, blending ``crossfade`` frames at each junction.

    Args:
        motions: at least one motion; all must share fps, betas size and expression size.
        crossfade: number of overlapping frames at each junction (0 = hard cut).

    Returns:
        A motion of ``sum(T_i) - crossfade * (len(motions) - 1)`` frames with the first
        motion's metadata.
    """
    if not motions:
        raise ValueError("concat needs at least one motion")
    if crossfade < 0:
        raise ValueError(f"crossfade must be >= 0, got {crossfade}")
    out = motions[0].copy()
    for nxt in motions[1:]:
        out = _concat_two(out, nxt, crossfade)
    return out


def _concat_two(a: Motion, b: Motion, n: int) -> Motion:
    from motion.resample import crossfade_channels

    if abs(a.fps - b.fps) > 1e-6:
        raise ValueError(f"cannot concatenate motions at {a.fps:g} and {b.fps:g} fps; resample one first")
    assert a.expression is not None and b.expression is not None
    if a.expression.shape[1] != b.expression.shape[1]:
        raise ValueError(
            f"cannot concatenate motions with {a.expression.shape[1]} and {b.expression.shape[1]} expression coefficients"
        )
    if n > min(a.num_frames, b.num_frames):
        raise ValueError(f"crossfade of {n} frames is longer than a motion ({a.num_frames}, {b.num_frames} frames)")
    poses, trans, expr = crossfade_channels((a.poses, a.trans, a.expression), (b.poses, b.trans, b.expression), n)
    return a.replace(poses=poses, trans=trans, expression=expr)
