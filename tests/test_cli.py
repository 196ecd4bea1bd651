"""CLI and API skeleton: instant --help, clear messages for unbuilt parts, input validation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from motion.cli import build_parser, main


def _run_py(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("argv", [["--help"], ["corpus", "--help"], ["render", "--help"], ["plot", "--help"],
                                  ["export", "--help"], ["demo", "--help"]])
def test_help_does_not_import_heavy_modules(argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from motion.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('torch', 'librosa', 'smplx', 'pyrender', 'bpy', 'scipy', 'matplotlib') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    res = _run_py(code)
    assert res.returncode == 0, res.stderr
    assert "HEAVY []" in res.stdout, res.stdout
    assert "usage: motion" in res.stdout


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in ["generate", "fit", "evaluate", "export", "render", "plot", "corpus", "bench", "demo"]:
        assert cmd in out


def test_console_script_entry_point() -> None:
    res = subprocess.run([sys.executable, "-m", "motion", "--version"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("motion ")


def test_bad_emotion_is_rejected_by_parser_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import motion
    from motion.pipelines import weights

    wav = tmp_path / "a.wav"
    import soundfile as sf

    sf.write(wav, (0.1 * np.sin(np.arange(16000) / 10)).astype(np.float32), 16000)
    with pytest.raises(ValueError, match="unknown emotion 'furious'"):
        motion.generate(wav, emotion="furious")
    with pytest.raises(ValueError, match="intensity"):
        motion.generate(wav, emotion="happy", intensity=7)
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        motion.generate(tmp_path / "nope.wav")
    monkeypatch.delenv("MOTION_WEIGHTS_DIR", raising=False)
    monkeypatch.setattr(weights, "SHIPPED_WEIGHTS", tmp_path / "no_weights")
    with pytest.raises(weights.WeightsNotFoundError, match="motion fit --config"):
        motion.generate(wav, emotion="Happiness", intensity=2.5, seed=1)


def test_fit_forwards_to_lightning_cli(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = Path(__file__).resolve().parent.parent / "configs" / "body" / "motion_vae.yaml"
    assert main(["fit", "--print_config", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "seed_everything" in out and "class_path" in out
    assert main(["fit", "--no_such_option"]) != 0


def test_generate_checks_the_output_before_generating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A bad -o is reported at once (no generation runs), and a write-protected file is kept."""
    import motion.api
    from motion.cli import main

    def no_generation(*_a: object, **_k: object) -> None:
        raise AssertionError("generation ran before the output was checked")

    monkeypatch.setattr(motion.api, "generate", no_generation)
    wav = tmp_path / "a.wav"
    import soundfile as sf

    sf.write(wav, np.zeros(1600, np.float32), 16000)
    locked = tmp_path / "locked.npz"
    locked.write_bytes(b"keep")
    locked.chmod(0o444)
    cases = {str(tmp_path / "missing" / "m.npz"): "does not exist", str(tmp_path / "m.xyz"): "unknown export suffix",
             str(tmp_path): "it is a folder", str(locked): "write-protected"}
    for out, why in cases.items():
        assert main(["generate", str(wav), "-o", out]) == 1, out
        err = capsys.readouterr().err
        assert why in err and "Traceback" not in err, err
    assert locked.read_bytes() == b"keep"


@pytest.mark.parametrize(("option", "value", "why"), [
    ("--seed", "-1", "within 0"), ("--seed", str(2**70), "within 0"), ("--seed", "x", "whole number"),
    ("--fps", "nan", "--fps must be"), ("--fps", "0", "more than 0"), ("--window", "-1", "--window must be"),
    ("--overlap", "-1", "--overlap must be")])
def test_generate_numbers_are_checked_by_the_parser(option: str, value: str, why: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["generate", "a.wav", option, value])
    assert exc.value.code == 2 and why in capsys.readouterr().err


def test_sigterm_mid_export_leaves_nothing_behind(tmp_path: Path) -> None:
    """SIGTERM while an exporter writes: exit 143, no temporary file, the old destination intact."""
    import signal
    import subprocess
    import sys
    import textwrap

    from motion.container import Motion
    from motion.export import export

    src = tmp_path / "m.npz"
    export(Motion.zeros(30), src)
    dest = tmp_path / "out.bvh"
    dest.write_text("old")
    script = textwrap.dedent(f"""
        import sys, time
        from motion.cli import main
        from motion.export import registry
        real = registry.available_formats()["bvh"].write
        def slow(motion, path, **kw):
            real(motion, path, **kw)
            print("writing", flush=True)
            # work going on: short steps, between which Python runs the SIGTERM handler (one
            # 60 s sleep is a syscall that a SIGTERM taken by another thread, e.g. a torch
            # worker, does not interrupt: the handler would wait for its end)
            for _ in range(600):
                time.sleep(0.1)
        registry.register_exporter("slow_bvh", (".bvh",), slow, default_for_suffix=False)
        sys.exit(main(["export", {str(src)!r}, {str(dest)!r}, "--format", "slow_bvh"]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    # mid-write the new file is unnamed (O_TMPFILE): nothing of it shows in the folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "out.bvh"]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "terminated" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "out.bvh"] and dest.read_text() == "old"


#: Where a SIGTERM lands that Python cannot raise through: a finaliser, and a before-fork hook
#: cut short (its after-fork hook then fails on the state it left, as filelock's did in CI).
_SWALLOWED_SIGTERM = {
    "finaliser": """
class Dropped:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass
def trigger():
    Dropped()
""",
    "fork_hook": """
state = []
def before():
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(1000):
        pass
    state.append(1)
def after():
    state.pop()  # IndexError when before() was cut short
os.register_at_fork(before=before, after_in_parent=after)
def trigger():
    if os.fork() == 0:
        os._exit(0)
""",
}


@pytest.mark.parametrize("where", sorted(_SWALLOWED_SIGTERM))
def test_sigterm_python_cannot_raise_still_terminates_quietly(where: str) -> None:
    """SIGTERM inside a finaliser or a fork hook (where Python swallows the handler's exception
    and prints "Exception ignored in ...") still ends the command with 143, silently."""
    script = "import os, signal, sys, time\nfrom motion import cli\n" + _SWALLOWED_SIGTERM[where] + """
def work(args):
    trigger()
    time.sleep(30)
    print("survived")
    return 0
parser = cli.build_parser
def build():
    p = parser()
    p.set_defaults(func=work, command="corpus")
    return p
cli.build_parser = build
sys.exit(cli.main([]))
"""
    out = _run_py(script)
    assert out.returncode == 143 and "survived" not in out.stdout, out
    assert "Traceback" not in out.stderr and "Exception ignored" not in out.stderr, out.stderr
