"""Keyframed emotion curves (:mod:`motion.pipelines.emotion_curve`): parsing and its errors,
sampling, the valence/arousal map, per-frame face conditioning, and the shipped weights at the
front door (a constant curve is the label; sad then happy is read as such by the toolkit's face
emotion classifier), the command line and the npz round trip of the keys."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import motion
from motion.pipelines.emotion_curve import (
    EmotionCurve,
    EmotionCurveError,
    EmotionKey,
    as_emotion,
    curve_of_meta,
    va_to_emotion,
)
from motion.types import EMOTIONS

pytestmark = pytest.mark.usefixtures("one_thread")

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO / "tests" / "data" / "real" / "mfa_acoustic_corpus.wav"
WEIGHTS = REPO / "motion" / "weights"
H, S, N = EMOTIONS.index("happy"), EMOTIONS.index("sad"), EMOTIONS.index("neutral")


def _onehot(name: str) -> np.ndarray:
    w = np.zeros(len(EMOTIONS))
    w[EMOTIONS.index(name)] = 1.0
    return w


# ----------------------------------------------------------------------------- parsing
def test_parse_labels_intensities_aliases_and_points() -> None:
    c = EmotionCurve.parse("0:neutral, 4.5:Anger@2.5; 9s : sad\n12:(0.8, 0.7)")
    assert [k.time_s for k in c.keys] == [0.0, 4.5, 9.0, 12.0]
    assert [k.emotion for k in c.keys[:3]] == ["neutral", "angry", "sad"]
    assert [k.intensity for k in c.keys[:3]] == [2.0, 2.5, 2.0]  # default 2
    assert c.keys[3].valence_arousal == (0.8, 0.7) and c.keys[3].emotion in ("happy", "surprised")
    assert c.transition_s == 1.0
    assert c.keys_as_dicts()[1] == {"time": 4.5, "emotion": "angry", "intensity": 2.5}
    assert c.keys_as_dicts()[3] == {"time": 12.0, "valence": 0.8, "arousal": 0.7}
    assert EmotionCurve.from_dicts(c.keys_as_dicts()) == c
    assert EmotionCurve.parse(str(c)) == c


@pytest.mark.parametrize("text, match", [
    ("", "empty"),
    ("  ,  ", "empty"),
    ("1:happy, 0:sad", "'0:sad' is earlier than the key before it, key '1:happy'"),
    ("0:happy, 0:sad", "'0:sad' is at the same time as"),
    ("-1:happy", "'-1:happy'.*negative"),
    ("0:furious", "'0:furious'.*unknown emotion 'furious'; choose one of: neutral, happy, sad, surprised, fear, "
                  "disgusted, angry, contempt"),
    ("0:happy@3.5", "'0:happy@3.5'.*intensity must be a number in \\[0, 3\\]"),
    ("0:happy@-1", "'0:happy@-1'"),
    ("0:(1.2,0.5)", "'0:\\(1.2,0.5\\)'.*valence must be a number in \\[0, 1\\]"),
    ("0:(0.5,-0.1)", "arousal must be a number in \\[0, 1\\]"),
    ("0:(0.5,0.5)@2", "sets its own intensity"),
    ("0:(0.5)", "'0:\\(0.5\\)'"),
    ("0 happy", "malformed key '0 happy': no ':'.*TIME:LABEL"),
    ("soon:happy", "'soon' is not a time in seconds"),
    ("0:happy@", "malformed key '0:happy@'.*LABEL@INTENSITY"),
    ("0:happy sad", "malformed key '0:happy sad'"),
])
def test_every_parse_error_names_the_item_and_the_syntax(text: str, match: str) -> None:
    with pytest.raises(EmotionCurveError, match=match) as exc:
        as_emotion(text) if text.strip() else EmotionCurve.parse(text)
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, motion.MotionError)
    assert "\n" not in str(exc.value)


def test_a_label_stays_a_label_and_files_are_read(tmp_path: Path) -> None:
    assert as_emotion("Happiness") == "happy" and as_emotion(None) is None
    with pytest.raises(ValueError, match="unknown emotion 'furious'"):
        as_emotion("furious")
    with pytest.raises(TypeError):
        as_emotion(3)
    (tmp_path / "a.json").write_text(json.dumps([{"time": 0, "emotion": "sad", "intensity": 3},
                                                 {"time": 2, "valence": 0.8, "arousal": 0.7}]))
    (tmp_path / "b.json").write_text(json.dumps({"transition": 0.5, "keys": [{"time": 0, "emotion": "sad"}]}))
    (tmp_path / "c.csv").write_text("time,emotion,intensity\n0,sad,3\n2,happy,\n")
    (tmp_path / "d.csv").write_text("Time, Valence, Arousal\n0,0.2,0.2\n2,0.8,0.7\n")
    a = as_emotion(tmp_path / "a.json")
    assert isinstance(a, EmotionCurve) and a.keys[0].intensity == 3.0 and a.keys[1].valence_arousal == (0.8, 0.7)
    b = as_emotion(str(tmp_path / "b.json"))
    assert isinstance(b, EmotionCurve) and b.transition_s == 0.5 and b.keys[0].intensity == 2.0
    c = EmotionCurve.read(tmp_path / "c.csv")
    assert [(k.emotion, k.intensity) for k in c.keys] == [("sad", 3.0), ("happy", 2.0)]
    d = EmotionCurve.read(tmp_path / "d.csv")
    assert d.keys[0].emotion == "sad" and d.keys[1].valence_arousal == (0.8, 0.7)
    (tmp_path / "e.json").write_text(a.to_json())
    assert EmotionCurve.read(tmp_path / "e.json") == a


@pytest.mark.parametrize("name, content, match", [
    ("gone.json", None, "emotion-curve file not found: .*gone.json"),
    ("bad.json", "{oops", "bad.json: not JSON"),
    ("bytes.json", b"\xff\xfe\x00[", "cannot read the emotion-curve file .*bytes.json"),
    ("obj.json", '{"keys": [], "speed": 2}', "unknown field 'speed'"),
    ("empty.json", "[]", "empty.json: the emotion curve has no keys"),
    ("mood.json", '[{"time": 0, "mood": "sad"}]', "mood.json: key 1: malformed key .*unknown field 'mood'"),
    ("both.json", '[{"time": 0, "emotion": "sad", "valence": 0.2}]', "both.json: key 1: malformed key"),
    ("half.json", '[{"time": 0, "valence": 0.2}]', "needs both values"),
    ("t.json", '[{"time": "later", "emotion": "sad"}]', "t.json: key 1: time must be a number, got 'later'"),
    ("order.json", '[{"time": 2, "emotion": "sad"}, {"time": 1, "emotion": "happy"}]',
     "order.json: key 2 \\(1 s\\) is earlier than the key before it, key 1 \\(2 s\\)"),
    ("empty.csv", "\n", "empty.csv: the file is empty"),
    ("head.csv", "when,emotion\n0,sad\n", "head.csv: header 'when,emotion'"),
    ("cols.csv", "time,emotion,intensity\n0,sad,3,9\n", "cols.csv: line 2 '0,sad,3,9': expected 3 columns"),
    ("range.csv", "time,emotion,intensity\n0,sad,3\n1,happy,4\n", "range.csv: line 3: intensity must be"),
    ("va.csv", "time,valence,arousal\n0,1.5,0.5\n", "va.csv: line 2: valence must be a number in \\[0, 1\\]"),
    ("curve.txt", "0:sad", "a .json or .csv"),
])
def test_every_file_error_names_the_file(tmp_path: Path, name: str, content: str | bytes | None,
                                         match: str) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(EmotionCurveError, match=match):
        as_emotion(path)


def test_keys_and_curves_check_their_values() -> None:
    with pytest.raises(EmotionCurveError, match="at least one key"):
        EmotionCurve(())
    with pytest.raises(EmotionCurveError, match="transition"):
        EmotionCurve((EmotionKey.label(0, "sad"),), transition_s=-1)
    with pytest.raises(EmotionCurveError, match="key times must increase"):
        EmotionCurve((EmotionKey.label(1, "sad"), EmotionKey.label(1, "happy")))
    with pytest.raises(EmotionCurveError, match="weights"):
        EmotionKey(0.0, (1.0, 0.0))
    assert EmotionKey(0.0, (2.0,) + (0.0,) * 6 + (2.0,)).weights[0] == 0.5  # normalised


# ----------------------------------------------------------------------------- sampling
def test_sampling_holds_crossfades_with_a_smoothstep_and_sums_to_one() -> None:
    c = EmotionCurve.parse("2:sad@3, 6:happy@1")
    t = np.array([0.0, 2.0, 4.9, 5.0, 5.5, 6.0, 9.0, 100.0])
    w, i = c.sample(t)
    assert w.shape == (8, 8) and i.shape == (8,)
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-12)
    for row in (0, 1, 2, 3):  # before the first key: the first key; then held until the fade starts (5 s)
        assert np.array_equal(w[row], _onehot("sad")) and i[row] == 3.0
    assert w[4, S] == pytest.approx(0.5) and w[4, H] == pytest.approx(0.5)  # smoothstep(1/2) = 1/2
    assert i[4] == pytest.approx(2.0)
    for row in (5, 6, 7):  # from the key on, and after the last key (keys past the audio's end change nothing)
        assert np.array_equal(w[row], _onehot("happy")) and i[row] == 1.0
    s = c.sample([5.25])[0][0, H]
    assert s == pytest.approx(3 * 0.25**2 - 2 * 0.25**3)  # the smoothstep, not a linear ramp


def test_transitions_are_clipped_at_the_previous_key_and_can_be_cut() -> None:
    c = EmotionCurve.parse("0:sad, 0.4:happy", transition_s=1.0)  # fade over [0, 0.4], not [-0.6, 0.4]
    w, _ = c.sample([0.0, 0.2, 0.4])
    assert w[0, S] == 1.0 and w[1, H] == pytest.approx(0.5) and w[2, H] == 1.0
    cut = EmotionCurve.parse("0:sad, 1:happy", transition_s=0.0)
    w, _ = cut.sample([0.999, 1.0])
    assert w[0, S] == 1.0 and w[1, H] == 1.0
    assert cut.labels([0.5, 1.5])[0].tolist() == [S, H]


def test_summary_is_the_label_held_longest_and_its_mean_intensity() -> None:
    c = EmotionCurve.parse("0:sad@3, 2:happy@1, 9:angry@2")
    label, intensity = c.summary(num_frames=240, fps=30.0)  # 8 s: happy from ~1.5 s to 8 s
    assert label == "happy" and 1.0 <= intensity < 1.2
    assert EmotionCurve.parse("0:sad@2.5").summary(10, 30.0) == ("sad", 2.5)


# ----------------------------------------------------------------------------- valence / arousal
def test_valence_arousal_points_map_to_the_circumplex() -> None:
    w, i = va_to_emotion(0.8, 0.7)  # pleasant, aroused
    assert EMOTIONS[int(w.argmax())] in ("happy", "surprised") and 1.5 < i < 2.5
    w, i = va_to_emotion(0.2, 0.2)  # unpleasant, calm
    assert EMOTIONS[int(w.argmax())] == "sad" and i > 2.0
    w, i = va_to_emotion(0.5, 0.5)
    assert int(w.argmax()) == N and i == 0.0
    w, i = va_to_emotion(0.42, 0.99)  # a little unpleasant, very aroused
    assert EMOTIONS[int(w.argmax())] == "angry" and i > 2.9
    w, i = va_to_emotion(0.0, 1.0)  # a corner: past the circle
    assert EMOTIONS[int(w.argmax())] == "disgusted" and i == 3.0
    for v, a in np.random.default_rng(0).uniform(0, 1, (20, 2)):
        w, i = va_to_emotion(float(v), float(a))
        assert w.sum() == pytest.approx(1.0) and 0.0 <= i <= 3.0


# ----------------------------------------------------------------------------- face conditioning
def test_face_conditioning_per_frame_is_the_per_clip_condition_frame_by_frame() -> None:
    from motion.models.face.conditioning import FaceConditioning

    torch.manual_seed(0)
    cond = FaceConditioning(16, style_dim=0)
    T = 7
    for emotion, intensity in ((torch.tensor([H, S]), torch.tensor([2.0, 0.5])),
                               (torch.softmax(torch.randn(2, 8), -1), torch.tensor([3.0, -1.0]))):
        style = torch.tensor([1, -1])
        clip = cond(emotion, intensity, style)  # (B, W)
        per_frame_e = emotion[:, None].expand(-1, T, *emotion.shape[1:])
        frames = cond(per_frame_e, intensity[:, None].expand(-1, T), style)  # (B, T, W)
        assert frames.shape == (2, T, 16)
        for t in range(T):
            assert torch.equal(frames[:, t], clip)
    with pytest.raises(ValueError, match="emotion must be"):
        cond(torch.zeros(2, 8), torch.zeros(2, T))


def test_face_decoder_follows_a_per_frame_condition() -> None:
    from motion.models.face.decoder import EmoteDecoder

    torch.manual_seed(0)
    dec = EmoteDecoder(80, 16, 8, 0, width=32, num_heads=4, ff_dim=64, dropout=0.0).eval()
    T, x, style = 37, torch.randn(1, 37, 80), torch.tensor([3])
    e = torch.from_numpy(_onehot("happy")).float()[None]
    i = torch.tensor([2.0])
    with torch.no_grad():
        clip = dec(x, e, i, style)
        frames = dec(x, e[:, None].expand(1, T, 8), i[:, None].expand(1, T), style)
        torch.testing.assert_close(frames, clip, rtol=0, atol=1e-5)
        ramp = torch.zeros(1, T, 8)
        ramp[:, :20, S], ramp[:, 20:, H] = 1.0, 1.0
        changed = dec(x, ramp, i[:, None].expand(1, T), style)
    assert changed.shape == clip.shape
    assert not torch.allclose(changed[:, :2], clip[:, :2], atol=1e-4)  # the sad frames differ from happy
    with pytest.raises(ValueError, match="frames"):
        dec(x, ramp[:, :10], i[:, None].expand(1, 10), style)


def test_body_windows_take_the_curve_at_their_centres() -> None:
    from motion.pipelines.body_controls import window_emotions
    from motion.pipelines.long_audio import Window

    c = EmotionCurve.parse("0:sad@3, 2:happy@1", transition_s=0.4)
    windows = [Window(0, 8, 0), Window(4, 12, 4), Window(8, 16, 4)]  # latents x4 = frames [0,32) [16,48) [32,64)
    labels, inten = window_emotions(c, windows, downsample=4, num_frames=60, fps=30.0)
    # centres: 16 / 30 s, 32 / 30 s, 46 / 30 s (the last window cropped to 60 frames): all before the fade (1.6 s)
    assert labels == [S, S, S] and inten == [3.0, 3.0, 3.0]
    labels, inten = window_emotions(c, [Window(12, 20, 4)], downsample=4, num_frames=100, fps=30.0)
    assert labels == [H] and inten == [1.0]  # centre 64 / 30 s


# ----------------------------------------------------------------------------- the shipped weights
@pytest.fixture(scope="module")
def long_speech() -> tuple[np.ndarray, int]:
    """The real test recording three times over (8.8 s): room for two emotions."""
    audio = motion.load_audio(SPEECH)
    return np.concatenate([np.asarray(audio.samples)] * 3), int(audio.sr)


def test_a_constant_curve_is_the_label(long_speech: tuple[np.ndarray, int]) -> None:
    x, sr = long_speech
    label = motion.generate(x, sr=sr, emotion="happy", intensity=2, seed=0, weights=WEIGHTS, threads=1)
    curve = motion.generate(x, sr=sr, emotion="0:happy@2", seed=0, weights=WEIGHTS, threads=1)
    for name in ("poses", "trans", "expression", "betas"):
        assert np.array_equal(getattr(curve, name), getattr(label, name)), name
    assert (curve.meta.emotion, curve.meta.intensity) == ("happy", 2.0)
    assert curve.meta.extra["emotion_source"] == "curve" and label.meta.extra["emotion_source"] == "label"
    assert curve.meta.extra["emotion_curve"] == [{"time": 0.0, "emotion": "happy", "intensity": 2.0}]


def test_sad_then_happy_is_read_as_sad_then_happy(long_speech: tuple[np.ndarray, int], tmp_path: Path) -> None:
    from helpers import Judges, describe

    x, sr = long_speech
    T = len(x) / sr
    text = f"0:sad@3, {T / 2:.3f}:happy@3"
    m = motion.generate(x, sr=sr, emotion=text, seed=0, weights=WEIGHTS, threads=1)
    assert m.meta.extra["emotion_source"] == "curve" and m.meta.extra["face"] == "generated"
    judges = Judges()
    first, second = m.clip(0.0, T / 2 - 1.5), m.clip(T / 2 + 0.5, T)  # away from the fade (T/2 - 1 s .. T/2)
    for part, want in ((first, "sad"), (second, "happy")):
        face, body = judges.face(part), judges.body(part)
        assert EMOTIONS[int(face.argmax())] == want, f"{text}: the face classifier sees {describe(face)}"
        assert EMOTIONS[int(body.argmax())] == want, f"{text}: the body classifier sees {describe(body)}"
    # the keys travel with the file
    from motion.export import export

    out = export(m, tmp_path / "curve.npz")
    back = motion.read_motion(out)
    assert back.meta.extra["emotion_curve"] == m.meta.extra["emotion_curve"]
    assert curve_of_meta(back.meta.extra) == EmotionCurve.parse(text)
    assert back.meta.emotion == m.meta.emotion and back.meta.intensity == pytest.approx(3.0)


def test_curves_reach_the_face_alone_and_the_window_by_window_body(long_speech: tuple[np.ndarray, int]) -> None:
    x, sr = long_speech
    face = motion.generate(x[:sr * 4], sr=sr, emotion="0:sad, 2:(0.8,0.7)", body=False, seed=0, weights=WEIGHTS,
                           threads=1)
    assert face.meta.extra["emotion_source"] == "curve" and face.meta.emotion in EMOTIONS
    assert face.meta.extra["emotion_curve"][1] == {"time": 2.0, "valence": 0.8, "arousal": 0.7}
    opts = motion.GenerationOptions(stitch="inpaint")
    body = motion.generate(x, sr=sr, emotion="0:sad, 4:happy", face=False, seed=0, weights=WEIGHTS, threads=1,
                           options=opts)
    fused = motion.generate(x, sr=sr, emotion="0:sad, 4:happy", face=False, seed=0, weights=WEIGHTS, threads=1)
    assert body.meta.extra["stitch"] == "inpaint" and not np.array_equal(body.poses, fused.poses)


def test_the_api_rejects_an_intensity_or_a_reference_with_a_curve() -> None:
    with pytest.raises(ValueError, match="intensity=2 with an emotion curve"):
        motion.generate(SPEECH, emotion="0:sad, 1:happy", intensity=2)
    with pytest.raises(EmotionCurveError, match="'1:joy'"):
        motion.generate(SPEECH, emotion="0:sad, 1:joy")
    with pytest.raises(ValueError, match="emotion curve or an emotion reference clip, not both"):
        motion.generate(SPEECH, emotion=EmotionCurve.parse("0:sad"), emotion_reference=SPEECH, weights=WEIGHTS,
                        threads=1)


# ----------------------------------------------------------------------------- command line
@pytest.mark.parametrize("args, match", [
    (["--emotion", "0:sad, 2:furious"], "key '2:furious': unknown emotion"),
    (["--emotion", "0:sad, 2:happy", "--intensity", "2"], "--intensity is for an emotion label"),
    (["--emotion", "missing.csv"], "emotion-curve file not found"),
])
def test_cli_rejects_a_bad_curve_in_one_line_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], match: str) -> None:
    from motion.cli import main

    out = tmp_path / "out.npz"
    assert main(["generate", str(SPEECH), "-o", str(out), "--weights", str(WEIGHTS), *args]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("motion generate: error: ") and match in err, err
    assert not out.exists()


def test_cli_generates_with_a_curve_file_and_plots_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from motion.cli import main

    keys = tmp_path / "keys.csv"
    keys.write_text("time,emotion,intensity\n0,neutral,\n1.5,angry,2.5\n")
    out = tmp_path / "out.npz"
    assert main(["generate", str(SPEECH), "-o", str(out), "--weights", str(WEIGHTS), "--emotion", str(keys),
                 "--seed", "0", "--threads", "1"]) == 0
    assert "(curve)" in capsys.readouterr().out
    m = motion.read_motion(out)
    assert m.meta.extra["emotion_curve"][1] == {"time": 1.5, "emotion": "angry", "intensity": 2.5}
    png = tmp_path / "curves.png"
    assert main(["plot", str(out), "-o", str(png), "--no-audio"]) == 0
    from PIL import Image

    with Image.open(png) as im:  # the emotion panel makes the figure taller than the 10 x 6.4 in default
        assert im.size[1] > 700
