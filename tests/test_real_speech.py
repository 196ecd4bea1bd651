"""Real recordings: phone label readers, the real-speech evaluation, and the shipped weights'
invariance to level and format on a real voice (tests/data/real, MIT; see SOURCE.txt there)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from motion.data.formats.phone_labels import PhoneLabelError, normalize_phone, read_phone_labels
from motion.synthetic.tts.phonemes import is_bilabial, viseme_class

REAL = Path(__file__).parent / "data" / "real"
WAV, GRID = REAL / "mfa_acoustic_corpus.wav", REAL / "mfa_acoustic_corpus.TextGrid"


def test_textgrid_long_format_arpabet_to_the_toolkit_symbols() -> None:
    phones = read_phone_labels(GRID)
    assert [s for s, *_ in phones if is_bilabial(s)] == ["p", "m", "p"]  # corpus, I'm, pretty
    assert all(a < b for _, a, b in phones) and phones[-1][2] == pytest.approx(2.94, abs=0.01)
    assert phones[0][0] == "_"  # the leading silence ("") is a pause
    assert viseme_class(normalize_phone("AA1")) == "open" and normalize_phone("sp") == "_"


def test_short_textgrid_lab_and_phn(tmp_path: Path) -> None:
    short = tmp_path / "a.TextGrid"
    short.write_text('File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n1\n<exists>\n1\n'
                     '"IntervalTier"\n"phones"\n0\n1\n3\n0\n0.2\n""\n0.2\n0.5\n"B"\n0.5\n1\n"AA1"\n')
    assert read_phone_labels(short) == [("_", 0.0, 0.2), ("b", 0.2, 0.5), ("A:", 0.5, 1.0)]
    fest = tmp_path / "b.lab"
    fest.write_text("separator ;\nnfields 1\n#\n0.100 125 pau\n0.180 125 m\n0.300 125 aa\n")
    assert read_phone_labels(fest) == [("_", 0.0, 0.1), ("m", 0.1, 0.18), ("A:", 0.18, 0.3)]
    htk = tmp_path / "c.lab"
    htk.write_text("0 1000000 sil\n1000000 2500000 p\n")
    assert read_phone_labels(htk) == [("_", 0.0, 0.1), ("p", 0.1, 0.25)]
    phn = tmp_path / "d.phn"
    phn.write_text("0 1600 h#\n1600 3200 b\n")
    assert read_phone_labels(phn) == [("_", 0.0, 0.1), ("b", 0.1, 0.2)]
    (tmp_path / "e.txt").write_text("x")
    with pytest.raises(PhoneLabelError, match="suffix"):
        read_phone_labels(tmp_path / "e.txt")
    with pytest.raises(FileNotFoundError):
        read_phone_labels(tmp_path / "missing.lab")
    (tmp_path / "f.lab").write_text("0 x p\n")
    with pytest.raises(PhoneLabelError, match="f.lab"):
        read_phone_labels(tmp_path / "f.lab")


def test_find_real_clips_pairs_labels_anywhere(tmp_path: Path) -> None:
    from motion.metrics.real_speech import find_real_clips

    (tmp_path / "wav").mkdir()
    (tmp_path / "labels").mkdir()
    shutil.copy(WAV, tmp_path / "wav" / "a.wav")
    shutil.copy(WAV, tmp_path / "wav" / "b.wav")
    shutil.copy(GRID, tmp_path / "labels" / "a.TextGrid")
    (tmp_path / "labels" / "a.txt").write_text("this is the\n acoustic corpus \n")
    (tmp_path / "manifest.csv").write_text("path,transcript\nwav/a.wav,other words\nwav/b.wav,more words\n")
    clips = find_real_clips(tmp_path)
    assert [c.name for c in clips] == ["wav/a.wav", "wav/b.wav"]
    assert clips[0].phones and clips[1].phones is None
    assert clips[0].transcript == "this is the acoustic corpus" and clips[1].transcript == "more words"
    with pytest.raises(FileNotFoundError, match="no recordings"):
        find_real_clips(tmp_path / "labels")
    with pytest.raises(NotADirectoryError):
        find_real_clips(WAV)


def test_silent_stretches_and_envelope() -> None:
    from motion.metrics.real_speech import frame_envelope, silent_frames

    sr, fps = 16000, 30.0
    x = np.zeros(sr * 2, np.float32)
    x[sr // 2:sr] = 0.1 * np.sin(np.arange(sr // 2) * 0.3)
    env = frame_envelope(x, sr, 60, fps)
    assert env.shape == (60,) and env[22] > 0.05 and env[5] == 0.0
    sil = silent_frames(env, fps)
    assert sil[5] and sil[45] and not sil[22] and not sil[15]  # margins around the speech kept out


@pytest.fixture(scope="module")
def shipped() -> tuple:
    from motion.pipelines.body import BodyPipeline
    from motion.pipelines.generate import load_face_pipeline
    from motion.pipelines.weights import resolve_weights_dir

    root = resolve_weights_dir(None)
    face, reason = load_face_pipeline(root)
    assert face is not None, reason
    return BodyPipeline.from_pretrained(root), face


def test_shipped_weights_hold_on_a_real_voice_at_any_level_and_format(shipped: tuple) -> None:
    """The must-show invariances on one real recording: level (-18 / -6 / 0 dB) and format
    (wav, flac, 5.1 wav with the voice in the centre) leave mouth, arms and emotion alone."""
    from motion.metrics.evaluate_face import build_face_geometry
    from motion.metrics.real_speech import RealClip, evaluate_clip
    from motion.pipelines.generate import generate_motion

    body, face = shipped
    geom = build_face_geometry(face.flint.num_expressions)
    clip = RealClip(WAV, WAV.name, read_phone_labels(GRID))
    res = evaluate_clip(clip, lambda a: generate_motion(a, body, face, seed=0), geom,
                        gains=(-18.0, -6.0, 0.0), formats=("wav", "flac", "wav6"))
    for part in ("gain", "format"):
        assert res[part]["mouth_ratio"] <= 1.05, res[part]
        assert res[part]["arm_ratio"] <= 1.05, res[part]
        assert res[part]["same_emotion"], res[part]
    assert res["bilabials"] == 3 and len(res["vowel_gaps_mm"]) > 10
    assert -1.0 <= res["jaw_envelope_r"] <= 1.0


def test_shipped_face_holds_through_lossy_codecs(shipped: tuple) -> None:
    """MP3 / Ogg / AAC copies of a real recording (16 kHz: the MP3 low-pass near 7.5 kHz took the
    top mel bands, which the face read as mouth opening until it read 0-7.1 kHz only)."""
    from motion.metrics.evaluate_face import build_face_geometry
    from motion.metrics.real_speech import RealClip, evaluate_clip
    from motion.pipelines.generate import generate_motion

    body, face = shipped
    assert face.decoder.bands == 77
    geom = build_face_geometry(face.flint.num_expressions)
    clip = RealClip(WAV, WAV.name, read_phone_labels(GRID))
    res = evaluate_clip(clip, lambda a: generate_motion(a, body, face, seed=0), geom,
                        gains=(0.0,), formats=("wav", "mp3", "ogg", "m4a"))
    assert res["format"]["mouth_ratio"] <= 1.2, res["format"]  # 1.12; all 80 bands: 1.43


def test_cli_evaluate_real(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from motion.cli import main

    (tmp_path / "rec").mkdir()
    shutil.copy(WAV, tmp_path / "rec" / "a.wav")
    shutil.copy(GRID, tmp_path / "rec" / "a.TextGrid")
    (tmp_path / "rec" / "a.txt").write_text("this is the acoustic corpus i'm talking pretty fast here")
    out = tmp_path / "real.json"
    assert main(["evaluate", "--real", str(tmp_path / "rec"), "--json", str(out), "--transcripts"]) == 0
    text = capsys.readouterr().out
    assert "gain sweep" in text and "format sweep" in text and "bilabial closure 100.0%" in text
    result = json.loads(out.read_text())
    assert result["with_transcript"] == 1 and "1 generated with their transcripts" in text
    assert result["clips"] == 1 and result["bilabials"] == 3 and set(result["checks"]) >= {
        "silence closure >= 90%", "jaw-envelope correlation >= 0.5"}
    assert main(["evaluate"]) == 1
    assert "--real DIR" in capsys.readouterr().err


def test_lips_shut_on_the_bilabials_of_a_real_voice(shipped: tuple) -> None:
    """The shipped face on a real voice: the labelled p/b/m (MFA, independent of pocketsphinx)
    are shut whether the phones are detected (the default), recognised or aligned to the
    transcript; vowels stay open."""
    from motion.metrics.evaluate_face import build_face_geometry
    from motion.metrics.face import bilabial_middle_frames, lip_gap
    from motion.types import JAW

    _, face = shipped
    geom = build_face_geometry(face.flint.num_expressions)
    labels = read_phone_labels(GRID)
    for text, phones, source, shut in ((None, "detector", "detected", 2), (None, "loop", "recognised", 2),
                                       ("this is the acoustic corpus i'm talking pretty fast here", "detector",
                                        "aligned", 3)):
        out = face(str(WAV), seed=0, transcript=text, phones=phones)
        assert out.meta["phones"]["source"] == source and out.meta["phones"]["closures"] >= shut
        gap = lip_gap(geom.vertices(out.expression, out.jaw, keep=np.asarray(geom.ids.lip_centres)), (0, 1))
        mids = bilabial_middle_frames(labels, len(gap), 30.0)
        assert (gap[mids] < 0.002).sum() >= shut, (source, gap[mids])
        vowels = [round(0.5 * (a + b) * 30) for s, a, b in labels if viseme_class(s) == "open"]
        assert np.mean(gap[vowels]) > 0.006, source
    assert JAW == 22


def test_words_mode_hears_the_words_then_aligns_them(shipped: tuple) -> None:
    """phones="words": English word recognition, then alignment of the words heard."""
    from motion.audio import load_audio
    from motion.audio.phones import recognise_phones

    track = recognise_phones(load_audio(WAV), mode="words")
    assert track.source == "words" and track.language_ok
    assert "acoustic corpus" in track.meta["words_heard"]
    assert sum(is_bilabial(s) for s, *_ in track.triples()) >= 2
    with pytest.raises(ValueError, match="mode"):
        recognise_phones(load_audio(WAV), mode="syllables")  # type: ignore[arg-type]
    _, face = shipped
    out = face(str(WAV), seed=0, phones="words")
    assert out.meta["phones"]["source"] == "words" and out.meta["phones"]["closures"] >= 2
    off = face(str(WAV), seed=0, phones="off")
    assert off.meta["phones"] == {"source": "none"}
    with pytest.raises(ValueError, match="phones must be one of detector, loop, words, off"):
        face(str(WAV), seed=0, phones="fast")


def test_a_quiet_recording_is_warned_about_once_by_its_own_name(shipped: tuple, tmp_path: Path) -> None:
    """The sweep's format copies live in memory files (``/proc/PID/fd/N``): the "almost silent"
    warning comes once, from the clip itself, never under a copy's name."""
    import soundfile as sf

    from motion.audio.errors import AudioWarning
    from motion.metrics.evaluate_face import build_face_geometry
    from motion.metrics.real_speech import RealClip, evaluate_clip
    from motion.pipelines.generate import generate_motion

    body, face = shipped
    x, sr = sf.read(WAV, dtype="float32")
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, x * 10 ** (-40 / 20), sr)  # peaks near -45 dBFS: "almost silent"
    geom = build_face_geometry(face.flint.num_expressions)
    with pytest.warns(AudioWarning) as caught:
        evaluate_clip(RealClip(quiet, quiet.name, None), lambda a: generate_motion(a, body, face, seed=0), geom,
                      gains=(0.0,), formats=("wav", "flac"))
    texts = [str(w.message) for w in caught if issubclass(w.category, AudioWarning)]
    assert len(texts) == 1 and str(quiet) in texts[0] and "almost silent" in texts[0], texts
