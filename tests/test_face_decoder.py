"""EMOTE-style face decoder: shapes, conditioning, training signal, exchange, perceptual nets, CLI configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from motion.models.config import save_module
from motion.models.face.conditioning import intensity_weights
from motion.models.face.decoder import EmoteDecoder
from motion.models.face.flint import FlintPrior
from motion.models.face.perceptual import FaceEmotionNet, LipReader, PerceptualOutput
from motion.models.face.temporal import periodic_alibi_bias

REPO = Path(__file__).resolve().parents[1]
FACE = REPO / "configs" / "face"
#: Face configs (flint: tests/test_flint.py; closure_detector: tests/test_closures.py) and the overrides that
#: shrink their models.
TINY_DECODER = ["--model.decoder.width", "32", "--model.decoder.num_heads", "4", "--model.decoder.ff_dim", "64"]
TINY = {"face_decoder": TINY_DECODER, "face_decoder_mel": TINY_DECODER, "face_decoder_exchange": TINY_DECODER,
        "lip_reader": ["--model.net.width", "16", "--model.net.layers", "1"],
        "face_emotion": ["--model.net.width", "16", "--model.net.layers", "1"]}


def _flint() -> FlintPrior:
    torch.manual_seed(0)
    return FlintPrior(width=32, latent_dim=16, num_heads=4, ff_dim=64, dropout=0.0).freeze()


def _decoder(in_dim: int = 80, style_dim: int = 0) -> EmoteDecoder:
    torch.manual_seed(1)
    return EmoteDecoder(in_dim, 16, 8, style_dim, width=32, num_heads=4, ff_dim=64, dropout=0.0).eval()


class ToyLipReader(nn.Module):
    """A user's own lip network, plugged in by class_path (follows FacePerceptualNet)."""

    def __init__(self, hidden: int = 8) -> None:
        super().__init__()
        self.region = "lips"
        self.proj = nn.Linear(3, hidden)

    def forward(self, displacements: torch.Tensor) -> PerceptualOutput:
        return PerceptualOutput(self.proj(displacements * 100.0).mean(2))  # (B, T, hidden)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from motion.synthetic.corpus import generate_corpus

    root = tmp_path_factory.mktemp("face_decoder") / "corpus"
    generate_corpus(root, size="tiny", seed=0, workers=1, progress=False)
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("face_features")


@pytest.fixture(scope="module")
def batch(corpus: Path, cache: Path) -> dict[str, torch.Tensor]:
    from motion.data.face_speech import FaceSpeechDataModule

    dm = FaceSpeechDataModule(str(corpus), cache_dir=str(cache), window=32, hop=32, batch_size=4, max_clips=3)
    dm.setup("fit")
    item = next(iter(dm.train_dataloader()))
    assert item["audio"].shape == (4, 32, 80) and item["expression"].shape == (4, 32, 100)
    assert item["viseme"].shape == (4, 32) and int(item["viseme"].max()) > 0  # visemes from the phoneme timings
    return item


def test_temporal_bias() -> None:
    b = periodic_alibi_bias(4, 6, period=2)
    assert b.shape == (4, 6, 6) and torch.equal(b, b.transpose(1, 2))
    assert torch.equal(b[:, 0, 1], torch.zeros(4)) and torch.all(b[:, 0, 2] < 0)  # floor(|i-j| / 2)
    c = periodic_alibi_bias(4, 6, period=1, causal=True)
    assert torch.isinf(c[:, 0, 1]).all() and torch.isfinite(c[:, 1, 0]).all()


@pytest.mark.parametrize("T", [1, 7, 8, 45, 64])
def test_decoder_shapes(T: int) -> None:
    flint, dec = _flint(), _decoder()
    out = dec.generate(flint, torch.randn(2, T, 80), torch.tensor([1, 6]), torch.tensor([1.0, 3.0]), torch.tensor([0, -1]))
    assert out.latents.shape == (2, -(-T // 8), 16)
    assert out.expression.shape == (2, T, 50) and out.jaw.shape == (2, T, 3)
    lat = _decoder(64, style_dim=64)(torch.randn(1, T, 64), torch.tensor([0]), torch.tensor([2.0]), torch.randn(1, 64))
    assert lat.shape == (1, -(-T // 8), 16)


def test_band_limited_decoder_ignores_the_bands_above_its_limit() -> None:
    """``bands``: what a codec's low-pass does to the top mel bands does not reach the latents."""
    torch.manual_seed(1)
    dec = EmoteDecoder(80, 16, 8, 0, width=32, num_heads=4, ff_dim=64, dropout=0.0, bands=77).eval()
    full = _decoder()
    full.load_state_dict(dec.state_dict())  # the same weights: the limit is not stored as a tensor
    x = torch.randn(1, 24, 80)
    cut = x.clone()
    cut[..., 77:] -= 8.0  # the top three bands 8 (log) units lower, as after a 7.5 kHz low-pass
    args = (torch.tensor([1]), torch.tensor([1.0]), torch.tensor([0]))
    torch.testing.assert_close(dec(cut, *args), dec(x, *args), rtol=0, atol=0)
    assert not torch.allclose(full(cut, *args), full(x, *args))  # without the limit they move it
    cut[..., 76] -= 8.0
    assert not torch.allclose(dec(cut, *args), dec(x, *args))  # bands below the limit are read
    with pytest.raises(ValueError, match="bands"):
        EmoteDecoder(80, 16, 8, 0, bands=81)


def test_conditioning_changes_and_interpolates() -> None:
    flint, dec = _flint(), _decoder()
    x = torch.randn(1, 40, 80)

    def face(emotion: object, intensity: float, style: int = 0) -> torch.Tensor:
        e = emotion if isinstance(emotion, torch.Tensor) else torch.tensor([emotion])
        return dec.generate(flint, x, e, torch.tensor([intensity]), torch.tensor([style])).expression

    happy, sad = face(1, 2.0), face(2, 2.0)
    assert (happy - sad).abs().max() > 1e-3  # emotion matters
    assert (face(1, 2.0, style=3) - happy).abs().max() > 1e-3  # so does the speaker
    w = intensity_weights(torch.tensor([1.0, 1.5, 2.0, 2.75, -1.0]), (1.0, 2.0, 3.0))
    torch.testing.assert_close(w, torch.tensor([[1, 0, 0], [0.5, 0.5, 0], [0, 1, 0], [0, 0.25, 0.75], [0, 0, 0.0]]))
    cond = dec.condition
    c1, c15, c2 = (cond(torch.tensor([1]), torch.tensor([i]), torch.tensor([0])) for i in (1.0, 1.5, 2.0))
    torch.testing.assert_close(c15, 0.5 * (c1 + c2))  # the code between levels is the interpolation
    f1, f15, f2 = face(1, 1.0), face(1, 1.5), face(1, 2.0)
    assert 0 < (f15 - f1).norm() < (f2 - f1).norm() and 0 < (f15 - f2).norm() < (f2 - f1).norm()
    torch.testing.assert_close(face(1, 0.0), face(0, 0.0))  # intensity 0: neutral whatever the emotion
    blend = torch.zeros(1, 8)
    blend[0, 1] = blend[0, 3] = 0.5
    assert (face(blend, 2.0) - happy).abs().max() > 1e-4  # soft emotion codes are accepted


def test_few_steps_reduce_loss(batch: dict[str, torch.Tensor]) -> None:
    from motion.training.face_decoder import FaceDecoderModule

    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="inline, untrained flint"):
        module = FaceDecoderModule(_decoder(), flint=_flint(), audio_input="log_mel", p_drop_style=0.0)
    module.decoder.norm.set_stats(batch["audio"].mean((0, 1)), batch["audio"].std((0, 1)))
    opt = torch.optim.Adam(module.decoder.parameters(), lr=3e-3)
    totals = []
    for _ in range(8):
        loss = module._step(batch, "fit_test")
        opt.zero_grad()
        loss.backward()
        opt.step()
        totals.append(float(loss.detach()))
    assert totals[-1] < 0.7 * totals[0], totals


def _nets(face_model: object) -> tuple[LipReader, FaceEmotionNet]:
    from motion.models.face.vertices import region_vertex_ids

    torch.manual_seed(2)
    lips = len(region_vertex_ids("lips", face_model))
    face = len(region_vertex_ids("moving", face_model, stride=8))
    return LipReader(lips, width=16, layers=1), FaceEmotionNet(face, width=16, layers=1, vertex_stride=8)


def test_exchange_has_gradients_to_the_decoder_only(batch: dict[str, torch.Tensor]) -> None:
    from motion.bodymodels import load_face_model
    from motion.training.face_decoder import FaceDecoderModule

    lip, emo = _nets(load_face_model())
    with pytest.warns(UserWarning):
        module = FaceDecoderModule(_decoder(), flint=_flint(), audio_input="log_mel", lip_reader=lip, face_emotion=emo,
                                   w_lip_perceptual=1.0, w_emotion_perceptual=0.1, w_exchange_lip=1.0,
                                   w_exchange_lip_vertex=1.0e6, w_exchange_emotion=0.1)
    module.train()
    assert module.lip_reader is not None and module.face_emotion is not None
    assert not module.flint.training and not module.lip_reader.training and module.decoder.training
    sp = module.speech(batch["audio"])
    out = module.decoder.generate(module.flint, sp.features, batch["emotion"], batch["intensity"], batch["speaker"])
    new = (batch["emotion"] + 1) % 8
    x = module.decoder.generate(module.flint, sp.features, new, batch["intensity"], batch["speaker"])
    terms = module.loss(module.flint, (out.expression, out.jaw), (batch["expression"], batch["jaw"]), (x.expression, x.jaw), new)
    assert {"exchange_lip", "exchange_lip_vertex", "exchange_emotion", "lip_perceptual", "emotion_perceptual"} <= set(terms)
    assert all(torch.isfinite(v) for v in terms.values())
    terms["total"].backward()
    assert all(p.grad is not None for p in module.decoder.parameters() if p.requires_grad)
    for frozen in (module.flint, module.lip_reader, module.face_emotion):
        assert all(p.grad is None and not p.requires_grad for p in frozen.parameters())
    assert [m for m in module.trainable_modules()] == [module.decoder]
    with pytest.raises(TypeError, match="FacePerceptualNet"), pytest.warns(UserWarning):
        FaceDecoderModule(_decoder(), flint=_flint(), audio_input="log_mel", lip_reader=nn.Linear(2, 2))


def test_lip_closure_penalises_open_lips_only_where_the_ground_truth_closes_them() -> None:
    from motion.bodymodels import load_face_model
    from motion.metrics.face import CLOSED_LIP_GAP
    from motion.models.face.vertices import FaceVertexSets
    from motion.training.face_decoder_losses import FaceDecoderLoss, FaceDecoderLossWeights, vertex_sets_spec

    flint = _flint()
    E = flint.num_expressions
    sets = FaceVertexSets.build(load_face_model(), E, vertex_sets_spec(None, None, closure=True))
    loss = FaceDecoderLoss(sets, FaceDecoderLossWeights(vertex=0.0, lip_vertex=0.0, velocity=0.0, lip_closure=1.0e6))
    expr = torch.zeros(1, 6, E)
    closed_jaw, open_jaw = torch.zeros(1, 6, 3), torch.zeros(1, 6, 3)
    open_jaw[..., 0] = 0.1  # ~9 mm lip gap
    assert float(loss._gap(sets(expr, closed_jaw)).max()) < CLOSED_LIP_GAP  # the neutral mouth is closed
    jaw = open_jaw.clone().requires_grad_(True)
    terms = loss(flint, (expr, jaw), (expr, closed_jaw))
    assert float(terms["lip_closure"]) > 5.0e-5  # m^2: (~9 mm - gap*)^2
    terms["total"].backward()
    assert jaw.grad is not None and float(jaw.grad[..., 0].sum()) > 0  # closing the jaw lowers it
    assert float(loss(flint, (expr, open_jaw), (expr, open_jaw))["lip_closure"]) == 0.0  # open target: no term
    assert float(loss(flint, (expr, closed_jaw), (expr, closed_jaw))["lip_closure"]) == 0.0
    both = loss(flint, (expr, closed_jaw), (expr, closed_jaw), exchanged=(expr, open_jaw))
    assert float(both["lip_closure"]) == pytest.approx(0.5 * float(terms["lip_closure"]), rel=1e-5)


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny untrained exports standing in for the earlier stages."""
    from motion.bodymodels import load_face_model
    from motion.models.speech_encoder import SpeechDisentangler

    root = tmp_path_factory.mktemp("face_exports")
    torch.manual_seed(0)
    out = {name: root / name for name in ("flint", "speech_encoder", "lip", "emotion")}
    save_module(_flint(), out["flint"], "flint")
    save_module(SpeechDisentangler(width=16, conv_layers=1, layers=1, heads=2), out["speech_encoder"], "speech_encoder")
    lip, emo = _nets(load_face_model())
    save_module(lip, out["lip"], "lip_reader")
    save_module(emo, out["emotion"], "face_emotion")
    return out


#: The demo-weights stages (configs/demo) and the face stage each one trains.
DEMO = {"demo/face_decoder": "face_decoder_mel", "demo/face_decoder_exchange": "face_decoder_exchange",
        "demo/lip_reader": "lip_reader", "demo/face_emotion": "face_emotion"}


def _fit(config: str, corpus: Path, cache: Path, root: Path, exports: dict[str, Path], *extra: str) -> None:
    from motion.training.cli import main

    path = REPO / "configs" / f"{config}.yaml" if config in DEMO else FACE / f"{config}.yaml"
    config = DEMO.get(config, config)
    args = ["fit", "--config", str(path), "--data.root", str(corpus), "--data.cache_dir", str(cache),
            "--data.batch_size", "2", "--data.window", "32", "--data.max_clips", "3", "--data.num_workers", "0",
            "--trainer.fast_dev_run", "true", "--trainer.enable_progress_bar", "false",
            "--trainer.enable_model_summary", "false", "--trainer.default_root_dir", str(root), *TINY[config]]
    if config.startswith("face_decoder"):
        args += ["--model.flint_export", str(exports["flint"])]
        if config != "face_decoder_mel":
            args += ["--model.speech_encoder_export", str(exports["speech_encoder"])]
    if path.parent.name == "demo" and config.startswith("face_decoder"):  # the demo decoders read log-mel
        args += ["--model.speech_encoder_export", "null"]
    if config == "face_decoder_exchange":
        args += ["--model.lip_reader_export", str(exports["lip"]), "--model.face_emotion_export", str(exports["emotion"])]
    assert main([*args, *extra]) == 0


@pytest.fixture(scope="module")
def decoder_run(corpus: Path, cache: Path, exports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("decoder_run")
    _fit("face_decoder", corpus, cache, root, exports)
    return root / "latest"


def test_every_face_config_is_covered() -> None:
    assert {p.stem for p in FACE.glob("*.yaml")} - {"flint", "closure_detector"} == set(TINY), "add it to TINY"


@pytest.mark.parametrize("config", sorted(TINY) + sorted(DEMO))
def test_fast_dev_run(config: str, corpus: Path, cache: Path, exports: dict[str, Path], decoder_run: Path,
                      tmp_path: Path) -> None:
    if config == "face_decoder":
        latest = decoder_run
    else:
        extra = ["--model.init_decoder", str(decoder_run)] if config == "face_decoder_exchange" else []
        if config == "demo/face_decoder_exchange":  # starts from a (log-mel) demo decoder
            _fit("demo/face_decoder", corpus, cache, tmp_path / "mel", exports)
            extra = ["--model.init_decoder", str(tmp_path / "mel" / "latest")]
        _fit(config, corpus, cache, tmp_path, exports, *extra)
        latest = tmp_path / "latest"
    demo = config in DEMO
    config = DEMO.get(config, config)
    manifest = json.loads((latest / "manifest.json").read_text())
    expected = {"lip_reader": {"lip_reader"}, "face_emotion": {"face_emotion"}, "face_decoder_mel": {"face_decoder", "flint"}}
    default = {"face_decoder", "flint"} if demo else {"face_decoder", "flint", "speech_encoder"}
    assert set(manifest["modules"]) == expected.get(config, default)
    if config.startswith("face_decoder"):
        settings = json.loads((latest / "face_pipeline.json").read_text())
        assert settings["audio_input"] == ("log_mel" if config == "face_decoder_mel" or demo else "content")


def test_pluggable_lip_reader_by_class_path(corpus: Path, cache: Path, exports: dict[str, Path], tmp_path: Path) -> None:
    """A user's network (any module with `region` and forward(displacements) -> PerceptualOutput)."""
    plug = json.dumps({"class_path": f"{__name__}.ToyLipReader", "init_args": {"hidden": 4}})
    _fit("face_decoder_mel", corpus, cache, tmp_path, exports, "--model.lip_reader", plug, "--model.w_exchange_lip", "1.0",
         "--model.w_lip_perceptual", "1.0")
    assert (tmp_path / "latest" / "face_decoder.safetensors").is_file()
