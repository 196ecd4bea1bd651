"""Plain helpers shared by test modules (``from helpers import ...``: pytest puts ``tests/`` on the path)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from motion.container import Motion
from motion.pipelines.weights import SHIPPED_WEIGHTS  # the weights the toolkit ships (not $MOTION_WEIGHTS_DIR)
from motion.types import EMOTIONS, JOINT_INDEX


def swaying_motion(num_frames: int, fps: float = 30.0, num_expressions: int = 10) -> Motion:
    """Sinusoidal rotations on every joint, large (up to ~0.75 rad per axis) on the root, spine, a
    wrist, a finger, a foot and the jaw; translation on all three axes; shaped betas."""
    t = np.arange(num_frames)[:, None] / fps
    j = np.arange(55)[None, :, None]
    phase = np.array([0.0, 1.3, 2.1])[None, None, :]
    poses = 0.25 * np.sin(2 * np.pi * (0.4 + 0.05 * j) * t[:, :, None] + phase + j)
    for name in ("pelvis", "spine2", "left_wrist", "left_index2", "right_foot", "jaw"):
        poses[:, JOINT_INDEX[name]] *= 3.0
    trans = np.concatenate([0.2 * np.sin(t), 0.05 * np.cos(3 * t), 0.5 * t], axis=1)
    expression = 0.5 * np.sin(2 * t + np.arange(num_expressions)[None])
    return Motion(poses=poses, trans=trans, betas=np.linspace(-1.0, 1.0, 10), expression=expression, fps=fps)


class Judges:
    """The toolkit's classifiers, each giving ``(8,)`` emotion probabilities for a Motion."""

    def __init__(self) -> None:
        from motion.pipelines.metric_nets import MetricNets

        nets = MetricNets.from_pretrained(SHIPPED_WEIGHTS)  # motion/weights/metrics
        self.face_net, self.body_net = nets["face_emotion"], nets["emotion_classifier"]
        self._geometry: Any = None

    def face(self, m: Motion) -> np.ndarray:
        """What the face emotion classifier sees in the FLAME face (expression + jaw)."""
        from motion.metrics.evaluate_face import build_face_geometry, predict_emotion

        if self._geometry is None:  # the classifier's vertices depend on the prior's expression count
            from motion.pipelines.face import FacePipeline

            E = FacePipeline.from_pretrained(SHIPPED_WEIGHTS / "face").flint.num_expressions
            self._geometry = build_face_geometry(E, self.face_net)
        geom = self._geometry
        verts = geom.vertices(m.expression, m.jaw)
        ids = geom.emotion_ids  # as predict_emotion reads them, with the probabilities kept
        offsets = verts[:, ids] - geom.ids.template[ids].astype(np.float32)
        with torch.no_grad():
            logits = self.face_net(torch.from_numpy(np.ascontiguousarray(offsets, np.float32))[None]).logits[0]
        probs = torch.softmax(logits.double(), -1).numpy()
        assert int(probs.argmax()) == predict_emotion(self.face_net, geom, verts)
        return probs

    def body(self, m: Motion) -> np.ndarray:
        """What the body emotion classifier sees in the body's features (poses + root motion)."""
        from motion.models.body_features import encode_body

        feats = encode_body(torch.from_numpy(m.poses).float(), torch.from_numpy(m.trans).float(), m.fps)
        with torch.no_grad():
            probs = torch.softmax(self.body_net(feats[None])[0].double(), -1).numpy()
        assert int(probs.argmax()) == int(self.body_net.predict([feats])[0])
        return probs


def describe(probs: np.ndarray) -> str:
    """The three most probable emotions, e.g. ``happy 0.93, surprised 0.04, neutral 0.01``."""
    return ", ".join(f"{e} {p:.2f}" for e, p in sorted(zip(EMOTIONS, probs.tolist()), key=lambda x: -x[1])[:3])
