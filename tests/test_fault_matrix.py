"""Fault matrix of issue 16: every bad input, lying file and kill gives a one-line message naming
the file and the problem, a non-zero exit, no traceback, nothing left behind (destination folder
and TMPDIR), an existing destination intact, and no code run from any data, cache or weights file.

Most cases call :func:`motion.cli.main` in this process (fast); kills and a few end-to-end runs
use a subprocess. TMPDIR is a fresh folder per test and checked empty afterwards.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from motion.cli import main

REPO = Path(__file__).resolve().parents[1]


class _Payload:
    """Unpickling it would create the marker folder."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.mkdir, (str(self.marker),))


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private MOTION_CACHE_DIR for the module (the stand-in models are built into it once)."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOTION_CACHE_DIR", str(root))
        yield root


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> dict[str, Path]:
    """A short speech-like WAV, a motion file, and a 4-minute AAC file (for decoding kills)."""
    import imageio_ffmpeg
    import soundfile as sf

    from motion.container import Motion
    from motion.export import export

    d = tmp_path_factory.mktemp("inputs")
    sr = 16000
    t = np.arange(sr) / sr
    speech = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
    sf.write(d / "a.wav", speech.astype(np.float32), sr)
    export(Motion.zeros(30), d / "m.npz")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=f=220:d=240:sample_rate=16000", "-c:a", "aac", "-b:a", "24k", str(d / "long.m4a")],
                   check=True, timeout=60)
    return {"wav": d / "a.wav", "npz": d / "m.npz", "m4a": d / "long.m4a"}


@pytest.fixture()
def tmpdir_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR (and Python's cached temp folder) pointed at an empty folder for this test."""
    folder = tmp_path / "TMPDIR"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    """An empty destination folder."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _names(folder: Path) -> list[str]:
    """Names in ``folder``, without torch's own per-user cache folder: importing torch._dynamo
    makes an empty ``TMPDIR/torchinductor_USER`` in every torch program (not a file of ours)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("torchinductor_"))


def _error(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str, code: int = 1) -> str:
    """Run the CLI in-process; assert the exit code and one error line holding ``words``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(argv) == code, argv
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    line = err.splitlines()[-1]
    assert line.startswith(f"motion {argv[0]}: error: "), err
    for word in words:
        assert word in line, (word, line)
    return line


def _run(argv: list[str], tmpdir: Path, **popen: object) -> subprocess.Popen[str]:
    env = dict(os.environ, TMPDIR=str(tmpdir), MOTION_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "motion", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, **popen)  # type: ignore[call-overload]


def _children(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (from /proc)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --------------------------------------------------------------------------- 1, 6: data loss, write protection
def test_corpus_overwrite_never_deletes_a_users_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "thesis"
    (root / "chapter").mkdir(parents=True)
    (root / "thesis.txt").write_text("years of work")
    assert main(["corpus", str(root), "--overwrite", "--size", "tiny"]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(root) in err
    assert (root / "thesis.txt").read_text() == "years of work" and (root / "chapter").is_dir()


def test_write_protected_destination_is_kept(inputs: dict[str, Path], out: Path, tmpdir_env: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    dest = out / "x.bvh"
    dest.write_text("keep")
    dest.chmod(0o444)
    _error(capsys, ["export", str(inputs["npz"]), str(dest)], str(dest), "write-protected")
    assert dest.read_text() == "keep" and _names(out) == ["x.bvh"] and _names(tmpdir_env) == []


def test_generate_without_output_never_replaces_an_existing_file(inputs: dict[str, Path], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.npz").write_text("mine")
    _error(capsys, ["generate", str(inputs["wav"])], "a.npz exists", "-o")
    assert (tmp_path / "a.npz").read_text() == "mine"


# --------------------------------------------------------------------------- 2: code in caches and files
def test_tampered_model_cache_payload_is_never_run(inputs: dict[str, Path], cache: Path, out: Path,
                                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(inputs["npz"]), str(out / "a.bvh")]) == 0  # fills the sanitised cache
    marker = tmp_path / "pwned"
    evil = np.empty((), dtype=object)
    evil[()] = _Payload(marker)
    entries = list((cache / "sanitized").glob("smplx-*/smplx/SMPLX_NEUTRAL.npz"))
    assert entries
    for f in entries:
        np.savez(f, **{**dict(np.load(f)), "v_template": evil})
    assert main(["export", str(inputs["npz"]), str(out / "b.bvh")]) == 0
    capsys.readouterr()
    assert not marker.exists() and _names(out) == ["a.bvh", "b.bvh"]


@pytest.mark.parametrize("case", ["payload", "sparse", "empty", "junk"])
def test_bad_model_files_are_model_errors(case: str, inputs: dict[str, Path], tmp_path: Path, out: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import scipy.sparse as sp

    models = tmp_path / "models"
    (models / "smplx").mkdir(parents=True)
    marker = tmp_path / "pwned"
    f = models / "smplx" / ("SMPLX_NEUTRAL.npz" if case == "junk" else "SMPLX_NEUTRAL.pkl")
    if case == "payload":
        f.write_bytes(pickle.dumps({"v_template": _Payload(marker)}, protocol=2))
    elif case == "sparse":
        huge = sp.csc_matrix((np.ones(1), (np.zeros(1, int), np.zeros(1, int))), shape=(10**6, 10**6))
        f.write_bytes(pickle.dumps({"J_regressor": huge}, protocol=2))
    elif case == "empty":
        f.write_bytes(b"")
    else:
        f.write_text("not a model")
    why = {"payload": "forbidden global", "sparse": "sparse matrix", "empty": "is empty", "junk": "not an npz"}[case]
    line = _error(capsys, ["export", str(inputs["npz"]), str(out / "x.bvh"), "--models", str(models)],
                  f"model file {f}", why)
    assert "cannot write" not in line and not marker.exists() and _names(out) == []


def test_missing_models_folder_is_not_a_write_error(inputs: dict[str, Path], out: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    line = _error(capsys, ["export", str(inputs["npz"]), str(out / "x.bvh"), "--models", str(out / "none")],
                  str(out / "none"), "does not exist")
    assert "cannot write" not in line


# --------------------------------------------------------------------------- 5: lying and broken files
def test_npz_header_claiming_a_billion_frames(inputs: dict[str, Path], tmp_path: Path, out: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import zipfile

    from motion.data.formats import read_motion
    from motion.data.formats.errors import MotionFormatError

    lying = tmp_path / "lying.npz"
    with zipfile.ZipFile(inputs["npz"]) as src, zipfile.ZipFile(lying, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "poses.npy":
                arr = np.load(io.BytesIO(data))
                head = io.BytesIO()
                np.lib.format.write_array_header_1_0(head, {"descr": arr.dtype.str, "fortran_order": False,
                                                            "shape": (10**9, *arr.shape[1:])})
                data = head.getvalue() + arr.tobytes()
            dst.writestr(name, data)
    for argv in (["export", str(lying), str(out / "x.bvh")], ["info", str(lying)]):
        _error(capsys, argv, str(lying), "poses", "claims shape (1000000000")
    with pytest.raises(MotionFormatError, match="corrupt or forged"):
        read_motion(lying)
    assert _names(out) == []


@pytest.mark.parametrize("case", ["empty", "truncated", "payload", "shapes", "legacy_truncated", "legacy_payload"])
def test_broken_weights_are_named_and_never_run(case: str, inputs: dict[str, Path], tmp_path: Path, out: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A broken denoiser file (safetensors, or a legacy .pt of an older export): one error line
    naming it; a pickle payload is never run."""
    import torch
    from safetensors.torch import save_file

    from motion.models.config import weights_file
    from motion.pipelines.weights import resolve_weights_dir

    weights = tmp_path / "weights"
    shutil.copytree(resolve_weights_dir(None) / "body", weights / "body")
    shipped = weights_file(weights / "body", "denoiser")
    assert shipped is not None
    good = shipped.read_bytes()
    shipped.unlink()
    path = weights / "body" / ("denoiser.pt" if case.startswith("legacy") else "denoiser.safetensors")
    marker = tmp_path / "pwned"
    if case == "shapes":  # a well-formed file whose tensors do not fit denoiser.json
        save_file({"out.weight": torch.zeros(3, 5), "out.bias": torch.zeros(3)}, str(path))
    else:
        payload = pickle.dumps({"x": _Payload(marker)})
        path.write_bytes({"empty": b"", "truncated": good[:200], "payload": payload,
                          "legacy_truncated": good[:200], "legacy_payload": payload}[case])
    line = _error(capsys, ["generate", str(inputs["wav"]), "-o", str(out / "x.npz"), "--weights", str(weights),
                           "--no-face", "--steps", "1", "--phones", "off"], path.name)
    assert ("does not fit denoiser.json" in line) == (case == "shapes")
    assert not marker.exists() and _names(out) == []


def test_render_size_beyond_opengl(inputs: dict[str, Path], out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _error(capsys, ["render", str(inputs["npz"]), "-o", str(out / "x.png"), "--width", "100000"], "100000", "8192")
    assert _names(out) == []


def test_fit_checkpoint_and_corpus_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = str(REPO / "configs" / "body" / "motion_vae.yaml")
    (tmp_path / "cut.ckpt").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    for ckpt, why in (("none.ckpt", "not found"), ("cut.ckpt", "is truncated")):
        assert main(["fit", "--config", cfg, "--ckpt_path", ckpt]) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err and f"checkpoint {ckpt} {why}" in err, err
    assert main(["fit", "--config", cfg, "--data.init_args.root", str(tmp_path / "no_corpus")]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("motion fit: error:") and "no_corpus" in err


# --------------------------------------------------------------------------- 7: audio and option messages
@pytest.mark.parametrize("kind", ["folder", "fifo", "device", "missing"])
def test_audio_that_is_not_a_file(kind: str, tmp_path: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = {"folder": tmp_path, "fifo": tmp_path / "f.wav", "device": Path("/dev/zero"),
            "missing": tmp_path / "none.wav"}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    why = {"folder": "is a directory", "fifo": "FIFO", "device": "device", "missing": "not found"}[kind]
    _error(capsys, ["generate", str(path), "-o", str(out / "x.npz")], str(path), why)
    assert _names(out) == []


def test_overlap_longer_than_the_window(inputs: dict[str, Path], out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _error(capsys, ["generate", str(inputs["wav"]), "-o", str(out / "x.npz"), "--window", "1", "--overlap", "3"],
           "overlap (3 s", "window (1 s")


def test_bad_thread_counts(inputs: dict[str, Path], out: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["generate", str(inputs["wav"]), "--threads", "0"])
    assert exc.value.code == 2 and "--threads must be 1 or more" in capsys.readouterr().err
    monkeypatch.setenv("MOTION_THREADS", "many")
    _error(capsys, ["generate", str(inputs["wav"]), "-o", str(out / "x.npz")], "MOTION_THREADS", "'many'")


def test_truncated_wav_and_silence_warn(inputs: dict[str, Path], tmp_path: Path, out: Path, tmpdir_env: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    import soundfile as sf

    from motion.audio import load_audio
    from motion.audio.errors import AudioWarning

    cut = tmp_path / "cut.wav"
    cut.write_bytes(inputs["wav"].read_bytes()[:20000])
    assert main(["generate", str(cut), "-o", str(out / "x.npz"), "--no-face", "--steps", "1", "--phones", "off",
                 "--threads", "1"]) == 0
    err = capsys.readouterr().err
    assert f"motion generate: warning: {cut} is truncated" in err and "Traceback" not in err
    assert _names(out) == ["x.npz"] and _names(tmpdir_env) == []
    quiet = tmp_path / "quiet.wav"
    noise = np.random.default_rng(0).standard_normal(16000 * 1200).astype(np.float32) * np.float32(3e-4)
    sf.write(quiet, noise, 16000, subtype="PCM_16")  # 20 minutes of room noise: above the silence error
    with pytest.warns(AudioWarning, match="almost silent"):
        load_audio(quiet)


# --------------------------------------------------------------------------- 8: unwritable HOME, read-only install
@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare")
def test_read_only_install_and_home_still_load_librosa(tmp_path: Path) -> None:
    import librosa

    site = str(Path(librosa.__file__).parents[1])
    home = tmp_path / "home"
    home.mkdir()
    code = ("import motion, os, librosa; librosa.hz_to_note(440.0); print('CACHE', os.environ['NUMBA_CACHE_DIR'])")
    script = (f"mount --bind -o ro {site} {site} && mount --bind -o ro {home} {home} && "
              f"exec {sys.executable} -c \"{code}\"")
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "MOTION_CACHE_DIR")}
    env.update(HOME=str(home), TMPDIR=str(tmp_path))
    res = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env, timeout=120)
    if "Operation not permitted" in res.stderr or "permission denied" in res.stderr.lower():
        pytest.skip(f"no mount namespace here: {res.stderr.strip()[:200]}")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "cannot cache" not in res.stderr
    cache = Path(res.stdout.split("CACHE", 1)[1].strip())
    assert cache.parent == tmp_path and stat.S_IMODE(cache.stat().st_mode) == 0o700


# --------------------------------------------------------------------------- 3: kills leave nothing behind
_SLOW_EXPORT = """
import sys, time
from motion.cli import main
from motion.export import registry
real = registry.available_formats()["bvh"].write
def slow(motion, path, **kw):
    real(motion, path, **kw)
    print("writing", flush=True)
    for _ in range(600):  # work in short steps (see tests/test_cli.py: one long sleep defers SIGTERM)
        time.sleep(0.1)
registry.register_exporter("slow_bvh", (".bvh",), slow, default_for_suffix=False)
sys.exit(main(["export", sys.argv[1], sys.argv[2], "--format", "slow_bvh"]))
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_kill_mid_export_leaves_nothing(sig: signal.Signals, inputs: dict[str, Path], out: Path,
                                        tmpdir_env: Path) -> None:
    dest = out / "x.bvh"
    dest.write_text("old")
    env = dict(os.environ, TMPDIR=str(tmpdir_env))
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_EXPORT, str(inputs["npz"]), str(dest)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        assert _names(out) == ["x.bvh"]  # the new file has no name yet
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == (143 if sig == signal.SIGTERM else -signal.SIGKILL)
    assert "Traceback" not in err
    assert _names(out) == ["x.bvh"] and dest.read_text() == "old" and _names(tmpdir_env) == []


@pytest.mark.parametrize("delay", [0.6, 1.2, 2.0])
def test_sigkill_at_any_moment_of_export(delay: float, inputs: dict[str, Path], out: Path, tmpdir_env: Path) -> None:
    dest = out / "x.glb"
    dest.write_text("old")
    proc = _run(["export", str(inputs["npz"]), str(dest)], tmpdir_env)
    time.sleep(delay)
    proc.kill()
    proc.communicate(timeout=30)
    assert _names(out) == ["x.glb"] and _names(tmpdir_env) == []
    assert dest.read_bytes() in (b"old",) or dest.read_bytes()[:4] == b"glTF"  # old, or the whole new file


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_kill_generate_while_ffmpeg_decodes(sig: signal.Signals, inputs: dict[str, Path], out: Path,
                                           tmpdir_env: Path) -> None:
    """Killed while ffmpeg decodes an m4a: no decoded WAV in TMPDIR, no ffmpeg left running."""
    proc = _run(["generate", str(inputs["m4a"]), "-o", str(out / "x.npz"), "--no-face"], tmpdir_env)
    ffmpeg: list[int] = []
    deadline = time.monotonic() + 60
    while not ffmpeg and proc.poll() is None and time.monotonic() < deadline:
        ffmpeg = [k for k in _children(proc.pid) if "ffmpeg" in Path(f"/proc/{k}/cmdline").read_bytes().decode(
            "utf-8", "replace")] if Path(f"/proc/{proc.pid}").exists() else []
        time.sleep(0.005)
    assert ffmpeg, "ffmpeg was never seen decoding"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    for _ in range(200):
        if not any(_alive(k) for k in ffmpeg):
            break
        time.sleep(0.01)
    assert not any(_alive(k) for k in ffmpeg), "ffmpeg outlived the toolkit"
    assert "Traceback" not in err
    assert _names(out) == [] and _names(tmpdir_env) == []


@pytest.mark.slow
@pytest.mark.parametrize("delay", [3.0, 5.0, 7.0])
def test_sigkill_at_later_moments_of_generate(delay: float, inputs: dict[str, Path], out: Path,
                                              tmpdir_env: Path) -> None:
    dest = out / "x.npz"
    dest.write_text("old")
    proc = _run(["generate", str(inputs["wav"]), "-o", str(dest)], tmpdir_env)
    time.sleep(delay)
    proc.kill()
    proc.communicate(timeout=30)
    assert _names(out) == ["x.npz"] and _names(tmpdir_env) == []
    assert dest.read_bytes() == b"old" or dest.read_bytes()[:2] == b"PK"


# --------------------------------------------------------------------------- 3: the replace window
# Replacing an existing file takes two system calls (link the unnamed file under a hidden
# .NAME.<hex>.link.SUFFIX, rename it over NAME). strace's fault injection lands a signal on entry
# to the rename (after the link), or a pause on exit from the second linkat (the first one, onto
# NAME itself, fails with EEXIST): exactly inside the window. (A catchable signal injected on
# entry to linkat is delivered as it returns; SIGKILL there would abort the link, hence the rename.)
_REPLACE = """
import sys
from motion.atomic import atomic_write
atomic_write(sys.argv[1], lambda f: f.write(sys.argv[2].encode()))
print("replaced", flush=True)
"""


def _strace_replace(dest: Path, text: str, inject: str, tmpdir: Path, **popen: object) -> subprocess.Popen[str]:
    """Replace ``dest`` with ``text`` in a child run under strace with ``-e inject=INJECT``."""
    calls = inject.split(":")[0]
    return subprocess.Popen(["strace", "-qq", "-f", "-o", "/dev/null", "-e", f"trace={calls}",
                             "-e", f"inject={inject}", sys.executable, "-c", _REPLACE, str(dest), text],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals,
                            env=dict(os.environ, TMPDIR=str(tmpdir)), **popen)  # type: ignore[call-overload]


def _default_signals() -> None:
    """In the child: default dispositions (a background job inherits SIGINT ignored)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace (fault injection)")


@needs_strace
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_catchable_signal_between_link_and_rename_waits_for_the_rename(sig: str, out: Path, tmpdir_env: Path) -> None:
    dest = out / "x.txt"
    dest.write_text("old")
    proc = _strace_replace(dest, "new", f"linkat:signal={sig}:when=2", tmpdir_env)  # delivered as linkat returns
    stdout, err = proc.communicate(timeout=60)
    assert proc.returncode in (128 + getattr(signal, sig), -getattr(signal, sig), 1, 130), (proc.returncode, err)
    assert "replaced" not in stdout  # the signal did land (after the rename)
    assert _names(out) == ["x.txt"] and dest.read_text() == "new"  # complete, and no .link name
    assert _names(tmpdir_env) == []


@needs_strace
def test_sigkill_between_link_and_rename_is_cleaned_by_the_next_write(out: Path, tmpdir_env: Path) -> None:
    dest = out / "x.txt"
    dest.write_text("old")
    (out / ".x.part.txt").write_text("a user's")  # other hidden names are never touched
    (out / ".y.0123abcd.link.txt").write_text("another destination's")
    proc = _strace_replace(dest, "new", "rename,renameat,renameat2:signal=SIGKILL:when=1", tmpdir_env)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    left = [n for n in _names(out) if n.startswith(".x.") and n.endswith(".link.txt")]
    assert len(left) == 1 and (out / left[0]).read_text() == "new"  # the window Linux cannot close
    assert dest.read_text() == "old"
    from motion.atomic import atomic_write

    atomic_write(dest, lambda f: f.write(b"newer"))
    assert _names(out) == [".x.part.txt", ".y.0123abcd.link.txt", "x.txt"] and dest.read_text() == "newer"


@needs_strace
def test_a_live_writers_link_name_is_left_alone(out: Path, tmpdir_env: Path) -> None:
    """A writer paused (5 s) between link and rename keeps its name; both writes complete."""
    dest = out / "x.txt"
    dest.write_text("old")
    proc = _strace_replace(dest, "slow", "linkat:delay_exit=5000000:when=2", tmpdir_env)
    deadline = time.monotonic() + 30
    while not any(n.endswith(".link.txt") for n in _names(out)) and time.monotonic() < deadline:
        time.sleep(0.02)
    link = [n for n in _names(out) if n.endswith(".link.txt")]
    assert link and proc.poll() is None, "the writer never reached the window"
    from motion.atomic import atomic_write

    atomic_write(dest, lambda f: f.write(b"fast"))
    assert (out / link[0]).read_text() == "slow" and dest.read_text() == "fast"  # live: not removed
    stdout, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "replaced" in stdout, err
    assert _names(out) == ["x.txt"] and dest.read_text() == "slow"


# --------------------------------------------------------------------------- 3: evaluate --real format variants
def test_format_variants_are_made_in_memory(tmpdir_env: Path) -> None:
    """Every format of the real-speech sweep decodes from a file with no name on disk."""
    from motion.audio import load_audio
    from motion.metrics.real_speech import FORMATS, format_variant

    x = load_audio(REPO / "tests" / "data" / "real" / "mfa_acoustic_corpus.wav").samples
    for fmt in FORMATS:
        with format_variant(x, 16000, fmt) as path:
            fd = int(path.name)
            assert str(path).startswith("/proc/") and os.readlink(path).startswith("/memfd:")
            assert abs(load_audio(path).duration - len(x) / 16000) < 0.06, fmt
            assert _names(tmpdir_env) == []
        with pytest.raises(OSError):
            os.fstat(fd)  # closed: the memory is the kernel's again
    assert _names(tmpdir_env) == []


@pytest.mark.slow  # a real-speech evaluation in a child process (~10 s)
def test_kill_evaluate_real_during_the_format_sweep_leaves_nothing(tmp_path: Path, tmpdir_env: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    for name in ("mfa_acoustic_corpus.wav", "mfa_acoustic_corpus.TextGrid"):
        shutil.copyfile(REPO / "tests" / "data" / "real" / name, real / name)
    proc = _run(["evaluate", "--real", str(real), "--json", str(tmp_path / "r.json"), "--steps", "2"], tmpdir_env)
    kids: list[int] = []  # killed while ffmpeg encodes a format variant (its files exist then)
    deadline = time.monotonic() + 240
    while not kids and proc.poll() is None and time.monotonic() < deadline:
        try:
            kids = [k for k in _children(proc.pid) if b"libmp3lame" in Path(f"/proc/{k}/cmdline").read_bytes()]
        except OSError:
            pass
        time.sleep(0.002)
    assert kids, "the format sweep was never seen: " + (proc.communicate(timeout=30)[1] if proc.poll() is not None else "")
    proc.kill()
    proc.communicate(timeout=30)
    for _ in range(200):
        if not any(_alive(k) for k in kids):
            break
        time.sleep(0.01)
    assert not any(_alive(k) for k in kids)
    assert _names(tmpdir_env) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["TMPDIR", "real"]


# --------------------------------------------------------------------------- 9: thread choice
def test_thread_choice_follows_idle_cores_quota_and_the_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from motion import threads

    monkeypatch.delenv("MOTION_THREADS", raising=False)
    monkeypatch.setattr(threads, "available_cores", lambda: 2.0)
    for idle, want in ((2.0, 2), (1.1, 1), (0.2, 1)):  # a busy neighbour costs a thread
        monkeypatch.setattr(threads, "idle_cores", lambda interval=0.1, v=idle: v)
        assert threads.choose_threads() == want
    monkeypatch.setattr(threads, "available_cores", lambda: 16.0)
    monkeypatch.setattr(threads, "idle_cores", lambda interval=0.1: 16.0)
    assert threads.choose_threads() == threads.MAX_AUTO_THREADS  # small models: a few threads at most
    assert threads.choose_threads(5) == 5
    monkeypatch.setenv("MOTION_THREADS", "3")
    assert threads.choose_threads() == 3
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # cgroup v2 quota of 1.5 CPUs
    assert threads._cgroup_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert threads._cgroup_quota(tmp_path) is None


_API_THREADS = """
import json, os, sys
import torch
import motion
from motion.threads import last_choice, torch_default_threads

res = {"start": torch.get_num_threads(), "default": torch_default_threads()}

def run(**kw):
    motion.generate(sys.argv[1], face=False, seed=0, options=motion.GenerationOptions(steps=2), **kw)
    return [last_choice(), torch.get_num_threads()]

res["auto"] = run()
res["explicit"] = run(threads=1)
os.environ["MOTION_THREADS"] = "1"
res["env"] = run()
del os.environ["MOTION_THREADS"]
res["mine"] = mine = 3 if res["start"] != 3 else 2
torch.set_num_threads(mine)  # the caller's own choice
res["caller"] = run()
res["caller_explicit"] = run(threads=1)
print(json.dumps(res))
"""


def test_api_chooses_threads_like_the_cli_and_keeps_the_callers(inputs: dict[str, Path], tmpdir_env: Path) -> None:
    import json

    env = {k: v for k, v in os.environ.items() if k not in ("MOTION_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    res = subprocess.run([sys.executable, "-c", _API_THREADS, str(inputs["wav"])], capture_output=True, text=True,
                         env=dict(env, TMPDIR=str(tmpdir_env)), timeout=300)
    assert res.returncode == 0, res.stderr
    r = json.loads(res.stdout.strip().splitlines()[-1])
    start, mine = r["start"], r["mine"]
    assert r["default"] == start  # torch's own start-up size is recognised as untouched
    assert r["auto"][0]["source"] == "auto" and 1 <= r["auto"][0]["threads"] <= 4 and r["auto"][1] == start
    assert r["explicit"] == [{"threads": 1, "source": "threads="}, start]  # put back afterwards
    assert r["env"] == [{"threads": 1, "source": "MOTION_THREADS"}, start]
    assert r["caller"] == [{"threads": mine, "source": "caller"}, mine]  # torch.set_num_threads is kept
    assert r["caller_explicit"] == [{"threads": 1, "source": "threads="}, mine]
    import motion

    with pytest.raises(ValueError, match="threads must be 1 or more"):
        motion.generate(inputs["wav"], threads=0)
