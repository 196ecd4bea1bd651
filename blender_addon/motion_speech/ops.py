"""Operators: check the toolkit, generate (modal, cancellable), cancel, import, export."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bpy
from bpy.props import EnumProperty, StringProperty
from bpy_extras.io_utils import ExportHelper, ImportHelper

from . import importer, toolkit
from .exporter import EXPORT_KINDS, ExportFailed, export_character, suffix_for
from .props import addon_prefs
from .smplx_data import ModelFileError, MotionFileError, find_model_file, read_motion

#: Jobs running now (cancelled when the add-on is disabled).
RUNNING: list[toolkit.GenerateJob] = []
#: Seconds between polls of a running job.
POLL_INTERVAL = 0.2


def _prefs_value(context: Any, name: str) -> str:
    prefs = addon_prefs(context)
    value = getattr(prefs, name, "") if prefs is not None else ""
    return bpy.path.abspath(value) if value else ""


def _num_shape_keys(context: Any) -> int:
    prefs = addon_prefs(context)
    return int(prefs.num_shape_keys) if prefs is not None else 50


def models_dir(context: Any) -> str:
    """The preferences' SMPL-X model as a toolkit models folder (``$MOTION_MODELS_DIR``), or ''.

    A folder is used as it is; a file ``<dir>/smplx/SMPLX_*.npz`` gives ``<dir>``; a file
    elsewhere gives '' (the toolkit keeps its own model).
    """
    location = _prefs_value(context, "smplx_model")
    if not location:
        return ""
    path = Path(location)
    if path.is_dir():
        return str(path)
    return str(path.parent.parent) if path.parent.name == "smplx" else ""


def model_resolver(context: Any) -> Callable[[str], Path]:
    """A function ``gender -> SMPL-X .npz``: the preferences' model, else the toolkit's
    (``motion models``, remembered for the session).

    The function raises :class:`ModelFileError` when neither is available.
    """
    location = _prefs_value(context, "smplx_model")
    state = context.window_manager.motion_speech
    exe = _prefs_value(context, "toolkit_path")

    def resolve(gender: str) -> Path:
        if location:
            return find_model_file(location, gender)
        if state.model_path and Path(state.model_path).is_file():
            return Path(state.model_path)
        try:
            path = toolkit.model_file(exe, "", _prefs_value(context, "weights_dir"))
        except toolkit.ToolkitError as exc:
            raise ModelFileError(f"no SMPL-X model: set 'SMPL-X model' (your SMPLX_NEUTRAL.npz) in Preferences > "
                                 f"Add-ons > Motion from Speech, or a toolkit whose model is used ({exc})") from None
        state.model_path = str(path)
        return path

    return resolve


def import_file(context: Any, path: str, audio: str = "") -> importer.ImportResult:
    """Import ``path`` with the scene's settings (parts, frame rate) and the preferences' model."""
    settings = context.scene.motion_speech
    resolve = model_resolver(context)
    gender = read_motion(path).gender
    options = importer.ImportOptions(parts=settings.parts, fps=settings.target_fps(),
                                     num_shape_keys=_num_shape_keys(context), audio=audio)
    return importer.import_motion(context, path, resolve(gender), options)


def _redraw(context: Any) -> None:
    screen = getattr(context, "screen", None)
    if screen is None:
        return
    for area in screen.areas:
        if area.type in ("VIEW_3D", "PREFERENCES"):
            area.tag_redraw()


class MOTION_SPEECH_OT_check_toolkit(bpy.types.Operator):
    """Run `motion --version` with the configured toolkit and report what it says"""

    bl_idname = "motion_speech.check_toolkit"
    bl_label = "Check Toolkit"

    def execute(self, context: Any) -> set[str]:
        state = context.window_manager.motion_speech
        state.model_path = ""  # found again with this toolkit on the next import
        try:
            msg = toolkit.check(_prefs_value(context, "toolkit_path"), models_dir(context),
                                _prefs_value(context, "weights_dir"))
        except toolkit.ToolkitError as exc:
            state.toolkit_report = f"Error: {exc}"
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        state.toolkit_report = msg
        self.report({"INFO"}, msg)
        return {"FINISHED"}


def _curve_value(text: str) -> str:
    """The panel's emotion curve as the toolkit takes it: a file (``.json`` / ``.csv``) as an absolute
    path (Blender's ``//`` relative paths resolved), the keys' text as typed; "" for none."""
    text = text.strip()
    if text.lower().endswith((".json", ".csv")):
        return bpy.path.abspath(text)
    return text


class Generation:
    """One ``motion generate`` run, advanced from Blender's event loop (the modal operator's
    timer) or from a script; the scene is only touched when the result is imported.

    Use :meth:`start`, then :meth:`tick` until it returns True (it also honours the panel's
    Cancel button), then :meth:`finish` for the operator result and the reports.
    """

    def __init__(self, job: toolkit.GenerateJob) -> None:
        self.job = job
        self.cancelled = False

    @classmethod
    def start(cls, context: Any) -> Generation:
        """Check the panel's controls and start the toolkit.

        Raises:
            toolkit.ToolkitError: bad controls, audio or executable (nothing started).
        """
        s = context.scene.motion_speech
        req = toolkit.GenerateRequest(
            audio=bpy.path.abspath(s.audio) if s.audio else "", emotion=None if s.emotion == "AUTO" else s.emotion,
            intensity=float(s.intensity), style=s.style_value(), seed=int(s.seed), steps=int(s.steps),
            parts=s.parts, fps=s.target_fps(), emotion_curve=_curve_value(s.emotion_curve),
        )
        if s.style_mode == "REFERENCE" and (not req.style or not Path(req.style).is_file()):
            raise toolkit.ToolkitError(f"reference audio not found: {req.style or '(not set)'}")
        req.validate()
        env = toolkit.toolkit_env(models_dir(context), _prefs_value(context, "weights_dir"))
        exe = _prefs_value(context, "toolkit_path")
        toolkit.toolkit_command(exe)  # fail before making a job folder
        folder = toolkit.new_job_folder(_prefs_value(context, "output_dir"))
        job = toolkit.GenerateJob(executable=exe, request=req, folder=folder, env=env)
        job.start()
        RUNNING.append(job)
        state = context.window_manager.motion_speech
        state.running, state.cancel_requested, state.progress = True, False, 0.0
        state.status, state.last_error = "starting the toolkit", ""
        return cls(job)

    def tick(self, context: Any) -> bool:
        """Poll the toolkit (never blocks); True when finished, failed or cancelled."""
        state = context.window_manager.motion_speech
        if state.cancel_requested and not self.job.state.done:
            self.cancel(context)
            return True
        st = self.job.poll()
        if st.progress is not None:
            state.progress = st.progress
        state.status = st.status
        return st.done

    def cancel(self, context: Any) -> None:
        """Kill the toolkit process; the scene stays as it was."""
        self.job.cancel("generation cancelled")
        self.cancelled = True
        state = context.window_manager.motion_speech
        state.cancel_requested, state.status = False, "cancelled"

    def finish(self, context: Any) -> tuple[set[str], list[tuple[str, str]]]:
        """Import the result (when there is one); returns the operator result and reports."""
        state = context.window_manager.motion_speech
        state.running, state.cancel_requested = False, False
        if self.job in RUNNING:
            RUNNING.remove(self.job)
        st = self.job.state
        if self.cancelled or not st.ok or st.output is None:  # nothing worth keeping in the job folder
            shutil.rmtree(self.job.folder, ignore_errors=True)
        if self.cancelled:
            return {"CANCELLED"}, [("WARNING", "Generation cancelled (the toolkit process was stopped)")]
        if not st.ok or st.output is None:
            return _failed(state, st.error or "generation failed")
        state.last_output = str(st.output)
        try:
            res = import_file(context, str(st.output), audio=self.job.request.audio)
        except (MotionFileError, ModelFileError, ValueError, RuntimeError) as exc:
            return _failed(state, f"generated {st.output}, but importing it failed: {exc}")
        state.progress, state.status = 1.0, f"imported {res.frames} frames"
        reports = [("WARNING", w) for w in res.warnings]
        done = f"Generated {res.frames} frames at {res.fps:g} fps onto {res.armature.name} ({st.output})"
        reports.append(("INFO", done))
        return {"FINISHED"}, reports


def _failed(state: Any, msg: str) -> tuple[set[str], list[tuple[str, str]]]:
    state.last_error, state.status = msg, "failed"
    return {"CANCELLED"}, [("ERROR", msg)]


class MOTION_SPEECH_OT_generate(bpy.types.Operator):
    """Generate motion from the audio with the toolkit (runs in the background; Esc cancels)"""

    bl_idname = "motion_speech.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER"}

    _gen: Generation | None = None
    _timer: Any = None

    @classmethod
    def poll(cls, context: Any) -> bool:
        return not context.window_manager.motion_speech.running

    def _reported(self, result: tuple[set[str], list[tuple[str, str]]]) -> set[str]:
        for level, msg in result[1]:
            self.report({level}, msg)
        return result[0]

    def _start(self, context: Any) -> Generation | None:
        try:
            return Generation.start(context)
        except toolkit.ToolkitError as exc:
            self._reported(_failed(context.window_manager.motion_speech, str(exc)))
            return None

    def execute(self, context: Any) -> set[str]:
        """Non-interactive path (scripts, background mode): waits for the toolkit."""
        gen = self._start(context)
        if gen is None:
            return {"CANCELLED"}
        while not gen.tick(context):
            time.sleep(POLL_INTERVAL / 4)
        return self._reported(gen.finish(context))

    def invoke(self, context: Any, event: Any) -> set[str]:
        if context.window is None:
            return self.execute(context)
        self._gen = self._start(context)
        if self._gen is None:
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(POLL_INTERVAL, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context: Any, event: Any) -> set[str]:
        gen = self._gen
        assert gen is not None
        if event.type == "ESC" and event.value == "PRESS":
            gen.cancel(context)
        elif event.type != "TIMER":
            return {"PASS_THROUGH"}
        done = gen.cancelled or gen.tick(context)
        if context.workspace is not None:
            text = f"Motion: {context.window_manager.motion_speech.status} (Esc to cancel)"
            context.workspace.status_text_set(None if done else text)
        _redraw(context)
        if not done:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        self._timer = None
        result = self._reported(gen.finish(context))
        _redraw(context)
        return result


class MOTION_SPEECH_OT_cancel(bpy.types.Operator):
    """Stop the running generation (kills the toolkit process)"""

    bl_idname = "motion_speech.cancel"
    bl_label = "Cancel"

    def execute(self, context: Any) -> set[str]:
        context.window_manager.motion_speech.cancel_requested = True
        return {"FINISHED"}


class MOTION_SPEECH_OT_import_motion(bpy.types.Operator, ImportHelper):
    """Import an SMPL-X motion (.npz: BEAT2, AMASS, AMUSE, FLAME parameters) onto an SMPL-X character"""

    bl_idname = "motion_speech.import_motion"
    bl_label = "Import Motion"
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz", options={"HIDDEN"})  # type: ignore[valid-type]
    audio: StringProperty(name="Audio", description="Audio to place in the sequencer (empty: the one the motion "  # type: ignore[valid-type]
                          "records, else the panel's audio)", subtype="FILE_PATH", default="")

    def execute(self, context: Any) -> set[str]:
        state = context.window_manager.motion_speech
        path = bpy.path.abspath(self.filepath)
        audio = bpy.path.abspath(self.audio) if self.audio else ""
        if not audio:
            try:
                recorded = read_motion(path).recorded_audio()
            except MotionFileError as exc:
                state.last_error = str(exc)
                self.report({"ERROR"}, str(exc))
                return {"CANCELLED"}
            panel_audio = context.scene.motion_speech.audio
            if recorded is None and panel_audio and Path(bpy.path.abspath(panel_audio)).is_file():
                audio = bpy.path.abspath(panel_audio)
        try:
            res = import_file(context, path, audio=audio)
        except (MotionFileError, ModelFileError, ValueError) as exc:
            state.last_error = str(exc)
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        state.last_error = ""
        for warn in res.warnings:
            self.report({"WARNING"}, warn)
        self.report({"INFO"}, f"Imported {res.frames} frames at {res.fps:g} fps onto {res.armature.name} "
                              f"in {res.seconds:.2f} s")
        return {"FINISHED"}


class MOTION_SPEECH_OT_export(bpy.types.Operator, ExportHelper):
    """Export the active SMPL-X character as FBX (Unreal / Unity / Blender) or GLB"""

    bl_idname = "motion_speech.export"
    bl_label = "Export Character"

    filename_ext = ".fbx"
    filter_glob: StringProperty(default="*.fbx;*.glb", options={"HIDDEN"})  # type: ignore[valid-type]
    kind: EnumProperty(name="Format", items=list(EXPORT_KINDS), default="FBX_UNREAL")  # type: ignore[valid-type]

    @classmethod
    def poll(cls, context: Any) -> bool:
        return importer.active_rig(context) is not None

    def invoke(self, context: Any, event: Any) -> set[str]:
        self.kind = context.scene.motion_speech.export_kind
        self.filename_ext = suffix_for(self.kind)
        arm = importer.active_rig(context)
        stem = arm.name if arm is not None else "character"
        self.filepath = str(Path(bpy.path.abspath("//") or Path.home()) / f"{stem}{self.filename_ext}")
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context: Any) -> set[str]:
        arm = importer.active_rig(context)
        if arm is None:
            self.report({"ERROR"}, "select an SMPL-X character (its armature or mesh) to export")
            return {"CANCELLED"}
        path = Path(bpy.path.abspath(self.filepath))
        if path.suffix.lower() != suffix_for(self.kind):
            path = path.with_suffix(suffix_for(self.kind))
        try:
            out = export_character(arm, importer.rig_mesh(arm), path, self.kind)
        except ExportFailed as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Wrote {out}")
        return {"FINISHED"}


CLASSES = (MOTION_SPEECH_OT_check_toolkit, MOTION_SPEECH_OT_generate, MOTION_SPEECH_OT_cancel,
           MOTION_SPEECH_OT_import_motion, MOTION_SPEECH_OT_export)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    while RUNNING:
        RUNNING.pop().cancel("the add-on was disabled")
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
