"""Talking to the ``motion`` toolkit, which runs in its own Python environment (no ``bpy``).

The toolkit is never imported into Blender: every call is a subprocess (argument lists,
no shell) of the executable set in the add-on preferences, either the ``motion`` console
script or a Python interpreter that has the toolkit (then ``python -m motion``).
:class:`GenerateJob` runs ``motion generate`` without blocking: its output goes to log
files in the job folder, :meth:`GenerateJob.poll` reads what is new and parses progress
(tqdm bars ``45%|``, ``k/n`` counters, or ``PROGRESS 0.45`` lines), and
:meth:`GenerateJob.cancel` kills the process (its whole process group on POSIX).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: The 8 emotions (MEAD order), as the toolkit names them.
EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "surprised", "fear", "disgusted", "angry", "contempt")
#: Environment variables of the toolkit that the add-on's preferences may set.
ENV_MODELS, ENV_WEIGHTS = "MOTION_MODELS_DIR", "MOTION_WEIGHTS_DIR"
_PCT = re.compile(r"(\d{1,3}(?:\.\d+)?)%\|")
_FRACTION = re.compile(r"(?<![\d.])(\d+)/(\d+)(?![\d.])")
_PROGRESS_LINE = re.compile(r"^PROGRESS\s+([0-9.]+)\s*$", re.MULTILINE)
_MODEL_LINE = re.compile(r"^\s*SMPL-X neutral\s+(\S.*\.npz)\s*$", re.MULTILINE)


class ToolkitError(RuntimeError):
    """The toolkit cannot be run or failed; the message is meant for the user."""


def toolkit_command(executable: str) -> list[str]:
    """The argument-list prefix that runs the toolkit: ``[motion]`` or ``[python, -m, motion]``.

    ``executable`` may also be a virtual environment folder (its ``bin/motion`` or
    ``Scripts/motion.exe`` is used); empty means the ``motion`` command on ``PATH``.

    Raises:
        ToolkitError: empty with no ``motion`` on ``PATH``, missing or not executable.
    """
    if not executable or not executable.strip():
        found = shutil.which("motion")
        if found is None:
            raise ToolkitError("the toolkit executable is not set (and no `motion` command is on PATH): set the path "
                               "of the `motion` command (or of the toolkit's python) in Preferences > Add-ons > "
                               "Motion from Speech")
        executable = found
    path = Path(executable.strip()).expanduser()
    if path.is_dir():
        for cand in (path / "bin" / "motion", path / "Scripts" / "motion.exe", path / "motion"):
            if cand.is_file():
                path = cand
                break
    if not path.is_file():
        found = shutil.which(str(path)) if not path.is_absolute() else None
        if found is None:
            raise ToolkitError(f"toolkit executable not found: {path} (set the path of the `motion` command in "
                               "Preferences > Add-ons > Motion from Speech)")
        path = Path(found)
    if not os.access(path, os.X_OK):
        raise ToolkitError(f"toolkit executable {path} is not executable")
    if re.match(r"^python(\d+(\.\d+)?)?(\.exe)?$", path.name, re.IGNORECASE):
        return [str(path), "-m", "motion"]
    return [str(path)]


def toolkit_env(models_dir: str = "", weights_dir: str = "") -> dict[str, str]:
    """The environment of toolkit subprocesses: Blender's, without its Python variables, plus
    ``MOTION_MODELS_DIR`` / ``MOTION_WEIGHTS_DIR`` when set in the preferences."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP")}
    env["PYTHONUNBUFFERED"] = "1"
    if models_dir:
        env[ENV_MODELS] = str(Path(models_dir).expanduser())
    if weights_dir:
        env[ENV_WEIGHTS] = str(Path(weights_dir).expanduser())
    return env


def _last_lines(text: str, n: int = 12) -> str:
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    return "\n".join(lines[-n:])


def run_quick(cmd: Sequence[str], env: dict[str, str] | None = None, timeout: float = 60.0) -> tuple[int, str, str]:
    """Run a short toolkit command (blocking); ``(returncode, stdout, stderr)``.

    Raises:
        ToolkitError: it cannot start or runs past ``timeout``.
    """
    try:
        res = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, env=env,
                             stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise ToolkitError(f"`{' '.join(cmd)}` did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise ToolkitError(f"cannot run {cmd[0]}: {exc}") from None
    return res.returncode, res.stdout, res.stderr


def check(executable: str, models_dir: str = "", weights_dir: str = "", timeout: float = 60.0) -> str:
    """``motion --version`` (and the SMPL-X model it uses); returns a one-line summary.

    Raises:
        ToolkitError: not found, does not start, or fails (with its error output).
    """
    cmd = toolkit_command(executable)
    env = toolkit_env(models_dir, weights_dir)
    rc, out, err = run_quick(cmd + ["--version"], env, timeout)
    if rc != 0 or not out.strip():
        raise ToolkitError(f"`{' '.join(cmd)} --version` failed (exit {rc}): {_last_lines(err or out, 4)}")
    version = out.strip().splitlines()[-1]
    try:
        model = model_file(executable, models_dir, weights_dir, timeout)
        return f"{version}; SMPL-X model: {model}"
    except ToolkitError as exc:
        return f"{version}; SMPL-X model: not found ({exc})"


def model_file(executable: str, models_dir: str = "", weights_dir: str = "", timeout: float = 120.0) -> Path:
    """The SMPL-X neutral ``.npz`` the toolkit uses (``motion models``: the stand-in unless a
    models folder is configured; the first call may build the stand-in).

    Raises:
        ToolkitError: the toolkit fails or names no ``.npz`` model.
    """
    cmd = toolkit_command(executable) + ["models"]
    rc, out, err = run_quick(cmd, toolkit_env(models_dir, weights_dir), timeout)
    m = _MODEL_LINE.search(out)
    if m is None:
        raise ToolkitError(f"`motion models` names no SMPL-X .npz model (exit {rc}): {_last_lines(err or out, 4)}")
    return Path(m.group(1).strip())


def parse_progress(text: str) -> float | None:
    """The latest progress in ``text`` as a fraction in [0, 1], or ``None``."""
    best: tuple[int, float] | None = None
    for rx, conv in ((_PROGRESS_LINE, lambda m: float(m.group(1))),
                     (_PCT, lambda m: float(m.group(1)) / 100.0),
                     (_FRACTION, lambda m: int(m.group(1)) / int(m.group(2)) if int(m.group(2)) else None)):
        for m in rx.finditer(text):
            val = conv(m)
            if val is not None and (best is None or m.end() >= best[0]):
                best = (m.end(), val)
    return None if best is None else min(1.0, max(0.0, best[1]))


@dataclass
class GenerateRequest:
    """The controls of one ``motion generate`` call (see ``motion generate --help``).

    ``emotion_curve``: the emotion over time (``"0:neutral, 4.5:angry@2.5, 9:sad"`` or a ``.json``
    / ``.csv`` file of keys), passed as ``--emotion`` instead of ``emotion`` and ``intensity``
    (its keys hold the intensities); "" for none. The toolkit checks its syntax and says what is
    wrong in one line."""

    audio: str
    emotion: str | None = "neutral"
    intensity: float = 2.0
    style: str | None = None
    seed: int = 0
    steps: int = 0
    parts: str = "both"
    fps: float = 0.0
    emotion_curve: str = ""

    def validate(self) -> None:
        """Check what can be checked before starting the toolkit.

        Raises:
            ToolkitError: missing audio or style reference, bad values.
        """
        if not self.audio:
            raise ToolkitError("no audio file chosen")
        if not Path(self.audio).is_file():
            raise ToolkitError(f"audio file not found: {self.audio}")
        if self.emotion is not None and self.emotion not in EMOTIONS:
            raise ToolkitError(f"unknown emotion {self.emotion!r}; choose one of {', '.join(EMOTIONS)}")
        if not 0.0 <= self.intensity <= 3.0:
            raise ToolkitError(f"intensity must be within [0, 3], got {self.intensity:g}")
        curve = self.emotion_curve.strip()
        if curve.lower().endswith((".json", ".csv")):
            if not Path(curve).is_file():
                raise ToolkitError(f"emotion-curve file not found: {curve}")
        elif curve and ":" not in curve:
            raise ToolkitError(f"emotion curve {curve!r}: keys are TIME:LABEL[@INTENSITY] or TIME:(VALENCE,AROUSAL) "
                               "separated by commas, e.g. 0:neutral, 4.5:angry@2.5, 9:sad (or a .json / .csv file)")
        if self.parts not in ("both", "body", "face"):
            raise ToolkitError(f"parts must be both, body or face, got {self.parts!r}")


def generate_args(req: GenerateRequest, out: Path, options: set[str]) -> list[str]:
    """``motion generate`` arguments for ``req``.

    ``options`` are the option strings ``motion generate --help`` lists: the core options
    (``--emotion --intensity --style --seed --steps -o``; an emotion curve as ``--emotion``,
    without ``--intensity``) are always passed; ``--fps`` and
    the body/face choice only when the toolkit offers them (otherwise the import keeps
    only the chosen part).
    """
    args = ["generate", str(req.audio)]
    if req.emotion_curve.strip():  # the curve's keys hold the intensities: no --intensity
        args += ["--emotion", req.emotion_curve.strip()]
    else:
        if req.emotion:
            args += ["--emotion", req.emotion]
        args += ["--intensity", f"{req.intensity:g}"]
    args += ["--seed", str(int(req.seed))]
    if req.style:
        args += ["--style", req.style]
    if req.steps > 0:
        args += ["--steps", str(int(req.steps))]
    if req.fps > 0 and "--fps" in options:
        args += ["--fps", f"{req.fps:g}"]
    if req.parts != "both":
        if "--parts" in options:
            args += ["--parts", req.parts]
        elif f"--{req.parts}-only" in options:
            args += [f"--{req.parts}-only"]
        elif req.parts == "body" and "--no-face" in options:
            args += ["--no-face"]
        elif req.parts == "face" and "--no-body" in options:
            args += ["--no-body"]
    args += ["-o", str(out)]
    return args


def help_options(text: str) -> set[str]:
    """Option strings (``--fps``, ``-o`` ...) found in a ``--help`` text."""
    return set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", text))


@dataclass
class JobState:
    """What :meth:`GenerateJob.poll` reports."""

    done: bool = False
    ok: bool = False
    progress: float | None = None
    status: str = "starting"
    error: str = ""
    output: Path | None = None


@dataclass
class GenerateJob:
    """``motion generate`` as a background process, polled from Blender's event loop.

    Stages: ``help`` (``motion generate --help``, to learn which options it takes), then
    ``generate``. Output: ``<folder>/motion.npz``; logs ``<stage>.out`` / ``<stage>.err``.
    """

    executable: str
    request: GenerateRequest
    folder: Path
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 3600.0
    stage: str = "idle"
    proc: subprocess.Popen[bytes] | None = None
    state: JobState = field(default_factory=JobState)
    started: float = 0.0
    command: list[str] = field(default_factory=list)
    prefix: list[str] = field(default_factory=list)

    @property
    def output(self) -> Path:
        """Where the toolkit writes the motion."""
        return self.folder / "motion.npz"

    def _spawn(self, stage: str, args: list[str]) -> None:
        self.stage = stage
        self.command = self.prefix + args
        kw: dict[str, object] = {}
        if os.name == "posix":
            kw["start_new_session"] = True  # its own process group: cancel kills its children too
        elif sys.platform == "win32":  # pragma: no cover
            kw["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        with open(self.folder / f"{stage}.out", "wb") as out, open(self.folder / f"{stage}.err", "wb") as err:
            try:
                self.proc = subprocess.Popen(self.command, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                             env=self.env or None, cwd=str(self.folder), **kw)  # type: ignore[arg-type]
            except OSError as exc:
                raise ToolkitError(f"cannot start the toolkit {self.command[0]}: {exc}") from None
        self.started = time.monotonic()

    def start(self) -> None:
        """Validate the request and start the first stage.

        Raises:
            ToolkitError: bad request or executable (nothing is started then).
        """
        self.request.validate()
        self.prefix = toolkit_command(self.executable)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.state = JobState(status="asking the toolkit for its options")
        self._spawn("help", ["generate", "--help"])

    def _read(self, stage: str, stream: str) -> str:
        try:
            return (self.folder / f"{stage}.{stream}").read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""

    def poll(self) -> JobState:
        """Advance the job without blocking; returns its state."""
        if self.state.done or self.proc is None:
            return self.state
        rc = self.proc.poll()
        if rc is None:
            if time.monotonic() - self.started > self.timeout:
                self.cancel(f"the toolkit did not finish within {self.timeout:g} s")
                return self.state
            if self.stage == "generate":
                text = self._read("generate", "err") + "\n" + self._read("generate", "out")
                prog = parse_progress(self._read("generate", "err")) or parse_progress(self._read("generate", "out"))
                if prog is not None:
                    self.state.progress = prog
                last = _last_lines(text, 1)
                self.state.status = last[:120] if last else "generating"
            return self.state
        if self.stage == "help":
            options = help_options(self._read("help", "out") + self._read("help", "err")) if rc == 0 else set()
            self.state.status = "generating"
            self._spawn("generate", generate_args(self.request, self.output, options))
            return self.state
        err = self._read("generate", "err")
        out = self._read("generate", "out")
        self.proc = None
        if rc == 0 and self.output.is_file():
            self.state = JobState(done=True, ok=True, progress=1.0, status="done", output=self.output)
        elif rc == 0:
            self.state = JobState(done=True, error=f"the toolkit finished but wrote no motion file ({self.output}); "
                                                   f"its output: {_last_lines(out + err, 4)}")
        else:
            msg = _last_lines(err, 8) or _last_lines(out, 8) or "(no error output)"
            self.state = JobState(done=True, error=f"motion generate failed (exit {rc}): {msg}")
        return self.state

    def cancel(self, reason: str = "cancelled") -> JobState:
        """Kill the running process (and its children) and mark the job finished."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                if os.name == "posix":
                    os.killpg(proc.pid, signal.SIGTERM)
                else:  # pragma: no cover
                    proc.terminate()
                proc.wait(timeout=3)
            except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired, OSError):
                try:
                    if os.name == "posix":
                        os.killpg(proc.pid, signal.SIGKILL)
                    else:  # pragma: no cover
                        proc.kill()
                    proc.wait(timeout=3)
                except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired, OSError):
                    pass
        self.state = JobState(done=True, error=reason, status=reason)
        return self.state

    def wait(self, interval: float = 0.1) -> JobState:
        """Poll until done (blocking; for scripts and the operator's non-interactive path)."""
        while not self.poll().done:
            time.sleep(interval)
        return self.state


def new_job_folder(base: str = "") -> Path:
    """A fresh folder for one job: under ``base`` when set, else the system temp folder."""
    root = Path(base).expanduser() if base else Path(tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="motion_speech_", dir=root))
