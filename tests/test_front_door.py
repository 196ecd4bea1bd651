"""The shipped weights at the front door: ``motion.generate`` on a real recording (2.9 s, seed 0,
CPU), judged by the toolkit's own classifiers (the face emotion classifier on FLAME vertices
and the body motion emotion classifier on body features, ``motion/weights/metrics``).

* no emotion given: the motion takes the emotion heard in the audio (the metadata says which),
  the body shows it and the face is not neutral (a neutral face by default went unseen once);
* ``emotion="happy"`` and ``emotion="sad"``: each classifier names the emotion asked for.

The tests read whatever weights are in ``motion/weights`` (not ``$MOTION_WEIGHTS_DIR``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import motion
from helpers import Judges, describe
from motion.types import EMOTIONS

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO / "tests" / "data" / "real" / "mfa_acoustic_corpus.wav"
WEIGHTS = REPO / "motion" / "weights"


@pytest.fixture(scope="module")
def judges() -> Judges:
    return Judges()


@pytest.fixture(scope="module")
def generated() -> dict[str | None, motion.Motion]:
    """The recording generated with no emotion, and as neutral, happy and sad (seed 0)."""
    out = {emotion: motion.generate(SPEECH, emotion=emotion, seed=0, weights=WEIGHTS, threads=1)
           for emotion in (None, "neutral", "happy", "sad")}
    motion.clear_cache()
    return out


def test_no_emotion_given_follows_the_emotion_heard(generated: dict[str | None, motion.Motion],
                                                     judges: Judges) -> None:
    m = generated[None]
    heard = m.meta.extra["audio_emotion"]
    assert m.meta.extra["emotion_source"] == "audio" and m.meta.emotion == heard  # the metadata says which
    assert m.meta.extra["face"] == "generated"
    assert heard != "neutral", "the speech encoder hears this (fast, emphatic) recording as neutral"
    body = judges.body(m)
    assert EMOTIONS[int(body.argmax())] == heard, f"heard {heard}; the body classifier sees {describe(body)}"
    face, neutral_face = judges.face(m), judges.face(generated["neutral"])
    n = EMOTIONS.index("neutral")
    assert EMOTIONS[int(face.argmax())] != "neutral", \
        f"heard {heard}, but the face classifier sees a neutral face: {describe(face)}"
    assert face[n] < neutral_face[n], \
        f"the face with no emotion given ({describe(face)}) looks as neutral as emotion='neutral' ({describe(neutral_face)})"


@pytest.mark.parametrize("emotion", ["happy", "sad"])
def test_happy_and_sad_are_told_apart_by_the_toolkits_classifiers(
        emotion: str, generated: dict[str | None, motion.Motion], judges: Judges) -> None:
    m, other = generated[emotion], generated["sad" if emotion == "happy" else "happy"]
    assert m.meta.emotion == emotion and m.meta.extra["emotion_source"] == "label"
    k = EMOTIONS.index(emotion)
    for part in ("face", "body"):
        judge = getattr(judges, part)
        probs, theirs = judge(m), judge(other)
        assert EMOTIONS[int(probs.argmax())] == emotion, \
            f"emotion={emotion!r}: the {part} classifier sees {describe(probs)}"
        assert probs[k] > theirs[k], f"the {part} of {emotion} is no more {emotion} than the other one"


def test_cli_says_when_the_emotion_is_only_heard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With no --emotion the shipped weights' heard emotion comes with a note (it is reliable on the
    synthetic voice only); with --emotion there is none."""
    from motion.cli import main

    assert main(["generate", str(SPEECH), "-o", str(tmp_path / "a.npz"), "--seed", "0", "--no-face"]) == 0
    err = capsys.readouterr().err
    assert "heard in the audio" in err and "--emotion" in err
    assert main(["generate", str(SPEECH), "-o", str(tmp_path / "b.npz"), "--seed", "0", "--no-face",
                 "--emotion", "happy"]) == 0
    assert "heard in the audio" not in capsys.readouterr().err
