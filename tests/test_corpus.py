"""Tests for the synthetic corpus (motion.synthetic.corpus) and the BEAT2 loader.

The ``tiny`` corpus (2 speakers x 5 emotions x 1 intensity x 3 sentences) is generated
once per session with 2 worker processes; every test reads it.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from motion.bodymodels.names import expression_index
from motion.data.beat2_dataset import Beat2Dataset, Beat2LayoutError, parse_beat2_id
from motion.synthetic.corpus import generate_corpus
from motion.synthetic.corpus.skeleton import UPPER_BODY, forward_kinematics, head_pitch
from motion.data.formats.beat2 import read_beat2
from motion.types import EMOTIONS

B2 = "beat_english_v2.0.0"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "tiny"
    info = generate_corpus(root, size="tiny", seed=0, workers=2, progress=False)
    assert info.num_clips == 30 and info.root == root.resolve()
    return root


@pytest.fixture(scope="session")
def clips(corpus) -> dict[str, dict]:
    """Per clip: metadata row, motion, audio, timings, joint positions."""
    base = corpus / B2
    out: dict[str, dict] = {}
    for row in read_csv(base / "metadata.csv"):
        cid = row["id"]
        motion = read_beat2(base / "smplxflame_30" / f"{cid}.npz")
        y, sr = sf.read(base / "wave16k" / f"{cid}.wav", dtype="float32")
        timings = json.loads((base / "phonemes" / f"{cid}.json").read_text())
        out[cid] = {"row": row, "motion": motion, "y": y, "sr": sr, "timings": timings,
                    "joints": forward_kinematics(motion.poses, motion.trans)}
    return out


def by(clips: dict, **match) -> list[dict]:
    return [c for c in clips.values() if all(c["row"][k] == str(v) for k, v in match.items())]


def speed(c: dict, joint: int | list[int]) -> np.ndarray:
    return np.linalg.norm(np.diff(c["joints"][:, joint], axis=0), axis=-1) * 30.0


# ------------------------------------------------------------------ layout
def test_layout_like_beat2(corpus):
    base = corpus / B2
    for sub in ("smplxflame_30", "wave16k", "textgrid", "phonemes"):
        assert (base / sub).is_dir()
    assert (corpus / "README.md").exists() and (corpus / "corpus.json").exists()
    with open(base / "train_test_split.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id", "type"]
    ids = [r[0] for r in rows[1:]]
    assert {r[1] for r in rows[1:]} == {"train", "val", "test"}
    for sub, ext in (("smplxflame_30", ".npz"), ("wave16k", ".wav"), ("textgrid", ".TextGrid"),
                     ("phonemes", ".json")):
        assert sorted(p.stem for p in (base / sub).glob(f"*{ext}")) == sorted(ids)
    meta = read_csv(base / "metadata.csv")
    assert list(meta[0]) == ["id", "speaker_id", "speaker_name", "emotion", "intensity",
                             "sentence_id", "text", "duration_s", "split"]
    for m in meta:  # {speaker_id}_{speaker_name}_{emotion_idx}_{intensity}_{sentence_id}
        assert re.fullmatch(r"\d+_[a-z]+_\d_[123]_\d+", m["id"])
        assert m["id"] == "_".join([m["speaker_id"], m["speaker_name"],
                                    str(EMOTIONS.index(m["emotion"])), m["intensity"], m["sentence_id"]])
    info = json.loads((corpus / "corpus.json").read_text())
    assert info["seed"] == 0 and info["size"] == "tiny" and info["num_clips"] == 30
    assert not list(corpus.parent.glob("*.tmp-*"))  # atomic: no leftovers


def test_splits_hold_out_sentences(corpus):
    meta = read_csv(corpus / B2 / "metadata.csv")
    split_of: dict[str, set] = defaultdict(set)
    for m in meta:
        split_of[m["sentence_id"]].add(m["split"])
    assert all(len(s) == 1 for s in split_of.values())  # a sentence lives in one split
    per_speaker = defaultdict(set)
    for m in meta:
        per_speaker[m["speaker_name"]].add(m["split"])
    assert all(s == {"train", "val", "test"} for s in per_speaker.values())
    by_sentence = defaultdict(set)
    for m in meta:
        by_sentence[m["sentence_id"]].add(m["speaker_name"])
    assert all(len(s) == 2 for s in by_sentence.values())  # same sentence, both speakers


def test_files_read_back(corpus, clips):
    raw = np.load(corpus / B2 / "smplxflame_30" / "1_adam_0_3_0.npz")
    assert raw["poses"].shape[1] == 165 and raw["betas"].shape == (300,)
    assert raw["expressions"].shape[1] == 100 and str(raw["model"]) == "smplx2020"
    assert float(raw["mocap_frame_rate"]) == 30.0 and str(raw["gender"]) == "neutral"
    for cid, c in clips.items():
        m, row = c["motion"], c["row"]
        assert c["sr"] == 16000 and c["y"].ndim == 1
        assert sf.info(corpus / B2 / "wave16k" / f"{cid}.wav").subtype == "PCM_16"
        duration = len(c["y"]) / 16000
        assert abs(m.num_frames - round(duration * 30)) <= 1
        assert abs(float(row["duration_s"]) - duration) < 1e-3
        assert 1.5 < duration < 6.0
        assert m.fps == 30 and m.expression.shape == (m.num_frames, 100) and m.is_finite()
        assert m.meta.emotion == row["emotion"] and m.meta.intensity == float(row["intensity"])
        assert m.meta.extra["text"] == row["text"] and m.meta.source == "corpus"


def test_deterministic(corpus, tmp_path):
    again = generate_corpus(tmp_path / "again", size="tiny", seed=0, workers=1, progress=False)
    for p in sorted((corpus).rglob("*")):
        if p.is_file():
            q = again.root / p.relative_to(corpus)
            assert q.read_bytes() == p.read_bytes(), f"{p.relative_to(corpus)} differs"
    other = generate_corpus(tmp_path / "other", size="tiny", seed=1, workers=1, progress=False,
                            speakers=1, sentences=1, emotions=["neutral"])
    for sub, ext in (("smplxflame_30", "npz"), ("wave16k", "wav")):
        a = (corpus / B2 / sub / f"1_adam_0_3_0.{ext}").read_bytes()
        assert (other.beat2_dir / sub / f"1_adam_0_3_0.{ext}").read_bytes() != a


def test_refuses_to_overwrite(corpus, tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    (root / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="overwrite"):
        generate_corpus(root, size="tiny", workers=1, progress=False, speakers=1, sentences=1)
    assert (root / "keep.txt").exists()
    (root / "thesis").mkdir()
    with pytest.raises(FileExistsError, match="not a corpus written by"):  # a user's folder: never replaced
        generate_corpus(root, size="tiny", workers=1, progress=False, speakers=1, sentences=1, overwrite=True)
    assert (root / "keep.txt").read_text() == "x" and (root / "thesis").is_dir()
    (root / "keep.txt").unlink()
    (root / "thesis").rmdir()
    generate_corpus(root, size="tiny", workers=1, progress=False, speakers=1, sentences=1, emotions=["happy"])
    (root / "extra.txt").write_text("made inside the corpus")
    info = generate_corpus(root, size="tiny", workers=1, progress=False, speakers=1, sentences=1,
                           emotions=["sad"], overwrite=True)  # a corpus is replaced whole
    assert info.num_clips == 1 and not (root / "extra.txt").exists()
    assert not list(tmp_path.glob("c.*"))


# ------------------------------------------------------------------ prosody
def _median_f0(c: dict) -> float:
    import librosa

    f0 = librosa.yin(c["y"], fmin=60, fmax=500, sr=16000, frame_length=1024, hop_length=256)
    rms = librosa.feature.rms(y=c["y"], frame_length=1024, hop_length=256)[0][: len(f0)]
    return float(np.median(f0[rms > 0.15 * rms.max()]))


def _speech_span(c: dict) -> float:
    ph = [p for p in c["timings"]["phonemes"] if p["viseme"] != "pause"]
    return ph[-1]["end"] - ph[0]["start"]


def test_emotion_shapes_prosody(clips):
    for spk in ("adam", "bella"):
        for sid in ("0", "1", "2"):
            c = {e: by(clips, speaker_name=spk, sentence_id=sid, emotion=e)[0]
                 for e in ("sad", "angry", "happy", "surprised", "neutral")}
            f0 = {e: _median_f0(x) for e, x in c.items()}
            for high in ("angry", "happy", "surprised"):
                assert f0[high] > 1.1 * f0["sad"], (spk, sid, f0)
            assert _speech_span(c["sad"]) > 1.15 * _speech_span(c["angry"])
            assert _speech_span(c["sad"]) > _speech_span(c["neutral"]) > _speech_span(c["angry"])
            level = {e: np.sqrt(np.mean(x["y"] ** 2)) for e, x in c.items()}
            assert level["angry"] > 1.5 * level["sad"]


# ------------------------------------------------------------------ body
def test_emotion_shapes_motion(clips):
    for spk in ("adam", "bella"):
        for sid in ("0", "1", "2"):
            angry, sad, happy = (by(clips, speaker_name=spk, sentence_id=sid, emotion=e)[0]
                                 for e in ("angry", "sad", "happy"))
            wrist = lambda c: speed(c, [20, 21]).mean()
            assert wrist(angry) > 1.5 * wrist(sad), (spk, sid)
            assert head_pitch(sad["motion"].poses).mean() > head_pitch(happy["motion"].poses).mean() + 0.15


def test_handedness(clips):
    right = [speed(c, 21).mean() / speed(c, 20).mean() for c in by(clips, speaker_name="adam")]
    left = [speed(c, 20).mean() / speed(c, 21).mean() for c in by(clips, speaker_name="bella")]
    assert np.median(right) > 1.5 and np.median(left) > 1.5


def test_pose_plausible(clips):
    for c in clips.values():
        m = c["motion"]
        assert np.abs(m.poses).max() < 2.6
        assert np.ptp(m.trans, axis=0).max() < 0.1  # translation small
        feet = c["joints"][:, [10, 11]]
        assert np.ptp(feet, axis=0).max() < 0.08  # lower body mostly still
        assert speed(c, [20, 21]).max() < 4.0  # wrists under 4 m/s
        assert np.all(m.poses[:, 22, 0] >= 0)  # the jaw only opens (+x)


# ------------------------------------------------------------------ face
def test_bilabials_close_the_mouth(clips):
    press = expression_index("lips_press")
    n = 0
    for c in clips.values():
        m = c["motion"]
        for p in c["timings"]["phonemes"]:
            if p["viseme"] != "bilabial":
                continue
            mid = round(0.5 * (p["start"] + p["end"]) * 30)
            inside = [k for k in range(m.num_frames) if p["start"] <= k / 30 <= p["end"]] + [mid]
            assert m.expression[inside, press].min() >= 0.95, (c["row"]["id"], p)
            assert m.poses[inside, 22, 0].max() <= 0.02, (c["row"]["id"], p)
            n += 1
    assert n > 100
    # and the mouth does open on vowels
    jaw = np.concatenate([c["motion"].poses[:, 22, 0] for c in clips.values()])
    assert np.percentile(jaw, 90) > 0.12


def test_blinks_and_gaze(clips):
    left, right = expression_index("blink_left"), expression_index("blink_right")
    with_blink = gaze_moves = 0
    for c in clips.values():
        e = c["motion"].expression
        closed = (e[:, left] > 0.9) & (e[:, right] > 0.9)
        with_blink += bool(closed.any())
        assert closed.mean() < 0.2
        eyes = c["motion"].poses[:, 23:25]
        assert np.abs(eyes).max() < 0.4
        np.testing.assert_array_equal(eyes[:, 0], eyes[:, 1])  # both eyes look the same way
        gaze_moves += bool(np.ptp(eyes[:, 0, :2], axis=0).max() > 0.03)
    assert with_blink >= 0.8 * len(clips)
    assert gaze_moves >= 0.6 * len(clips)  # some clips keep a centred gaze throughout


def test_emotion_face(clips):
    def mean_coef(emotion: str, name: str) -> float:
        return float(np.mean([c["motion"].expression[:, expression_index(name)].mean()
                              for c in by(clips, emotion=emotion)]))
    assert mean_coef("happy", "smile") > mean_coef("neutral", "smile") + 0.4
    assert mean_coef("sad", "brow_inner_up") > mean_coef("neutral", "brow_inner_up") + 0.4
    assert mean_coef("angry", "brow_down") > mean_coef("neutral", "brow_down") + 0.4
    assert mean_coef("surprised", "eye_wide") > mean_coef("neutral", "eye_wide") + 0.4


# ------------------------------------------------------------------ beats
def _bc(motion_beats: np.ndarray, audio_beats: np.ndarray, sigma: float = 0.1) -> float:
    """Mean Gaussian hit rate of each motion beat to its nearest audio onset."""
    d = np.abs(motion_beats[:, None] - audio_beats[None, :]).min(axis=1)
    return float(np.mean(np.exp(-(d**2) / (2 * sigma**2))))


def test_gesture_beats_follow_speech(clips):
    import librosa
    from scipy.signal import argrelextrema

    rng = np.random.default_rng(0)
    real, chance = [], []
    for c in clips.values():
        sp = speed(c, list(UPPER_BODY)).mean(axis=1)
        mins = argrelextrema(sp, np.less, order=2)[0]
        beats = (mins[sp[mins] < np.percentile(sp, 90)] + 1) / 30.0
        onsets = librosa.onset.onset_detect(y=c["y"], sr=16000, units="time", hop_length=160)
        if len(beats) == 0 or len(onsets) == 0:
            continue
        real.append(_bc(beats, onsets))
        dur = len(c["y"]) / 16000
        chance += [_bc(rng.uniform(0, dur, len(beats)), onsets) for _ in range(10)]
    assert len(real) >= 25
    assert np.mean(real) > np.mean(chance) + 0.05, (np.mean(real), np.mean(chance))
    # the planned strokes sit on velocity minima of the motion
    hits = []
    for c in clips.values():
        sp = speed(c, list(UPPER_BODY)).mean(axis=1)
        mins = (argrelextrema(sp, np.less, order=1)[0] + 1) / 30.0
        for b in c["timings"]["beats"]:
            hits.append(np.abs(mins - b["time"]).min() if len(mins) else 1.0)
    assert np.mean(np.asarray(hits) < 0.1) > 0.7


# ------------------------------------------------------------------ loader
def test_loader_reads_corpus(corpus, clips):
    ds = Beat2Dataset(corpus)  # the corpus root: finds beat_english_v2.0.0 inside
    assert len(ds) == 30
    assert sum(1 for r in ds if r.split == "test") == 10
    for rec in ds:
        row = clips[rec.id]["row"]
        assert (rec.speaker, rec.emotion, rec.intensity, rec.text) == (
            row["speaker_name"], row["emotion"], int(row["intensity"]), row["text"])
        assert rec.speaker_id == int(row["speaker_id"]) and rec.split == row["split"]
        assert rec.wav.exists() and rec.npz.exists() and rec.phonemes.exists() and rec.textgrid.exists()
    rec = ds.get("2_bella_6_3_1")
    motion, audio = ds.load(rec)
    assert audio.sr == 16000 and abs(motion.num_frames - round(audio.duration * 30)) <= 1
    timings = ds.load_timings(rec)
    assert timings["words"][0]["word"] and timings["phonemes"]
    assert len(Beat2Dataset(corpus / B2, split="val")) == 10


def test_loader_real_beat2_names(corpus, tmp_path):
    base = tmp_path / "beat2"
    for sub in ("smplxflame_30", "wave16k"):
        (base / sub).mkdir(parents=True)
    src = corpus / B2
    for new, old in (("2_scott_0_65_65", "1_adam_1_3_0"), ("2_scott_1_3_3", "1_adam_0_3_0")):
        shutil.copy(src / "smplxflame_30" / f"{old}.npz", base / "smplxflame_30" / f"{new}.npz")
        shutil.copy(src / "wave16k" / f"{old}.wav", base / "wave16k" / f"{new}.wav")
    (base / "train_test_split.csv").write_text("id,type\n2_scott_0_65_65,train\n2_scott_1_3_3,additional\n")
    recs = {r.id: r for r in Beat2Dataset(base)}
    assert recs["2_scott_0_65_65"].emotion == "happy" and recs["2_scott_0_65_65"].speaker == "scott"
    assert recs["2_scott_1_3_3"].emotion is None and recs["2_scott_1_3_3"].split == "additional"
    assert parse_beat2_id("4_lawrence_0_103_103")["emotion"] == "fear"
    assert parse_beat2_id("4_lawrence_0_111_111")["emotion"] == "disgusted"


def test_loader_rejects_non_beat2(tmp_path):
    (tmp_path / "random").mkdir()
    (tmp_path / "random" / "notes.txt").write_text("hi")
    with pytest.raises(Beat2LayoutError, match="smplxflame_30.*wave16k.*train_test_split.csv"):
        Beat2Dataset(tmp_path / "random")
    half = tmp_path / "half"
    (half / "smplxflame_30").mkdir(parents=True)
    with pytest.raises(Beat2LayoutError, match="train_test_split.csv"):
        Beat2Dataset(half)
    with pytest.raises(FileNotFoundError):
        Beat2Dataset(tmp_path / "nope")
