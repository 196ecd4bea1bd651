"""FLINT face prior: FLAME layer, shapes, any length, training signal, freezing, CLI fast_dev_run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from motion.models.face.attention import alibi_bias, alibi_slopes
from motion.models.face.flame_layer import FlameExpressionLayer, moving_vertices
from motion.models.face.flint import FlintPrior

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from motion.synthetic.corpus import generate_corpus

    root = tmp_path_factory.mktemp("flint") / "corpus"
    generate_corpus(root, size="tiny")
    return root


@pytest.fixture(scope="module")
def face_model():
    from motion.bodymodels import load_face_model

    return load_face_model()


def _flint(**kw) -> FlintPrior:
    torch.manual_seed(0)
    return FlintPrior(**kw)


def test_flame_layer_matches_smplx(face_model) -> None:
    from motion.bodymodels import flame_forward

    g = torch.Generator().manual_seed(1)
    e, jaw = torch.randn(4, 50, generator=g) * 0.5, torch.randn(4, 3, generator=g) * 0.2
    ref = flame_forward(face_model, e, jaw=jaw).vertices
    ids = moving_vertices(face_model, 50)
    assert 0 < len(ids) < ref.shape[1]
    torch.testing.assert_close(FlameExpressionLayer.from_flame(face_model, 50)(e, jaw), ref, atol=1e-6, rtol=0)
    layer = FlameExpressionLayer.from_flame(face_model, 50, ids)
    torch.testing.assert_close(layer(e[None], jaw[None])[0], ref[:, ids], atol=1e-6, rtol=0)
    assert layer.state_dict() == {}  # never written into checkpoints


def test_alibi_bias() -> None:
    b = alibi_bias(8, 5)
    assert b.shape == (8, 5, 5)
    torch.testing.assert_close(b, b.transpose(1, 2))
    assert torch.all(torch.diagonal(b, dim1=1, dim2=2) == 0)
    torch.testing.assert_close(b[:, 0, 1], -alibi_slopes(8))
    assert alibi_slopes(8)[-1] == pytest.approx(2.0**-8)


@pytest.mark.parametrize("jaw_rep", ["axis_angle", "6d"])
@pytest.mark.parametrize("T", [32, 45])
def test_shapes(T: int, jaw_rep: str) -> None:
    flint = _flint(jaw_rep=jaw_rep)
    out = flint(torch.randn(2, T, 50), torch.randn(2, T, 3) * 0.1)
    L = -(-T // 8)
    assert out.expression.shape == (2, T, 50) and out.jaw.shape == (2, T, 3)
    assert out.mu.shape == out.logvar.shape == out.z.shape == (2, L, 128)


def test_encode_decode_any_length() -> None:
    flint = _flint().eval()
    for T in (1, 7, 33, 100):
        e, j = torch.randn(1, T, 50), torch.randn(1, T, 3) * 0.1
        mu, _ = flint.encode(e, j)
        assert mu.shape == (1, -(-T // 8), 128)
        de, dj = flint.decode(mu, T)
        assert de.shape == (1, T, 50) and dj.shape == (1, T, 3)
        assert flint.decode(mu)[0].shape[1] == 8 * mu.shape[1]
    # eval reconstruction is deterministic and does not depend on the batch
    e, j = torch.randn(3, 45, 50), torch.randn(3, 45, 3) * 0.1
    torch.testing.assert_close(flint(e, j).expression[1:2], flint(e[1:2], j[1:2]).expression, atol=1e-5, rtol=0)
    assert flint.sample(2, 20, torch.Generator().manual_seed(0))[0].shape == (2, 20, 50)


def test_few_steps_reduce_loss(corpus: Path, face_model) -> None:
    from motion.data.face_windows import FaceWindowDataset
    from motion.training.face_losses import FlintLoss

    ds = FaceWindowDataset(corpus, "train", window=32)
    assert ds[0]["expression"].shape == (32, 50) and ds[0]["jaw"].shape == (32, 3)
    batch = [ds[i] for i in range(0, len(ds), max(len(ds) // 4, 1))][:4]
    e, j = torch.stack([b["expression"] for b in batch]), torch.stack([b["jaw"] for b in batch])
    flint = _flint(dropout=0.0)
    flint.set_normalization(*ds.frames())
    loss = FlintLoss(FlameExpressionLayer.from_flame(face_model, 50, moving_vertices(face_model, 50)))
    opt = torch.optim.Adam(flint.parameters(), lr=1e-3)
    totals = []
    for _ in range(6):
        terms = loss(flint, flint(e, j, sample=False), e, j)
        opt.zero_grad()
        terms["total"].backward()
        opt.step()
        totals.append(float(terms["total"].detach()))
    assert set(terms) == {"vertex", "kl", "total"}
    assert totals[-1] < 0.7 * totals[0], totals


def test_frozen_flint_has_no_grads(tmp_path: Path) -> None:
    flint = _flint().freeze()
    assert flint.frozen and not flint.training
    assert all(not p.requires_grad for p in flint.parameters())
    parent = torch.nn.Sequential(flint).train()  # a parent's .train() keeps it in eval mode
    assert not flint.training and not parent[0].training
    z = torch.randn(1, 4, 128, requires_grad=True)  # latents predicted by a face decoder
    e, _ = flint.decode(z)
    e.square().sum().backward()
    assert z.grad is not None and all(p.grad is None for p in flint.parameters())
    from motion.models.config import load_module, save_module

    save_module(flint, tmp_path, "flint")  # the toolkit's plain export: flint.json + flint.safetensors
    again = load_module(tmp_path, "flint", expected=FlintPrior).freeze()
    torch.testing.assert_close(again.decode(z.detach())[0], flint.decode(z.detach())[0])


@pytest.mark.parametrize("config", ["face/flint", "demo/flint"])
def test_fast_dev_run_config(config: str, corpus: Path, tmp_path: Path) -> None:
    """The face stage config (and the demo-weights one) runs end to end through the toolkit's
    LightningCLI and exports the prior."""
    from motion.training.cli import main
    from motion.training.flint_module import load_flint

    rc = main(["fit", "--config", str(REPO / f"configs/{config}.yaml"), "--data.root", str(corpus),
               "--data.batch_size", "8", "--trainer.fast_dev_run", "true", "--trainer.default_root_dir", str(tmp_path)])
    assert rc == 0
    flint = load_flint(tmp_path / "latest")  # ExportWeights: flint.json + flint.safetensors
    assert flint.frozen and bool(flint.norm.initialized)  # standardisation set from the data
    assert flint.num_expressions == 50 and flint.decode(torch.zeros(1, 2, 128))[0].shape == (1, 16, 50)
    for ckpt in (tmp_path / "checkpoints").glob("*.ckpt"):
        again = load_flint(ckpt)
        torch.testing.assert_close(again.decode(torch.ones(1, 2, 128))[0], flint.decode(torch.ones(1, 2, 128))[0])
