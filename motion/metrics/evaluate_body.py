"""``motion evaluate``: body metrics of generated motion against a BEAT2-layout split.

Rows (every one measured with the same networks and skeleton):

* ``ground truth`` - the recorded motion (the reference: FGD 0, the classifiers' ceiling);
* ``generated`` - the body pipeline on each clip's audio, asked for the clip's emotion label
  and intensity (when known; else the audio's own), the audio's own style, seed ``seed + i``;
* ``generated (swapped emotion)`` - optional: each clip asked for another emotion; its
  emotion accuracy is against that requested emotion (controllability);
* ``motion VAE reconstruction`` - the ground truth encoded and decoded (posterior mean) by the
  pipeline's motion VAE, in windows of its training length: everything generated passes through
  this decoder, so this row is the ceiling of what the diffusion stage can reach (a VAE that
  smooths strokes away caps BC and emotion accuracy here);
* ``mean pose`` - the split's mean body features held for the clip's length;
* ``shuffled GT`` - the ground truth of *another* clip of the same speaker (a different
  sentence when there is one), cut or looped to the length: real motion, wrong audio;
* ``GT of other clips`` - optional: the recorded motion of as many clips of *another* split
  (``--reference-split``, e.g. val), with their own labels and audio. It is a second sample
  of the real distribution, so its FGD and intra-FGD are the estimator's finite-sample floor:
  what a perfect generator scores against this many test clips. Fréchet distances of finite
  samples are biased upwards by about 1/N (Chong & Forsyth 2020, "Effectively Unbiased FID",
  Sec. 3); intra-FGD splits the clips eight ways, so its floor is large on small splits
  (measured on the large synthetic corpus: 6.6 for 320 clips, 1.5 for 1152).

Columns: FGD (:func:`motion.metrics.body.fgd` on :class:`MotionFeatureExtractor` features),
intra-FGD (:func:`motion.metrics.body.intra_fgd`: FGD per emotion, the ground truth of
emotion e against the clips *asked* for e, averaged; the pooled FGD cannot tell real motion
of the wrong clip from the right one - "shuffled GT" is a sample of the same distribution,
so its pooled FGD is ~0 by construction - while the per-emotion one can),
BC (beat consistency with the clip's audio onsets), L1div, emotion accuracy
(vs the requested emotion) and style accuracy (vs the clip's speaker) of the classifiers
of :mod:`motion.metrics.classifier`. Without metric networks FGD and the accuracies are
reported as unavailable.

BC settings: EMAGE keeps minima of speed normalised by the training set's mean speed above
0.3 with ``order`` 7 on long BEAT recordings. The synthetic corpus' gestures come to a full
stop between strokes (minima at 10-30 % of the mean speed) and its clips last 2-4 s, so here
a beat is a minimum over +-4 frames (``BC_ORDER``) above 0.1 x the ground truth's mean
upper-body speed (``BC_THRESHOLD_FACTOR``); both are recorded in the JSON. Note that with
syllable-rate onsets (every ~0.15 s) and sigma = 0.3 s, BC mostly counts motion beats:
on the tiny corpus ground truth scores 0.72 and another clip's motion 0.70.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from motion.metrics import body as M
from motion.pipelines.request import DEFAULT_STEPS
from motion.types import EMOTIONS, FPS

#: Motion-beat settings of BC (module docstring).
BC_ORDER = 4
BC_THRESHOLD_FACTOR = 0.1
ROWS = ("ground truth", "GT of other clips", "motion VAE reconstruction", "generated",
        "generated (swapped emotion)", "mean pose", "shuffled GT")


@dataclass
class EvalClip:
    """One test clip: id, labels (-1 = unknown), audio, ground-truth body features, onsets."""

    id: str
    speaker: int
    emotion: int
    intensity: float
    sentence: int | None
    wav: Path
    features: np.ndarray  # (T, 315)
    onsets: np.ndarray  # (K,) motion frames


def load_clips(root: str | Path, split: str, max_clips: int | None = None,
               progress: bool = False) -> list[EvalClip]:
    """Clips of ``split`` with ground-truth body features and audio onsets (30 fps);
    ``progress``: a tqdm bar on stderr."""
    from tqdm.auto import tqdm

    from motion.audio import compute_features, load_audio
    from motion.data.beat2_dataset import index_beat2
    from motion.data.formats.beat2 import read_beat2
    from motion.models.body_features import encode_body

    recs = spread_subset(index_beat2(root, split=split), max_clips)
    if not recs:
        raise ValueError(f"no clips of split {split!r} in {root}")
    out = []
    for r in tqdm(recs, desc=f"load {split}", unit="clip", disable=not progress):
        m = read_beat2(r.npz, fps=FPS)
        feats = encode_body(torch.from_numpy(m.poses), torch.from_numpy(m.trans), FPS).numpy()
        onsets = compute_features(load_audio(r.wav, allow_silent=True), fps=FPS).onsets  # type: ignore[arg-type]
        out.append(EvalClip(r.id, r.speaker_id if r.speaker_id is not None else -1,
                            EMOTIONS.index(r.emotion) if r.emotion else -1,
                            float(r.intensity) if r.intensity is not None else -1.0,
                            r.sentence_id, r.wav, feats, onsets))  # type: ignore[arg-type]
    return out


class LabelledClip(Protocol):
    """What :func:`shuffled_partner` reads of a clip (:class:`EvalClip`, the face evaluation's clips)."""

    speaker: int
    sentence: int | None


def spread_subset(records: list[Any], max_clips: int | None) -> list[Any]:
    """At most ``max_clips`` records, drawn evenly at random (seed 0, order kept), so a subset
    still covers every speaker, emotion, intensity and sentence of a split (the index is
    sorted by speaker, then emotion)."""
    if not max_clips or max_clips >= len(records):
        return list(records)
    keep = np.sort(np.random.default_rng(0).choice(len(records), max_clips, replace=False))
    return [records[i] for i in keep]


def shuffled_partner(clips: Sequence[LabelledClip], i: int) -> int:
    """Index of another clip of the same speaker (different sentence first), else any other."""
    c = clips[i]
    same = [j for j, o in enumerate(clips) if j != i and o.speaker == c.speaker]
    other_sentence = [j for j in same if clips[j].sentence != c.sentence or c.sentence is None]
    pool = other_sentence or same or [j for j in range(len(clips)) if j != i] or [i]
    return pool[(i * 7919) % len(pool)]


def swapped_emotion(emotion: int, i: int) -> int:
    """The emotion index clip ``i`` (label ``emotion``, -1 unknown) is asked for in the swapped row:
    never its own, cycling through the others with ``i``."""
    return (max(emotion, 0) + 1 + i % (len(EMOTIONS) - 1)) % len(EMOTIONS)


def vae_reconstruction(vae: Any, features: np.ndarray, window: int | None = None) -> np.ndarray:
    """``(T, 315)`` ground truth -> decode(encode(x).mean), in consecutive windows of ``window``
    frames (default: the whole clip), as the pipeline decodes its windows."""
    x = torch.from_numpy(np.ascontiguousarray(features, np.float32))[None]
    step = window or x.shape[1]
    parts = []
    with torch.no_grad():
        for s in range(0, x.shape[1], step):
            dist = vae.encode(x[:, s:s + step])
            parts.append(vae.decode(dist.mean, dist.num_frames)[0])
    return torch.cat(parts).numpy()


def _fit(x: np.ndarray, T: int) -> np.ndarray:
    reps = -(-T // x.shape[0])
    return np.concatenate([x] * reps)[:T] if reps > 1 else x[:T]


def _joints(feats: np.ndarray) -> np.ndarray:
    from motion.models.body_features import decode_body

    poses, _ = decode_body(torch.from_numpy(np.ascontiguousarray(feats, np.float32)))
    return M.joint_positions(poses.numpy())


def _clip_features(net: Any, feats: list[np.ndarray]) -> list[np.ndarray]:
    """Per-clip FGD features ``[(N_i, D)]``."""
    return [net.clip_features([torch.from_numpy(np.ascontiguousarray(f, np.float32))]).numpy()
            for f in feats]


def _score(feats: list[np.ndarray], clips: Sequence[EvalClip], wanted_emotion: list[int],
           nets: dict[str, Any] | None, gt_fgd: list[np.ndarray] | None, gt_emotion: list[int],
           threshold: float) -> dict[str, Any]:
    """One row's metrics. ``clips`` give the audio onsets (BC) and speakers (style accuracy) of
    ``feats``; ``gt_fgd`` / ``gt_emotion`` are the features and labels of the ground truth."""
    joints = [_joints(f) for f in feats]
    bcs = [M.beat_consistency(j, c.onsets, FPS, threshold=threshold, order=BC_ORDER)
           for j, c in zip(joints, clips)]
    row: dict[str, Any] = {"bc": float(np.nanmean(bcs)) if np.isfinite(bcs).any() else float("nan"),
                           "l1div": M.l1div(joints), "fgd": None, "fgd_intra": None,
                           "emotion_acc": None, "style_acc": None}
    if nets is not None:
        assert gt_fgd is not None
        tens = [torch.from_numpy(np.ascontiguousarray(f, np.float32)) for f in feats]
        mine = _clip_features(nets["feature_extractor"], feats)
        row["fgd"] = M.fgd(np.concatenate(gt_fgd), np.concatenate(mine))
        row["fgd_intra"] = M.intra_fgd(gt_fgd, gt_emotion, mine, wanted_emotion)
        for key, net, labels in (("emotion_acc", nets["emotion_classifier"], wanted_emotion),
                                 ("style_acc", nets["speaker_classifier"], [c.speaker for c in clips])):
            lab = np.asarray(labels)
            known = (lab >= 0) & (lab < net.num_classes)
            if known.any():
                pred = net.predict([t for t, k in zip(tens, known) if k]).numpy()
                row[key] = float((pred == lab[known]).mean())
    return row


def evaluate_body(clips: list[EvalClip], pipe: Any, nets: dict[str, Any] | None, seed: int = 0,
                  steps: int = DEFAULT_STEPS, swap_emotions: bool = False,
                  reference: Sequence[EvalClip] | None = None, progress: bool = False,
                  **pipe_options: Any) -> dict[str, Any]:
    """Generate for every clip and score every row (module docstring); JSON-ready dict.

    ``reference``: clips of another split for the "GT of other clips" row (the metrics' floor);
    best as many as ``clips``. ``result["checks"]`` holds the targets (:func:`body_checks`).
    ``progress``: a tqdm bar over the generation on stderr.
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    gt = [c.features for c in clips]
    gen, swapped, swap_req = [], [], []
    for i, c in enumerate(tqdm(clips, desc="generate body", unit="clip", disable=not progress)):
        emo = EMOTIONS[c.emotion] if c.emotion >= 0 else None
        inten = c.intensity if c.intensity >= 0 and emo is not None else None
        out = pipe(str(c.wav), emotion=emo, intensity=inten, seed=seed + i, steps=steps, **pipe_options)
        gen.append(_fit(out.body_features, c.features.shape[0]))
        if swap_emotions:
            req = swapped_emotion(c.emotion, i)
            out = pipe(str(c.wav), emotion=EMOTIONS[req], intensity=inten or 2.0, seed=seed + i,
                       steps=steps, **pipe_options)
            swapped.append(_fit(out.body_features, c.features.shape[0]))
            swap_req.append(req)
    gen_s = time.perf_counter() - t0
    mean = np.concatenate(gt).mean(0, keepdims=True)
    rows_feats = {"ground truth": gt, "generated": gen,
                  "mean pose": [np.repeat(mean, f.shape[0], 0) for f in gt],
                  "shuffled GT": [_fit(gt[shuffled_partner(clips, i)], f.shape[0]) for i, f in enumerate(gt)]}
    vae = getattr(pipe, "vae", None)
    if vae is not None:
        rows_feats["motion VAE reconstruction"] = [
            vae_reconstruction(vae, f, getattr(pipe, "train_window", None)) for f in gt]
    wanted = {k: [c.emotion for c in clips] for k in rows_feats}
    if swap_emotions:
        rows_feats["generated (swapped emotion)"] = swapped
        wanted["generated (swapped emotion)"] = swap_req
    row_clips: dict[str, Sequence[EvalClip]] = dict.fromkeys(rows_feats, clips)
    if reference:  # scored with its own audio, labels and speakers
        rows_feats["GT of other clips"] = [c.features for c in reference]
        wanted["GT of other clips"] = [c.emotion for c in reference]
        row_clips["GT of other clips"] = reference
    speed = np.concatenate([M.joint_speed(_joints(f), FPS)[:, list(M.UPPER_BODY)].mean(1) for f in gt])
    threshold = BC_THRESHOLD_FACTOR * float(speed.mean())
    gt_fgd = None
    if nets is not None:
        gt_fgd = _clip_features(nets["feature_extractor"], gt)
    gt_emotion = [c.emotion for c in clips]
    rows = {name: _score(rows_feats[name], row_clips[name], wanted[name], nets, gt_fgd, gt_emotion,
                         threshold)
            for name in ROWS if name in rows_feats}
    result = {"clips": len(clips), "reference_clips": len(reference or ()), "rows": rows,
              "bc": {"threshold_m_s": threshold, "order": BC_ORDER, "sigma_s": 0.3},
              "generation_s": gen_s, "audio_s": float(sum(f.shape[0] for f in gt) / FPS),
              "settings": {"seed": seed, "steps": steps, "swap_emotions": swap_emotions, **pipe_options}}
    result["checks"] = body_checks(result)
    return result


def body_checks(result: dict[str, Any]) -> dict[str, bool | None]:
    """The body targets on :func:`evaluate_body`'s result (None: not measured).

    * ``fgd_half_of_mean_pose`` - generated FGD at most half the mean pose's;
    * ``intra_fgd_half_of_shuffled_gt`` - generated intra-FGD at most half that of real motion
      of another clip of the same speaker (the pooled FGD of that baseline is ~0 by
      construction, module docstring);
    * ``bc_80_of_gt``, ``emotion_80_of_gt`` - beat consistency and emotion accuracy at least
      80 % of the ground truth's;
    * ``swap_emotion_majority`` - asked for another emotion, the classifier names it in more
      than half of the clips.
    """
    rows = result["rows"]
    get = lambda row, key: (rows.get(row) or {}).get(key)

    def at_most(key: str, base_row: str, factor: float) -> bool | None:
        mine, base = get("generated", key), get(base_row, key)
        return None if mine is None or base is None else bool(mine <= factor * base)

    def at_least(key: str, factor: float) -> bool | None:
        mine, gt = get("generated", key), get("ground truth", key)
        return None if mine is None or gt is None else bool(mine >= factor * gt)

    swap = get("generated (swapped emotion)", "emotion_acc")
    return {"fgd_half_of_mean_pose": at_most("fgd", "mean pose", 0.5),
            "intra_fgd_half_of_shuffled_gt": at_most("fgd_intra", "shuffled GT", 0.5),
            "bc_80_of_gt": at_least("bc", 0.8), "emotion_80_of_gt": at_least("emotion_acc", 0.8),
            "swap_emotion_majority": None if swap is None else bool(swap > 0.5)}


def format_rows(rows: dict[str, dict[str, Any]], cols: Sequence[tuple[str, str, str]]) -> str:
    """``rows`` (name -> {key: value}) as an aligned text table; ``cols``: (header, key, format).
    None and NaN print as ``n/a``."""
    lines = [f"{'':30s}" + "".join(f"{h:>13s}" for h, _, _ in cols)]
    for name, row in rows.items():
        cells = []
        for _, key, fmt in cols:
            v = row.get(key)
            cells.append("n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else fmt.format(v))
        lines.append(f"{name:30s}" + "".join(f"{c:>13s}" for c in cells))
    return "\n".join(lines)


def format_table(result: dict[str, Any]) -> str:
    """The rows of :func:`evaluate_body` as an aligned text table."""
    cols = (("FGD", "fgd", "{:.3f}"), ("intra-FGD", "fgd_intra", "{:.3f}"), ("BC", "bc", "{:.3f}"),
            ("L1div", "l1div", "{:.3f}"),
            ("emotion acc", "emotion_acc", "{:.1%}"), ("style acc", "style_acc", "{:.1%}"))
    lines = [format_rows(result["rows"], cols)]
    if result.get("checks"):
        lines.append(format_checks(result["checks"]))
    return "\n".join(lines)


def format_checks(checks: dict[str, bool | None]) -> str:
    """``checks: name ok, name FAIL, name n/a`` (n/a: not measured)."""
    word = {True: "ok", False: "FAIL", None: "n/a"}
    return "checks: " + ", ".join(f"{k} {word[v]}" for k, v in checks.items())
