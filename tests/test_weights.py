"""One way to load and save weights (issue 17): ``from_pretrained`` / ``save_pretrained`` / ``.to``
on the body, face and combined pipelines, safetensors files, public ``module.config``,
``device=`` on ``motion.generate``.

The round trip runs on the shipped weights: load, save to a temporary folder, load again;
every tensor is the same (``torch.equal``, same dtype) and so is the generated motion
(``np.array_equal``, a real speech clip, seed 0).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motion.models.config import FrozenConfig, WeightsFileError, load_module, save_module
from motion.models.layers import Standardizer
from motion.models.motion_vae import MotionVAE
from motion.pipelines.motion_pipeline import PARTS, MotionPipeline
from motion.pipelines.weights import SHIPPED_WEIGHTS, DeviceNotAvailableError, WeightsNotFoundError

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "tests/data/real/mfa_acoustic_corpus.wav"
NO_CUDA = not torch.cuda.is_available()


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def shipped() -> MotionPipeline:
    return MotionPipeline.from_pretrained(SHIPPED_WEIGHTS)


def _tensors(pipe: MotionPipeline) -> dict[str, torch.Tensor]:
    return {f"{part}/{mod}/{key}": t for part, p in pipe.parts().items() for mod, m in p.modules().items()
            for key, t in m.state_dict().items()}


def _generate(pipe: MotionPipeline) -> dict[str, np.ndarray]:
    m = pipe(str(CLIP), seed=0).motion
    return {"poses": m.poses, "trans": m.trans, "expression": m.expression, "betas": m.betas}


# --------------------------------------------------------------------------- the shipped weights
def test_shipped_weights_are_safetensors_with_manifests() -> None:
    """No pickles in the shipped weights: every module is ``<name>.json`` + ``<name>.safetensors``
    and every manifest names what its folder holds."""
    from motion.models.config import module_names

    assert not list(SHIPPED_WEIGHTS.rglob("*.pt")) and not list(SHIPPED_WEIGHTS.rglob("*.ckpt"))
    root = json.loads((SHIPPED_WEIGHTS / "manifest.json").read_text())
    assert root == {"stage": "motion_pipeline", "modules": PARTS}
    for part in PARTS:
        folder = SHIPPED_WEIGHTS / part
        names = module_names(folder)
        assert names and all((folder / f"{n}.safetensors").is_file() for n in names)
        listed = json.loads((folder / "manifest.json").read_text())["modules"]
        assert sorted(listed) == names, part
        for name, cls in listed.items():
            assert json.loads((folder / f"{name}.json").read_text())["class_path"] == cls


def test_round_trip_is_bit_exact(shipped: MotionPipeline, tmp_path: Path) -> None:
    """load -> save_pretrained -> from_pretrained: the same tensors (values and dtypes), the
    same files' worth of weights, the same manifests, and the same motion bit for bit."""
    out = shipped.save_pretrained(tmp_path / "copy")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]  # no temporary folder left
    again = MotionPipeline.from_pretrained(out)
    assert list(again.parts()) == ["body", "face", "metrics"]
    a, b = _tensors(shipped), _tensors(again)
    assert a.keys() == b.keys() and len(a) > 100
    for key in a:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key
    for part in PARTS:  # float16 matrices stay float16: the copy is no bigger than the original
        for f in (SHIPPED_WEIGHTS / part).glob("*.safetensors"):
            stored = _stored_dtypes(f)
            assert stored == _stored_dtypes(out / part / f.name), f.name
        saved, original = (json.loads((f / part / "manifest.json").read_text()) for f in (out, SHIPPED_WEIGHTS))
        assert saved.pop("modules") == {n: _class_path(m) for n, m in getattr(shipped, part).modules().items()}
        original.pop("modules")
        assert saved == original  # the rest as it was (stage, data, emotions, training run)
    assert json.loads((out / "manifest.json").read_text()) == {"stage": "motion_pipeline", "modules": PARTS}
    ref, got = _generate(shipped), _generate(again)
    for key in ref:
        assert np.array_equal(ref[key], got[key]), key
    assert np.abs(got["expression"]).max() > 0 and np.abs(got["poses"]).max() > 0


def _class_path(module: torch.nn.Module) -> str:
    return f"{type(module).__module__}.{type(module).__qualname__}"


def _stored_dtypes(path: Path) -> dict[str, torch.dtype]:
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return {k: f.get_slice(k).get_dtype() for k in f.keys()}


def test_parts_load_and_save_alone(shipped: MotionPipeline, tmp_path: Path) -> None:
    """Each part reads its own folder or a root holding it, and writes a folder its class reads."""
    from motion.pipelines.body import BodyPipeline
    from motion.pipelines.face import FacePipeline
    from motion.pipelines.metric_nets import MetricNets

    body = BodyPipeline.from_pretrained(SHIPPED_WEIGHTS)  # the root
    assert body.source == str(SHIPPED_WEIGHTS / "body") and body.train_window == 64
    face = FacePipeline.from_pretrained(SHIPPED_WEIGHTS / "face")  # the folder
    assert face.closure_detector is not None and face.speech_encoder is None
    nets = MetricNets.from_pretrained(SHIPPED_WEIGHTS)
    assert set(nets) == {"feature_extractor", "emotion_classifier", "speaker_classifier", "face_emotion"}
    for part, cls in (("body", BodyPipeline), ("face", FacePipeline), ("metrics", MetricNets)):
        getattr(shipped, part).save_pretrained(tmp_path / part)
        assert cls.from_pretrained(tmp_path / part).modules().keys() == getattr(shipped, part).modules().keys()
    assert MotionPipeline.from_pretrained(tmp_path).notes == {}  # a root without a manifest: read by what it holds
    only = MotionPipeline.from_pretrained(SHIPPED_WEIGHTS, parts=["face"])
    assert only.body is None and only.metrics is None and only.notes["body"] == "not asked for"
    with pytest.raises(ValueError, match="unknown part 'hands'"):
        MotionPipeline.from_pretrained(SHIPPED_WEIGHTS, parts=["hands"])
    with pytest.raises(WeightsNotFoundError, match="face_decoder.json/.safetensors"):
        MotionPipeline.from_pretrained(tmp_path / "body", parts=["body", "face"])


def test_save_pretrained_is_atomic(shipped: MotionPipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A save that fails half-way leaves the folder that was there untouched and no temporary folder."""
    import motion.models.config as config

    dest = tmp_path / "w"
    shipped.body.save_pretrained(dest)  # type: ignore[union-attr]
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    real = config.write_state
    monkeypatch.setattr(config, "write_state", failing)
    with pytest.raises(OSError, match="No space left"):
        shipped.save_pretrained(dest)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    monkeypatch.undo()
    shipped.save_pretrained(dest)  # replacing a folder that exists
    assert sorted(p.name for p in dest.iterdir()) == ["body", "face", "manifest.json", "metrics"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]


# --------------------------------------------------------------------------- device
def test_to_device_and_generate_on_cpu(shipped: MotionPipeline) -> None:
    assert shipped.to("cpu") is shipped and shipped.body.device == torch.device("cpu")  # type: ignore[union-attr]
    assert shipped.face.device == torch.device("cpu")  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="device must be"):
        shipped.to("tpu")


@pytest.mark.skipif(not NO_CUDA, reason="a GPU is present: the error is for machines without one")
def test_cuda_asked_for_without_a_gpu_is_a_clear_error(shipped: MotionPipeline) -> None:
    import motion

    for call in (lambda: shipped.to("cuda"), lambda: MotionPipeline.from_pretrained(device="cuda"),
                 lambda: motion.generate(CLIP, seed=0, device="cuda")):
        with pytest.raises(DeviceNotAvailableError, match="use device='cpu'") as err:
            call()
        assert isinstance(err.value, motion.MotionError) and "\n" not in str(err.value)
    assert shipped.body.device == torch.device("cpu")  # type: ignore[union-attr]


@pytest.mark.skipif(not NO_CUDA, reason="a GPU is present: the error is for machines without one")
def test_cli_device_cuda_without_a_gpu_fails_before_writing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``motion generate --device cuda`` on a machine without a GPU: one clear line, no output file."""
    from motion.cli import main

    out = tmp_path / "out.npz"
    assert main(["generate", str(CLIP), "-o", str(out), "--device", "cuda", "--seed", "0"]) != 0
    err = capsys.readouterr().err
    assert "no CUDA support" in err and "cpu" in err and not out.exists()
    report = tmp_path / "eval.json"
    assert main(["evaluate", "--real", str(CLIP.parent), "--device", "cuda", "--json", str(report)]) != 0
    err = capsys.readouterr().err
    assert "no CUDA support" in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_generate_device_cpu_is_the_default(shipped: MotionPipeline) -> None:
    """``motion.generate(device="cpu")`` is the pipeline's own output, and the default."""
    import motion

    ref = shipped(str(CLIP), seed=0, keep_outputs=False).motion
    got = motion.generate(CLIP, seed=0, weights=SHIPPED_WEIGHTS, device="cpu")
    assert np.array_equal(got.poses, ref.poses) and np.array_equal(got.expression, ref.expression)
    with pytest.raises(ValueError, match="device must be"):
        motion.generate(CLIP, seed=0, device="gpu0")


# --------------------------------------------------------------------------- module files
def test_config_is_public_and_read_only() -> None:
    import copy
    import pickle

    vae = MotionVAE(width=16, layers=0, heads=2)
    assert isinstance(vae.config, FrozenConfig) and vae.config["width"] == vae.config.width == 16
    with pytest.raises(AttributeError, match="read-only"):
        vae.config.width = 32  # type: ignore[misc]
    with pytest.raises(TypeError):
        vae.config["width"] = 32  # type: ignore[index]
    assert not hasattr(vae, "_config")
    assert copy.deepcopy(vae).config == vae.config == pickle.loads(pickle.dumps(vae.config))
    assert MotionVAE(**vae.config.to_dict()).config == vae.config


def test_safetensors_files_and_legacy_pt(tmp_path: Path) -> None:
    """save_module writes safetensors (no pickle); a legacy .pt export still loads (weights_only)."""
    torch.manual_seed(0)
    norm = Standardizer(8)
    norm.set_stats(torch.randn(8), torch.rand(8) + 0.5)
    cfg, weights = save_module(norm, tmp_path, "norm")
    assert weights.suffix == ".safetensors" and weights.read_bytes()[8:9] == b"{"  # a JSON header, then data
    again = load_module(tmp_path, "norm", expected=Standardizer)
    assert all(torch.equal(a, b) for a, b in zip(norm.state_dict().values(), again.state_dict().values()))
    weights.unlink()
    torch.save(norm.state_dict(), tmp_path / "norm.pt")
    legacy = load_module(tmp_path, "norm", expected=Standardizer)
    assert torch.equal(legacy.mean, norm.mean)
    save_module(norm, tmp_path, "norm")  # a new export replaces the legacy file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["norm.json", "norm.safetensors"]


def test_broken_safetensors_are_named(tmp_path: Path) -> None:
    """0-byte, truncated, garbage and wrong-shape safetensors: one WeightsFileError naming the file."""
    from safetensors.torch import save_file

    save_module(MotionVAE(width=16, layers=0, heads=2), tmp_path, "vae")
    path = tmp_path / "vae.safetensors"
    good = path.read_bytes()
    cases = {b"": "is empty", good[: len(good) // 2]: "cannot be read as safetensors",
             good[:6]: "cannot be read as safetensors", b"\x00" * 64: "cannot be read as safetensors"}
    for data, why in cases.items():
        path.write_bytes(data)
        with pytest.raises(WeightsFileError, match=why) as err:
            load_module(tmp_path, "vae")
        assert "vae.safetensors" in str(err.value) and "\n" not in str(err.value)
    wrong = MotionVAE(width=32, layers=0, heads=2).state_dict()
    save_file({k: v.contiguous() for k, v in wrong.items()}, str(path))
    with pytest.raises(WeightsFileError, match=r"vae.safetensors does not fit vae.json: size mismatch") as err:
        load_module(tmp_path, "vae")
    assert "\n" not in str(err.value)
    path.unlink()
    with pytest.raises(FileNotFoundError, match="vae.safetensors not found"):
        load_module(tmp_path, "vae")
