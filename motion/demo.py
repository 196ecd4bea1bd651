"""``motion demo``: the main job, end to end, on what the toolkit can make by itself.

1. generate the synthetic emotional corpus (reused when it is already there);
2. pick one held-out sentence of one speaker, spoken with several emotions;
3. generate whole-character motion (body + face) from each recording with the trained
   weights (shipped in ``motion/weights``, or ``weights=`` / ``$MOTION_WEIGHTS_DIR``), asking
   for the recording's emotion; without weights (or with ``ground_truth=True``) the corpus'
   own motion is shown instead, and the summary says so;
4. render each clip to an MP4 with its audio, plus a still of the first clip;
5. export the first clip to GLB and BVH next to the videos;
6. with trained weights, a real human voice too (``motion/assets/real_voice.wav``, MIT: see
   ``motion/assets/SOURCE.txt``), three times over, its emotion given as a curve
   (:data:`REAL_VOICE_CURVE`: the emotion the shipped weights hear in a real voice is not
   reliable, so it is given): an MP4 with the audio (upper body: the face shows the curve) and
   the curve plot.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

from motion.types import DEMO_EMOTIONS, EMOTIONS

#: The real voice of step 6 (package data) and the emotion curve it is generated with.
REAL_VOICE = Path(__file__).resolve().parent / "assets" / "real_voice.wav"
REAL_VOICE_CURVE = "0:neutral, 3:happy@3, 6:sad@3"
REAL_VOICE_REPEATS = 3


def _pick_clips(corpus_root: Path, emotions: tuple[str, ...]) -> list:
    """Records of one speaker's test sentence at the highest intensity in each emotion."""
    from motion.data.beat2_dataset import Beat2Dataset

    records = list(Beat2Dataset(corpus_root, split="test")) or list(Beat2Dataset(corpus_root))
    groups: dict[tuple, dict[str, object]] = defaultdict(dict)
    for rec in records:
        if rec.emotion in emotions:
            key = (rec.speaker_id, rec.sentence_id)
            best = groups[key].get(rec.emotion)
            if best is None or (rec.intensity or 0) > (getattr(best, "intensity", 0) or 0):
                groups[key][rec.emotion] = rec
    if not groups:
        raise RuntimeError(f"no clips with emotions {emotions} in {corpus_root}")
    key = max(sorted(groups, key=str), key=lambda k: len(groups[k]))
    return [groups[key][e] for e in emotions if e in groups[key]]


def _motions(clips: list, seed: int, weights: str | Path | None, ground_truth: bool
             ) -> tuple[list, str]:
    """The clips' motion: generated from their audio (and emotion), else the corpus' own."""
    from motion.data.formats import read_motion

    if not ground_truth:
        from motion.api import generate
        from motion.pipelines.weights import WeightsNotFoundError

        try:
            return ([generate(rec.wav, emotion=rec.emotion, intensity=float(rec.intensity or 2),
                              seed=seed + i, weights=weights) for i, rec in enumerate(clips)],
                    "generated from the audio")
        except WeightsNotFoundError as exc:
            print(f"no trained weights ({str(exc).splitlines()[0]}); showing the corpus' own "
                  "motion instead", flush=True)
    return [read_motion(rec.npz) for rec in clips], "corpus ground truth"


def run_demo(
    out_dir: Path = Path("outputs/demo"),
    corpus_root: Path = Path("data/corpus"),
    size: str = "small",
    seed: int = 0,
    preset: str = "full_body",
    emotions: tuple[str, ...] = DEMO_EMOTIONS,
    video_size: tuple[int, int] = (640, 480),
    progress: bool = True,
    weights: str | Path | None = None,
    ground_truth: bool = False,
) -> list[Path]:
    """Run the demo; returns the files written (videos, still, exports, summary).

    Args:
        weights: generator weights (default: as :func:`motion.api.generate`).
        ground_truth: show the corpus motion instead of generating it.
    """
    from motion.atomic import atomic_write
    from motion.bodymodels import load_body_model
    from motion.synthetic.corpus import generate_corpus
    from motion.export import export
    from motion.render.still import render_motion_png
    from motion.render.video import render_video

    for e in emotions:
        if e not in EMOTIONS:
            raise ValueError(f"unknown emotion {e!r}")
    corpus_root, out_dir = Path(corpus_root), Path(out_dir)
    if not (corpus_root / "corpus.json").is_file():
        print(f"generating the {size} synthetic corpus in {corpus_root} ...", flush=True)
        generate_corpus(corpus_root, size=size, seed=seed, progress=progress)
    else:
        print(f"reusing the corpus in {corpus_root}", flush=True)
    out_dir.mkdir(parents=True, exist_ok=True)

    clips = _pick_clips(corpus_root, emotions)
    model = load_body_model()
    written: list[Path] = []
    summary = []
    motions, source = _motions(clips, seed, weights, ground_truth)
    print(f"motion: {source}", flush=True)
    for rec, motion in zip(clips, motions):
        stem = f"{rec.id}_{rec.emotion}"
        video = render_video(motion, out_dir / f"{stem}.mp4", audio=rec.wav, preset=preset,
                             size=video_size, body_model=model, progress=progress)
        written.append(video)
        if rec.wav is not None:
            shutil.copyfile(rec.wav, out_dir / f"{stem}.wav")
        summary.append({"id": rec.id, "speaker": rec.speaker, "emotion": rec.emotion,
                        "intensity": rec.intensity, "text": rec.text, "video": video.name,
                        "frames": motion.num_frames, "fps": motion.fps, "source": source,
                        "seed": motion.meta.seed})

    # A still of the first clip's most expressive frame, and its exports.
    first = motions[0]
    written.append(render_motion_png(first, out_dir / f"{clips[0].id}_still.png", preset="upper_body",
                                     body_model=model))
    for suffix in (".glb", ".bvh"):
        written.append(export(first, out_dir / f"{clips[0].id}{suffix}", body_model=model))
    result: dict[str, Any] = {"clips": summary}
    if source == "generated from the audio":
        real, files = _real_voice(out_dir, seed, weights, preset, video_size, model, progress)
        written.extend(files)
        result["real_voice"] = real
    summary_path = out_dir / "demo.json"
    text = json.dumps(result, indent=2) + "\n"
    atomic_write(summary_path, lambda f: f.write(text.encode("utf-8")))
    written.append(summary_path)
    return written


def _real_voice(out_dir: Path, seed: int, weights: str | Path | None, preset: str, video_size: tuple[int, int],
                model: Any, progress: bool) -> tuple[dict[str, Any], list[Path]]:
    """Step 6: the real voice, :data:`REAL_VOICE_REPEATS` times over, with :data:`REAL_VOICE_CURVE`;
    returns its summary and the files written (the speech, the video, the curve plot)."""
    import numpy as np

    from motion.api import generate
    from motion.audio import load_audio, save_wav
    from motion.render.plots import plot_curves
    from motion.render.video import render_video

    voice = load_audio(REAL_VOICE)
    samples = np.concatenate([np.asarray(voice.samples)] * REAL_VOICE_REPEATS)
    wav = save_wav(out_dir / "real_voice.wav", samples, int(voice.sr))
    motion = generate(samples, sr=int(voice.sr), emotion=REAL_VOICE_CURVE, seed=seed, weights=weights)
    # framed closer than the full body (unless a closer preset is asked for): the curve shows in the face
    framing = "upper_body" if preset == "full_body" else preset
    video = render_video(motion, out_dir / "real_voice_curve.mp4", audio=wav, preset=framing, size=video_size,
                         body_model=model, progress=progress)
    plot = plot_curves(motion, out_dir / "real_voice_curve.png", audio=wav, body_model=model)
    summary = {"audio": wav.name, "source": "motion/assets/real_voice.wav (MIT, Montreal Forced Aligner test data), "
               f"{REAL_VOICE_REPEATS} times over", "emotion_curve": REAL_VOICE_CURVE, "video": video.name,
               "plot": plot.name, "frames": motion.num_frames, "fps": motion.fps, "seed": motion.meta.seed}
    return summary, [wav, video, plot]
