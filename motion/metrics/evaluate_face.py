"""``motion evaluate --part face``: face metrics of generated FLAME animation against a BEAT2-layout split.

Rows (every one measured on the same FLAME vertices, from the first ``E`` expression
coefficients - the face pipeline's prior's ``E``, 50 - and the jaw; eye rotations play no part):

* ``ground truth`` - the recorded face (the reference: LVE and FDD 0, the classifier's ceiling);
* ``generated`` - the face pipeline on each clip's audio, asked for the clip's emotion label and
  intensity (when known; else the emotion the audio carries, intensity 2), the clip's speaker id as
  style (when known and the model takes speaker ids; else the audio's own), seed ``seed + i``;
  from the audio alone, as ``motion generate`` (``use_phonemes=True`` also hands the pipeline
  the clip's phoneme timings, so its smoothing keeps known closures shut);
* ``generated (swapped emotion)`` - optional: each clip asked for another emotion
  (:func:`motion.metrics.evaluate_body.swapped_emotion`); LVE and FDD against the ground truth
  (the lips must stay those of the audio), emotion accuracy against the requested emotion;
* ``neutral face`` - zero expression, zero jaw (the template);
* ``shuffled GT`` - the ground truth of *another* clip of the same speaker (a different sentence
  when there is one), cut or looped to the length: a real face, the wrong audio.

Columns (:mod:`motion.metrics.face`):

* ``lve_mm`` - lip vertex error: per frame the max lip-vertex L2 error, averaged over all frames
  of all clips (mm);
* ``fdd_mm`` - upper-face dynamics deviation against the ground truth, averaged over clips (mm);
* ``bilabial_acc`` - share of the split's bilabial phonemes (p, b, m; the corpus timings) whose
  middle frame has the inner lips closer than ``CLOSURE_THRESHOLD`` (2 mm), pooled over clips;
* ``emotion_acc`` - how often the face emotion classifier (a ``FaceEmotionNet`` export of
  :mod:`motion.training.face_classifiers`, fed the vertex offsets of its own region / stride)
  recognises the wanted emotion in a clip (known labels only); None without a classifier.

Blinks: the pipeline runs on one ``blink_seconds`` (default 120 s) recording made by looping
the clips' audio (16 kHz) end to end (emotion as heard, intensity 2, seed ``seed``); blink rate
per minute and longest blink (s) come from the eyelid closure of its vertices
(:func:`~motion.metrics.face.eyelid_closure`, episodes above 0.5). The ground truth is measured
on the same clips' faces, concatenated in the same order and cut to the same length.

``checks`` records the targets of the face evaluation (None where a number is missing):
LVE at most half that of the neutral face and of the shuffled ground truth; closure on at least
80 % of bilabials; emotion accuracy at least 80 % of the ground truth's; swapped-emotion LVE
within 20 % of the unswapped; 8-30 blinks per minute, none longer than 0.5 s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from motion.metrics.evaluate_body import (
    _fit,
    format_checks,
    format_rows,
    shuffled_partner,
    spread_subset,
    swapped_emotion,
)
from motion.metrics.face import FaceMetricIds
from motion.types import AUDIO_SR, EMOTIONS, FPS

ROWS = ("ground truth", "generated", "generated (swapped emotion)", "neutral face", "shuffled GT")
#: Inner-lip gap (m) below which the mouth counts as closed (:func:`motion.metrics.face.bilabial_closure_accuracy`).
CLOSURE_THRESHOLD = 0.002
#: Length of the blink recording (s) and the targets of ``checks``.
BLINK_SECONDS = 120.0
BLINK_RATE_RANGE = (8.0, 30.0)
MAX_BLINK_S = 0.5
#: Export name of the face emotion classifier (``<dir>/face_emotion.{json,safetensors}``).
FACE_EMOTION = "face_emotion"


@dataclass
class FaceClip:
    """One test clip: id, labels (-1 = unknown), audio, ground-truth face, phoneme timings (or None)."""

    id: str
    speaker: int
    emotion: int
    intensity: float
    sentence: int | None
    wav: Path
    expression: np.ndarray  # (T, 100)
    jaw: np.ndarray  # (T, 3)
    timings: dict[str, Any] | None

    @property
    def num_frames(self) -> int:
        return int(self.expression.shape[0])


def load_face_clips(root: str | Path, split: str, max_clips: int | None = None,
                    progress: bool = False) -> list[FaceClip]:
    """Clips of ``split`` with their ground-truth face (30 fps) and phoneme timings;
    ``progress``: a tqdm bar on stderr."""
    from tqdm.auto import tqdm

    from motion.data.beat2_dataset import Beat2Dataset

    ds = Beat2Dataset(root, split=split)
    recs = spread_subset(ds.records, max_clips)
    if not recs:
        raise ValueError(f"no clips of split {split!r} in {root}")
    out = []
    for r in tqdm(recs, desc=f"load {split} (face)", unit="clip", disable=not progress):
        m = ds.load_motion(r, fps=FPS)
        if m.expression is None:
            raise ValueError(f"clip {r.id} has no face (expressions) to compare with")
        try:
            timings: dict[str, Any] | None = ds.load_timings(r)
        except FileNotFoundError:
            timings = None
        out.append(FaceClip(r.id, r.speaker_id if r.speaker_id is not None else -1,
                            EMOTIONS.index(r.emotion) if r.emotion else -1,
                            float(r.intensity) if r.intensity is not None else -1.0,
                            r.sentence_id, r.wav, m.expression.astype(np.float32),  # type: ignore[arg-type]
                            m.jaw.astype(np.float32), timings))
    return out


# --------------------------------------------------------------------------- geometry
@dataclass(frozen=True)
class FaceGeometry:
    """A FLAME layer over only the vertices the metrics and the classifier look at.

    Attributes:
        layer: expression + jaw -> vertices ``(..., U, 3)`` of the kept vertices (m).
        ids: the metric ids as positions among the kept vertices (``template`` ``(U, 3)``).
        emotion_ids: ``(K,)`` positions of the classifier's region / stride, or None.
    """

    layer: Any  # FlameExpressionLayer
    ids: FaceMetricIds
    emotion_ids: np.ndarray | None

    @property
    def num_expressions(self) -> int:
        return int(self.layer.num_expressions)

    def vertices(self, expression: np.ndarray, jaw: np.ndarray, keep: np.ndarray | None = None,
                 chunk: int = 900) -> np.ndarray:
        """``(T, U, 3)`` (or ``(T, len(keep), 3)``) float32 vertices from expression ``(T, >= E)``
        (its first E coefficients) and jaw ``(T, 3)``, ``chunk`` frames at a time."""
        E = self.num_expressions
        e = np.zeros((expression.shape[0], E), np.float32)
        e[:, :min(E, expression.shape[1])] = expression[:, :E]
        et, jt = torch.from_numpy(e), torch.from_numpy(np.ascontiguousarray(jaw, np.float32))
        parts = []
        with torch.no_grad():
            for a in range(0, e.shape[0], chunk):
                v = self.layer(et[a:a + chunk], jt[a:a + chunk])
                parts.append((v if keep is None else v[:, torch.from_numpy(keep)]).numpy())
        width = self.layer.num_vertices if keep is None else len(keep)
        return np.concatenate(parts) if parts else np.zeros((0, width, 3), np.float32)

    def eyelid_closure(self, expression: np.ndarray, jaw: np.ndarray) -> np.ndarray:
        """``(T,)`` eyelid closure in [0, 1] (:func:`motion.metrics.face.eyelid_closure`)."""
        from motion.metrics.face import eyelid_closure

        flat = self.ids.lid_pairs.ravel()
        v = self.vertices(expression, jaw, keep=flat)
        return eyelid_closure(v, np.arange(flat.size).reshape(-1, 2), self.ids.template[flat])


def build_face_geometry(num_expressions: int, face_emotion: nn.Module | None = None,
                        models_dir: str | None = None) -> FaceGeometry:
    """The :class:`FaceGeometry` of the FLAME model (``models_dir``; None: ``$MOTION_MODELS_DIR`` or
    the stand-in) for ``num_expressions`` coefficients and the classifier's vertex region."""
    from motion.bodymodels import load_face_model
    from motion.metrics.face import face_metric_ids
    from motion.models.face.flame_layer import FlameExpressionLayer
    from motion.models.face.vertices import region_vertex_ids

    model = load_face_model(models_dir)
    full = face_metric_ids(model, models_dir)
    emo = None
    if face_emotion is not None:
        from motion.models.face.perceptual import perceptual_vertex_set

        region, stride = perceptual_vertex_set(face_emotion)
        emo = region_vertex_ids(region, model, num_expressions, models_dir, stride)
    parts = [full.lips, full.upper_face, np.asarray(full.lip_centres), full.lid_pairs.ravel()]
    union = np.unique(np.concatenate([np.asarray(p, np.int64) for p in parts + ([emo] if emo is not None else [])]))
    pos = lambda ids: np.searchsorted(union, np.asarray(ids, np.int64))
    ids = FaceMetricIds(lips=pos(full.lips), upper_face=pos(full.upper_face),
                        lip_centres=(int(pos(full.lip_centres[0])), int(pos(full.lip_centres[1]))),
                        lid_pairs=pos(full.lid_pairs), template=np.asarray(full.template)[union])
    layer = FlameExpressionLayer.from_flame(model, num_expressions, union)
    return FaceGeometry(layer, ids, None if emo is None else pos(emo))


# --------------------------------------------------------------------------- classifier
def predict_emotion(net: nn.Module, geom: FaceGeometry, verts: np.ndarray) -> int:
    """Emotion index the classifier sees in one clip's kept vertices ``(T, U, 3)``."""
    if geom.emotion_ids is None:
        raise ValueError("the face geometry was built without the classifier's vertex region")
    ids = geom.emotion_ids
    offsets = verts[:, ids] - geom.ids.template[ids].astype(np.float32)  # (T, K, 3)
    with torch.no_grad():
        logits = net(torch.from_numpy(np.ascontiguousarray(offsets, np.float32))[None]).logits
    if logits is None:
        raise ValueError("the face emotion classifier returns no logits")
    return int(logits[0].argmax())


# --------------------------------------------------------------------------- rows
def _fit_face(expression: np.ndarray, jaw: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Expression and jaw cut or looped to ``T`` frames (:func:`motion.metrics.evaluate_body._fit`)."""
    return _fit(expression, T), _fit(jaw, T)


def _style(face_pipe: Any, speaker: int) -> int | None:
    """The speaker id as style when known and the model takes speaker ids, else None (the audio's own)."""
    takes_ids = getattr(face_pipe, "settings", {}).get("style_input", "speaker") == "speaker"
    return speaker if takes_ids and speaker >= 0 else None


def _generate(clips: list[FaceClip], face_pipe: Any, seed: int, swap_emotions: bool, use_phonemes: bool,
              phones: str = "detector") -> tuple[list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, np.ndarray]], list[int]]:
    """(expression, jaw) of the generated and swapped rows, and the swapped rows' requested emotions."""
    E = face_pipe.flint.num_expressions
    gen, swapped, swap_req = [], [], []
    for i, c in enumerate(clips):
        emo = EMOTIONS[c.emotion] if c.emotion >= 0 else None
        inten = c.intensity if c.intensity >= 0 and emo is not None else 2.0
        kw = {"style": _style(face_pipe, c.speaker), "seed": seed + i,
              "phonemes": c.timings if use_phonemes else None, "phones": phones}
        out = face_pipe(str(c.wav), emotion=emo, intensity=inten, **kw)
        gen.append(_fit_face(out.expression[:, :E], out.jaw, c.num_frames))
        if swap_emotions:
            req = swapped_emotion(c.emotion, i)
            out = face_pipe(str(c.wav), emotion=EMOTIONS[req], intensity=inten, **kw)
            swapped.append(_fit_face(out.expression[:, :E], out.jaw, c.num_frames))
            swap_req.append(req)
    return gen, swapped, swap_req


def _score(verts: list[np.ndarray], gt: list[np.ndarray], clips: list[FaceClip], wanted: list[int],
           geom: FaceGeometry, net: nn.Module | None) -> dict[str, Any]:
    """The columns of one row from its per-clip kept vertices ``(T, U, 3)``."""
    from motion.metrics.face import (
        bilabial_closure_accuracy,
        bilabial_middle_frames,
        fdd,
        lve,
    )

    ids, frames = geom.ids, np.array([v.shape[0] for v in verts], np.float64)
    lves = np.array([lve(v, g, ids.lips) for v, g in zip(verts, gt)])
    closed = total = 0.0
    for v, c in zip(verts, clips):
        n = len(bilabial_middle_frames(c.timings, v.shape[0], FPS)) if c.timings is not None else 0
        if n:
            closed += n * bilabial_closure_accuracy(v, c.timings, FPS, ids.lip_centres, CLOSURE_THRESHOLD)  # type: ignore[arg-type]
            total += n
    row: dict[str, Any] = {
        "lve_mm": 1e3 * float((lves * frames).sum() / frames.sum()),
        "fdd_mm": 1e3 * float(np.mean([fdd(v, g, ids.upper_face, ids.template) for v, g in zip(verts, gt)])),
        "bilabial_acc": float(closed / total) if total else None, "bilabials": int(total), "emotion_acc": None}
    if net is not None:
        lab = np.asarray(wanted)
        known = (lab >= 0) & (lab < int(getattr(net, "num_classes", len(EMOTIONS))))
        if known.any():
            pred = np.array([predict_emotion(net, geom, v) for v, k in zip(verts, known) if k])
            row["emotion_acc"] = float((pred == lab[known]).mean())
    return row


def _row_params(clips: list[FaceClip], E: int, gen: list[tuple[np.ndarray, np.ndarray]],
                swapped: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """(expression ``(T, E)``, jaw ``(T, 3)``) per clip of every row."""
    gt = [(c.expression[:, :E], c.jaw) for c in clips]
    rows = {"ground truth": gt, "generated": gen,
            "neutral face": [(np.zeros((c.num_frames, E), np.float32), np.zeros((c.num_frames, 3), np.float32))
                             for c in clips],
            "shuffled GT": [_fit_face(*gt[shuffled_partner(clips, i)], c.num_frames) for i, c in enumerate(clips)]}
    if swapped:
        rows["generated (swapped emotion)"] = swapped
    return rows


# --------------------------------------------------------------------------- blinks
def blink_recording(clips: list[FaceClip], seconds: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The clips looped end to end to ``seconds``: 16 kHz audio ``(N,)``, the ground-truth expression
    ``(T, 100)`` and jaw ``(T, 3)`` (T = round(seconds x 30)), and how many clips were used."""
    from motion.audio import load_audio

    N, T = round(seconds * AUDIO_SR), round(seconds * FPS)
    audio, expr, jaw = [], [], []
    have_n = have_t = used = 0
    while have_n < N or have_t < T:
        c = clips[used % len(clips)]
        a = load_audio(c.wav, sr=AUDIO_SR, allow_silent=True).samples
        audio.append(a)
        expr.append(c.expression)
        jaw.append(c.jaw)
        have_n, have_t, used = have_n + a.size, have_t + c.num_frames, used + 1
        if used > 100_000:
            raise ValueError("the clips hold no audio or frames to loop")
    return (np.concatenate(audio)[:N].astype(np.float32), np.concatenate(expr)[:T], np.concatenate(jaw)[:T],
            min(used, len(clips)))


def _blink_stats(closure: np.ndarray) -> dict[str, float | int]:
    from motion.metrics.face import blink_episodes, blink_rate, max_blink_duration

    return {"rate_per_min": blink_rate(closure, FPS), "max_duration_s": max_blink_duration(closure, FPS),
            "blinks": len(blink_episodes(closure))}


def evaluate_blinks(clips: list[FaceClip], face_pipe: Any, geom: FaceGeometry, seed: int = 0,
                    seconds: float = BLINK_SECONDS) -> dict[str, Any]:
    """Blink rate and longest blink of the pipeline on the looped clips' audio, and of their ground truth."""
    audio, gt_expr, gt_jaw, used = blink_recording(clips, seconds)
    t0 = time.perf_counter()
    out = face_pipe(audio, emotion=None, intensity=2.0, style=None, seed=seed)
    gen_s = time.perf_counter() - t0
    return {"seconds": seconds, "clips": used, "generation_s": gen_s,
            "generated": _blink_stats(geom.eyelid_closure(out.expression, out.jaw)),
            "ground truth": _blink_stats(geom.eyelid_closure(gt_expr, gt_jaw)),
            "threshold": 0.5}


# --------------------------------------------------------------------------- evaluation
def evaluate_face(clips: list[FaceClip], face_pipe: Any, face_emotion: nn.Module | None = None, seed: int = 0,
                  swap_emotions: bool = False, blink_seconds: float | None = BLINK_SECONDS,
                  use_phonemes: bool = False, models_dir: str | None = None, phones: str = "detector") -> dict[str, Any]:
    """Generate for every clip and score every row (module docstring); JSON-ready dict.

    Args:
        clips: :func:`load_face_clips`.
        face_pipe: a :class:`motion.pipelines.face.FacePipeline` (or anything with its call and ``flint``).
        face_emotion: the face emotion classifier (``face_emotion`` of
            :class:`~motion.pipelines.metric_nets.MetricNets`); None: no emotion accuracy.
        seed: seed of the first clip (clip ``i`` gets ``seed + i``; the blink recording ``seed``).
        swap_emotions: add the ``generated (swapped emotion)`` row.
        blink_seconds: length of the blink recording (None or 0: no blink section).
        use_phonemes: give the pipeline the clips' phoneme timings.
        models_dir: FLAME model folder of the vertices (None: ``$MOTION_MODELS_DIR`` or the stand-in).
        phones: how the pipeline finds the phones of the audio (``FacePipeline(phones=...)``).

    Raises:
        TypeError: ``face_emotion`` is not a face perceptual network.
    """
    if face_emotion is not None:
        from motion.models.face.perceptual import check_perceptual

        check_perceptual(face_emotion, FACE_EMOTION)
    E = int(face_pipe.flint.num_expressions)
    geom = build_face_geometry(E, face_emotion, models_dir)
    t0 = time.perf_counter()
    gen, swapped, swap_req = _generate(clips, face_pipe, seed, swap_emotions, use_phonemes, phones)
    gen_s = time.perf_counter() - t0
    params = _row_params(clips, E, gen, swapped)
    wanted = {name: [c.emotion for c in clips] for name in params}
    wanted["generated (swapped emotion)"] = swap_req
    gt = [geom.vertices(*p) for p in params["ground truth"]]
    rows = {name: _score([geom.vertices(*p) for p in params[name]], gt, clips, wanted[name], geom, face_emotion)
            for name in ROWS if name in params}
    result: dict[str, Any] = {
        "clips": len(clips), "rows": rows, "closure_threshold_mm": 1e3 * CLOSURE_THRESHOLD,
        "generation_s": gen_s, "audio_s": float(sum(c.num_frames for c in clips) / FPS),
        "blinks": evaluate_blinks(clips, face_pipe, geom, seed, blink_seconds) if blink_seconds else None,
        "settings": {"seed": seed, "swap_emotions": swap_emotions, "use_phonemes": use_phonemes, "phones": phones,
                     "num_expressions": E, "blink_seconds": blink_seconds}}
    result["checks"] = face_checks(result)
    return result


def face_checks(result: dict[str, Any]) -> dict[str, bool | None]:
    """The targets of the face evaluation (module docstring) on :func:`evaluate_face`'s result."""
    rows = result["rows"]
    get = lambda row, key: (rows.get(row) or {}).get(key)
    gen_lve, swap_lve = get("generated", "lve_mm"), get("generated (swapped emotion)", "lve_mm")
    gen_emo, gt_emo, closure = get("generated", "emotion_acc"), get("ground truth", "emotion_acc"), \
        get("generated", "bilabial_acc")
    half = lambda base: None if gen_lve is None or base is None else bool(gen_lve <= 0.5 * base)
    blinks = (result.get("blinks") or {}).get("generated")
    lo, hi = BLINK_RATE_RANGE
    return {
        "lve_half_of_neutral": half(get("neutral face", "lve_mm")),
        "lve_half_of_shuffled_gt": half(get("shuffled GT", "lve_mm")),
        "bilabial_closure_80": None if closure is None else bool(closure >= 0.8),
        "emotion_80_of_gt": None if gen_emo is None or gt_emo is None else bool(gen_emo >= 0.8 * gt_emo),
        "swap_lve_within_20": None if swap_lve is None or gen_lve is None
        else bool(abs(swap_lve - gen_lve) <= 0.2 * gen_lve),
        "blink_rate_8_30": None if blinks is None else bool(lo <= blinks["rate_per_min"] <= hi),
        "blinks_under_0.5s": None if blinks is None else bool(blinks["max_duration_s"] <= MAX_BLINK_S),
    }


def format_face_table(result: dict[str, Any]) -> str:
    """The rows of :func:`evaluate_face` as an aligned text table, then the blinks and the checks."""
    cols = (("LVE (mm)", "lve_mm", "{:.3f}"), ("FDD (mm)", "fdd_mm", "{:.4f}"),
            ("bilabial acc", "bilabial_acc", "{:.1%}"), ("emotion acc", "emotion_acc", "{:.1%}"))
    lines = [format_rows(result["rows"], cols)]
    b = result.get("blinks")
    if b:
        stat = lambda s: f"{s['rate_per_min']:.1f} /min, longest {s['max_duration_s']:.2f} s"
        lines.append(f"blinks over {b['seconds']:.0f} s ({b['clips']} clips looped): generated "
                     f"{stat(b['generated'])}; ground truth {stat(b['ground truth'])}")
    if result.get("checks"):
        lines.append(format_checks(result["checks"]))
    return "\n".join(lines)
