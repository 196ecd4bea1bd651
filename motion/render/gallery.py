"""Make the README gallery with the toolkit itself: ``python -m motion.render.gallery [OUT_DIR]``.

Reproducible (fixed seed, built-in stand-in models): generates a one-speaker, one-sentence
corpus (five emotions, intensity 3) in a temporary folder, then writes into ``OUT_DIR``
(default ``renders/``):

* ``emotions_still.png``: the same sentence in four emotions, each at its most expressive
  frame with open eyes (face framing, labelled);
* ``emotions_grid.mp4``: the four clips side by side as a video (a few seconds, < 1 MB);
* ``happy_face.mp4``: the happy clip with its audio, face framing;
* ``curves_happy.png``: jaw opening, hand speed and expression energy against the waveform;
* the stand-in stills of :mod:`motion.render.standin_gallery`;
* with trained weights (shipped in ``motion/weights``), generated motion:
  ``generated_emotions.png`` (the neutral recording, four requested emotions, upper-body framing at
  the same frame), ``generated_emotions_grid.mp4`` (the four side by side) and
  ``generated_angry.mp4`` (body + face with the audio).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from motion.types import DEMO_EMOTIONS

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion

#: Corpus seed of the gallery.
SEED = 0


def showcase_frame(motion: Motion) -> int:
    """The most expressive frame with both eyes open (stand-in blink coefficients < 0.05)."""
    import numpy as np

    from motion.bodymodels.names import expression_index

    assert motion.expression is not None
    e = motion.expression
    energy = np.linalg.norm(e, axis=1)
    blinks = e[:, [expression_index("blink_left"), expression_index("blink_right")]].max(1)
    return int(np.where(blinks < 0.05, energy, -1.0).argmax())


def make_gallery(out_dir: str | Path = "renders", progress: bool = True) -> list[Path]:
    """Render every gallery file into ``out_dir``; returns their paths."""
    from motion.bodymodels import load_body_model
    from motion.data.beat2_dataset import Beat2Dataset
    from motion.synthetic.corpus import generate_corpus
    from motion.data.formats import read_motion
    from motion.render.grid import render_grid, render_grid_png
    from motion.render.plots import plot_curves
    from motion.render.standin_gallery import render_gallery
    from motion.render.video import render_video

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = load_body_model()
    with tempfile.TemporaryDirectory(prefix="motion-gallery-") as tmp:
        generate_corpus(Path(tmp) / "corpus", size="tiny", seed=SEED, workers=1, progress=False, speakers=1,
                        sentences=1)
        recs = {r.emotion: r for r in Beat2Dataset(Path(tmp) / "corpus")}
        clips = [recs[e] for e in DEMO_EMOTIONS]
        motions = [read_motion(r.npz) for r in clips]
        labels = list(DEMO_EMOTIONS)
        written = [
            render_grid_png(motions, out / "emotions_still.png", frames=[showcase_frame(m) for m in motions],
                            labels=labels, preset="face", cell_size=(300, 300), cols=4, body_model=model),
            render_grid(motions, out / "emotions_grid.mp4", labels=labels, preset="upper_body", cell_size=(240, 270),
                        cols=4, body_model=model, progress=progress, supersample=2),
            render_video(motions[0], out / "happy_face.mp4", audio=clips[0].wav, preset="face", size=(320, 320),
                         body_model=model, progress=progress, supersample=2),
            plot_curves(motions[0], out / "curves_happy.png", audio=clips[0].wav, body_model=model),
        ]
        source = recs["neutral"] if "neutral" in recs else clips[0]
        written += make_generated_gallery(out, source.wav, model, progress)
    return written + render_gallery(out)


def make_generated_gallery(out: Path, audio: Path, model: object, progress: bool = True,
                           weights: str | Path | None = None) -> list[Path]:
    """The generated-motion files (module docstring) from ``audio``; none without weights."""
    from motion.api import generate
    from motion.pipelines.weights import WeightsNotFoundError
    from motion.render.grid import render_grid, render_grid_png
    from motion.render.video import render_video

    try:
        motions = [generate(audio, emotion=e, intensity=3.0, seed=SEED, weights=weights)
                   for e in DEMO_EMOTIONS]
    except WeightsNotFoundError as exc:
        print(f"gallery: no generated renders ({str(exc).splitlines()[0]})")
        return []
    labels = [f"{e} (generated)" for e in DEMO_EMOTIONS]
    frame = motions[0].num_frames // 2
    angry = DEMO_EMOTIONS.index("angry") if "angry" in DEMO_EMOTIONS else 0
    return [
        render_grid_png(motions, out / "generated_emotions.png", frames=[frame] * len(motions), labels=labels,
                        preset="upper_body", cell_size=(300, 340), cols=4, body_model=model),
        render_grid(motions, out / "generated_emotions_grid.mp4", labels=labels, preset="upper_body",
                    cell_size=(240, 270), cols=4, body_model=model, progress=progress, supersample=2),
        render_video(motions[angry], out / "generated_angry.mp4", audio=audio, preset="upper_body",
                     size=(360, 400), body_model=model, progress=progress, supersample=2),
    ]


if __name__ == "__main__":
    for path in make_gallery(*sys.argv[1:2]):
        print(f"{path}  {path.stat().st_size / 1e3:.0f} kB")
