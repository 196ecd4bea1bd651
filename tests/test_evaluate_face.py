"""``motion evaluate`` face part: rows, metrics against the full FLAME mesh, blinks, checks, CLI.

A tiny seeded face export (log-mel input, speaker-id style; untrained) and a tiny untrained
face emotion classifier run on four test clips of the tiny synthetic corpus, on CPU.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from motion.metrics.evaluate_face import (
    ROWS,
    FaceClip,
    build_face_geometry,
    evaluate_face,
    face_checks,
    format_face_table,
    load_face_clips,
)
from motion.types import EMOTIONS, FPS

E = 50


pytestmark = pytest.mark.usefixtures("one_thread")


def _face_export(folder: Path) -> Path:
    """A tiny seeded face-decoder export, laid out as FaceDecoderModule writes it."""
    from motion.models.config import save_module
    from motion.models.face.decoder import EmoteDecoder
    from motion.models.face.flint import FlintPrior

    torch.manual_seed(0)
    flint = FlintPrior(width=32, latent_dim=16, num_heads=4, ff_dim=64, dropout=0.0)
    dec = EmoteDecoder(80, 16, 8, 0, width=32, num_heads=4, ff_dim=64, dropout=0.0)
    save_module(flint, folder, "flint")
    save_module(dec, folder, "face_decoder")
    settings = {"audio_input": "log_mel", "style_input": "speaker", "audio_features": "log_mel", "n_mels": 80,
                "fps": 30.0, "face_model": "stand-in", "num_expressions": E}
    (folder / "face_pipeline.json").write_text(json.dumps(settings))
    return folder


def _face_emotion(folder: Path) -> Path:
    """A tiny untrained FaceEmotionNet export (region 'moving', every 4th vertex)."""
    from motion.bodymodels import load_face_model
    from motion.models.config import save_module
    from motion.models.face.perceptual import FaceEmotionNet
    from motion.models.face.vertices import region_vertex_ids

    torch.manual_seed(1)
    K = len(region_vertex_ids("moving", load_face_model(), E, None, 4))
    save_module(FaceEmotionNet(K, width=16, layers=1, dropout=0.0), folder, "face_emotion")
    return folder


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weights root: ``face/`` (decoder export) and ``metrics/`` (face emotion classifier)."""
    root = tmp_path_factory.mktemp("weights")
    _face_export(root / "face")
    _face_emotion(root / "metrics")
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from motion.synthetic.corpus import generate_corpus

    return generate_corpus(tmp_path_factory.mktemp("evaluate_face") / "corpus", size="tiny", seed=0, workers=1,
                           progress=False).root


@pytest.fixture(scope="module")
def clips(corpus: Path) -> list[FaceClip]:
    return load_face_clips(corpus, "test", max_clips=4)


@pytest.fixture(scope="module")
def result(weights: Path, clips: list[FaceClip]) -> dict[str, Any]:
    from motion.pipelines.face import FacePipeline

    from motion.pipelines.metric_nets import MetricNets

    nets = MetricNets.from_pretrained(weights)  # the root: its metrics/ (no manifest: every module there)
    assert nets.source == str(weights / "metrics") and list(nets) == ["face_emotion"]
    net = nets["face_emotion"]
    return evaluate_face(clips, FacePipeline.from_pretrained(weights / "face"), net, seed=0, swap_emotions=True,
                         blink_seconds=20.0)


def _full_mesh(c: FaceClip, expression: np.ndarray | None = None, jaw: np.ndarray | None = None) -> np.ndarray:
    """``(T, V, 3)`` vertices of the whole stand-in FLAME mesh (smplx), first E coefficients."""
    from motion.bodymodels import flame_forward, load_face_model

    expr = c.expression[:, :E] if expression is None else expression
    return flame_forward(load_face_model(), expr, jaw=c.jaw if jaw is None else jaw).vertices.numpy()


def test_clips(clips: list[FaceClip]) -> None:
    assert len(clips) == 4
    for c in clips:
        assert c.expression.shape == (c.num_frames, 100) and c.jaw.shape == (c.num_frames, 3)
        assert c.timings is not None and c.wav.is_file() and 0 <= c.emotion < len(EMOTIONS) and c.speaker >= 0


def test_rows_against_full_mesh(result: dict[str, Any], clips: list[FaceClip]) -> None:
    """Ground truth scores LVE / FDD 0 and the corpus' own closure; the neutral face's LVE and
    closure equal those measured on the whole FLAME mesh (checks the vertex bookkeeping)."""
    from motion.metrics.face import (
        bilabial_closure_accuracy,
        bilabial_middle_frames,
        face_metric_ids,
        lve,
    )

    rows = result["rows"]
    assert list(rows) == list(ROWS)
    gt, neutral = rows["ground truth"], rows["neutral face"]
    assert gt["lve_mm"] == 0.0 and gt["fdd_mm"] == 0.0
    ids = face_metric_ids()
    lves, frames, closed, total = [], [], 0.0, 0
    for c in clips:
        v = _full_mesh(c)
        still = np.broadcast_to(ids.template, v.shape)
        lves.append(lve(still, v, ids.lips))
        frames.append(c.num_frames)
        n = len(bilabial_middle_frames(c.timings, c.num_frames, FPS))  # type: ignore[arg-type]
        closed += n * bilabial_closure_accuracy(v, c.timings, FPS, ids.lip_centres) if n else 0.0  # type: ignore[arg-type]
        total += n
    assert total >= 5 and gt["bilabials"] == total
    assert neutral["lve_mm"] == pytest.approx(1e3 * np.average(lves, weights=frames), rel=1e-4)
    assert neutral["lve_mm"] > 1.0  # the lips move when speaking
    assert gt["bilabial_acc"] == pytest.approx(closed / total) and gt["bilabial_acc"] >= 0.9
    assert neutral["bilabial_acc"] == 1.0  # lips together at rest
    assert neutral["fdd_mm"] > 0.0 and rows["shuffled GT"]["lve_mm"] > 0.0
    for name in ROWS:
        assert 0.0 <= rows[name]["emotion_acc"] <= 1.0 and rows[name]["bilabials"] == total
    assert rows["generated"]["lve_mm"] > 0.0 and rows["generated (swapped emotion)"]["lve_mm"] > 0.0
    assert rows["generated"]["lve_mm"] != rows["generated (swapped emotion)"]["lve_mm"]  # the emotion changes the face


def test_json_ready(result: dict[str, Any]) -> None:
    back = json.loads(json.dumps(result, allow_nan=False))
    assert {"clips", "rows", "closure_threshold_mm", "generation_s", "audio_s", "blinks", "settings",
            "checks"} <= set(back)
    assert set(back["rows"]["generated"]) == {"lve_mm", "fdd_mm", "bilabial_acc", "bilabials", "emotion_acc"}
    assert back["clips"] == 4 and back["settings"]["num_expressions"] == E
    assert set(back["checks"]) == {"lve_half_of_neutral", "lve_half_of_shuffled_gt", "bilabial_closure_80",
                                   "emotion_80_of_gt", "swap_lve_within_20", "blink_rate_8_30", "blinks_under_0.5s"}


def test_blinks_match_corpus_coefficients(result: dict[str, Any], clips: list[FaceClip]) -> None:
    """Ground-truth blinks from eyelid vertices = blinks of the corpus' eyelid coefficients (11, 12)."""
    from motion.metrics.evaluate_face import blink_recording
    from motion.metrics.face import blink_episodes, eyelid_closure, face_metric_ids

    b = result["blinks"]
    audio, expr, jaw, used = blink_recording(clips, 20.0)
    assert audio.shape == (320000,) and expr.shape == (600, 100) and jaw.shape == (600, 3) and used == 4
    n = len(blink_episodes(expr[:, [11, 12]], 0.5))
    assert n >= 2 and b["ground truth"]["blinks"] == n
    assert b["ground truth"]["rate_per_min"] == pytest.approx(n * 3.0)  # 20 s = 1/3 min
    assert 0 < b["ground truth"]["max_duration_s"] <= 0.5
    assert b["generated"]["blinks"] >= 1 and b["generated"]["max_duration_s"] > 0  # the pipeline adds blinks
    geom, ids = build_face_geometry(E), face_metric_ids()
    still = geom.eyelid_closure(np.zeros((10, E), np.float32), np.zeros((10, 3), np.float32))
    assert np.abs(still).max() < 1e-3
    c = clips[0]
    ref = eyelid_closure(_full_mesh(c), ids.lid_pairs, ids.template)  # the whole mesh's eyelids
    assert ref.max() > 0.5
    np.testing.assert_allclose(geom.eyelid_closure(c.expression, c.jaw), ref, atol=1e-4)


def test_checks_and_table() -> None:
    row = lambda lve, acc, emo: {"lve_mm": lve, "fdd_mm": 0.1, "bilabial_acc": acc, "emotion_acc": emo}
    res: dict[str, Any] = {"rows": {"ground truth": row(0.0, 1.0, 0.9), "generated": row(2.0, 0.85, 0.7),
                                    "generated (swapped emotion)": row(2.5, 0.8, 0.6),
                                    "neutral face": row(4.5, 1.0, 0.1), "shuffled GT": row(3.9, 0.5, None)},
                           "blinks": {"seconds": 120.0, "clips": 3,
                                      "generated": {"rate_per_min": 12.0, "max_duration_s": 0.6, "blinks": 24},
                                      "ground truth": {"rate_per_min": 15.0, "max_duration_s": 0.3, "blinks": 30}}}
    checks = face_checks(res)
    assert checks == {"lve_half_of_neutral": True, "lve_half_of_shuffled_gt": False, "bilabial_closure_80": True,
                      "emotion_80_of_gt": False, "swap_lve_within_20": False, "blink_rate_8_30": True,
                      "blinks_under_0.5s": False}
    res["checks"] = checks
    table = format_face_table(res)
    for text in (*ROWS, "LVE (mm)", "n/a", "85.0%", "4.500", "12.0 /min", "longest 0.60 s", "lve_half_of_neutral ok",
                 "blinks_under_0.5s FAIL"):
        assert text in table
    del res["rows"]["generated (swapped emotion)"]
    res["blinks"] = None
    assert face_checks(res)["swap_lve_within_20"] is None and face_checks(res)["blink_rate_8_30"] is None


def test_cli_face_part(weights: Path, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from motion.cli import main

    js = tmp_path / "eval.json"
    args = ["evaluate", "--data", str(corpus), "--weights", str(weights), "--part", "face", "--max-clips", "3",
            "--blink-seconds", "10", "--json", str(js)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("ground truth", "generated", "neutral face", "shuffled GT", "blinks over 10 s"))
    assert "swapped" not in out and f"wrote {js} (3 clips" in out
    res = json.loads(js.read_text())
    assert "fgd" not in json.dumps(res) and "rows" not in res  # no body part
    face = res["face"]
    assert face["clips"] == 3 and face["rows"]["ground truth"]["lve_mm"] == 0.0
    assert face["face_emotion"] == str(weights / "metrics") and face["face_weights"] == str(weights / "face")
    assert face["blinks"]["seconds"] == 10.0 and res["weights"] == str(weights)


def _untimed(value: Any) -> Any:
    """``value`` without its wall-clock figures (``*_s`` keys other than ``audio_s``)."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if not (k.endswith("_s") and k != "audio_s")}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def test_evaluate_api_matches_cli(weights: Path, corpus: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """``motion.evaluate(...)`` returns what ``motion evaluate`` writes (same clips, same seed)."""
    import motion
    from motion.cli import main

    js = tmp_path / "eval.json"
    assert main(["evaluate", "--data", str(corpus), "--weights", str(weights), "--part", "face", "--max-clips", "2",
                 "--blink-seconds", "0", "--json", str(js)]) == 0
    capsys.readouterr()
    res = motion.evaluate(corpus, part="face", weights=weights, max_clips=2, blink_seconds=0)
    assert capsys.readouterr().out == ""  # the API prints nothing unless asked (tables=print)
    cli = json.loads(js.read_text())
    assert res["face"]["clips"] == 2 and res["weights"] == str(weights)
    assert _untimed(json.loads(json.dumps(res))) == _untimed(cli)


def test_cli_face_errors(weights: Path, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from motion.cli import main

    base = ["evaluate", "--data", str(corpus), "--part", "face", "--max-clips", "1", "--json", str(tmp_path / "x.json")]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([*base, "--weights", str(empty)]) == 1
    err = capsys.readouterr().err
    assert "no face weights" in err and "face_decoder.json" in err and "configs/face/face_decoder.yaml" in err
    assert main([*base, "--weights", str(weights), "--face-metrics", str(empty)]) == 1
    err = capsys.readouterr().err
    assert "face_emotion.json" in err and "configs/face/face_emotion.yaml" in err
    assert not (tmp_path / "x.json").exists()
