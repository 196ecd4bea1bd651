"""Settings: add-on preferences (paths), scene properties (controls), window-manager state."""

from __future__ import annotations

from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

from .exporter import EXPORT_KINDS
from .toolkit import EMOTIONS


def addon_prefs(context: Any = None) -> Any:
    """This add-on's preferences (``None`` when not registered as an add-on, e.g. in scripts)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(__package__)
    return addon.preferences if addon is not None else None


class MotionSpeechPreferences(bpy.types.AddonPreferences):
    """Paths of the toolkit and the body model; stored in Blender's user preferences."""

    bl_idname = __package__

    toolkit_path: StringProperty(  # type: ignore[valid-type]
        name="Toolkit executable",
        description="The toolkit's `motion` command, or a Python interpreter (or virtual environment folder) "
        "that has the toolkit installed. Generation runs there, in its own process",
        subtype="FILE_PATH",
    )
    smplx_model: StringProperty(  # type: ignore[valid-type]
        name="SMPL-X model",
        description="Your SMPL-X model: SMPLX_NEUTRAL.npz or a models folder laid out as smplx/SMPLX_<GENDER>.npz. "
        "Empty: the toolkit's model (`motion models`; the built-in stand-in unless you set one)",
        subtype="FILE_PATH",
    )
    weights_dir: StringProperty(  # type: ignore[valid-type]
        name="Weights folder",
        description="Generation weights (passed as $MOTION_WEIGHTS_DIR). Empty: the toolkit's default",
        subtype="DIR_PATH",
    )
    output_dir: StringProperty(  # type: ignore[valid-type]
        name="Output folder",
        description="Where generated motions are written (one sub-folder per run). Empty: the system temp folder",
        subtype="DIR_PATH",
    )
    num_shape_keys: IntProperty(  # type: ignore[valid-type]
        name="Expression shape keys", description="Expression shape keys of new characters", default=50, min=0, max=100,
    )

    def draw(self, context: Any) -> None:
        layout = self.layout
        row = layout.row(align=True)
        row.prop(self, "toolkit_path")
        row.operator("motion_speech.check_toolkit", text="Check", icon="CHECKMARK")
        state = context.window_manager.motion_speech
        if state.toolkit_report:
            layout.label(text=state.toolkit_report, icon="INFO")
        layout.prop(self, "smplx_model")
        layout.prop(self, "weights_dir")
        layout.prop(self, "output_dir")
        layout.prop(self, "num_shape_keys")


class MotionSpeechSettings(bpy.types.PropertyGroup):
    """Per-scene controls of the panel (saved with the .blend)."""

    audio: StringProperty(name="Audio", description="Speech recording (wav, flac, mp3, ...)",  # type: ignore[valid-type]
                          subtype="FILE_PATH")
    emotion: EnumProperty(  # type: ignore[valid-type]
        name="Emotion", description="Emotion of the generated motion",
        items=[("AUTO", "From audio", "keep the emotion heard in the audio (reliable on the synthetic voice "
                 "only; for real recordings pick the emotion or give a curve)")]
        + [(e, e.capitalize(), f"generate {e} motion") for e in EMOTIONS],
        default="neutral",
    )
    intensity: FloatProperty(name="Intensity", description="Emotion intensity (MEAD levels 1-3, 0 fades it out)",  # type: ignore[valid-type]
                             default=2.0, min=0.0, max=3.0, step=10, precision=1)
    emotion_curve: StringProperty(  # type: ignore[valid-type]
        name="Emotion curve", default="",
        description="The emotion over time, keys TIME:LABEL[@INTENSITY] or TIME:(VALENCE,AROUSAL), e.g. "
        "0:neutral, 4.5:angry@2.5, 9:sad (each key holds until the next, a 1 s cross-fade into it), or a "
        ".json / .csv file of keys. Empty: the emotion and intensity above",
    )
    style_mode: EnumProperty(  # type: ignore[valid-type]
        name="Style", description="Speaking style",
        items=[("AUDIO", "From audio", "the style heard in the audio"),
               ("SPEAKER", "Speaker", "a speaker id of the training data"),
               ("REFERENCE", "Reference clip", "imitate the style of a reference recording")],
        default="AUDIO",
    )
    speaker: StringProperty(name="Speaker id", description="Speaker id, e.g. 2", default="")  # type: ignore[valid-type]
    reference: StringProperty(name="Reference audio", subtype="FILE_PATH",  # type: ignore[valid-type]
                              description="Reference recording whose style is imitated")
    seed: IntProperty(name="Seed", description="Random seed: the same seed gives the same motion",  # type: ignore[valid-type]
                      default=0, min=0)
    steps: IntProperty(name="Quality (steps)", description="Sampling steps (more: slower, finer). 0: toolkit default",  # type: ignore[valid-type]
                       default=0, min=0, max=1000)
    parts: EnumProperty(  # type: ignore[valid-type]
        name="Parts", description="Which parts to generate and key",
        items=[("both", "Body + face", "body, hands, head, jaw, eyes and expression"),
               ("body", "Body", "body, hands and head (no jaw, eyes, expression)"),
               ("face", "Face", "jaw, eyes and expression only (keeps the rig's body keys)")],
        default="both",
    )
    use_file_fps: BoolProperty(name="Keep file rate", default=True,  # type: ignore[valid-type]
                               description="Key at the motion's own frame rate (else resample)")
    fps: IntProperty(name="Frame rate", description="Frame rate to resample to", default=30, min=1, max=240)  # type: ignore[valid-type]
    export_kind: EnumProperty(name="Format", items=list(EXPORT_KINDS), default="FBX_UNREAL")  # type: ignore[valid-type]

    def target_fps(self) -> float:
        """The frame rate to import at (0: the file's)."""
        return 0.0 if self.use_file_fps else float(self.fps)

    def style_value(self) -> str | None:
        """``--style`` for the toolkit, or ``None``."""
        if self.style_mode == "SPEAKER" and self.speaker.strip():
            return self.speaker.strip()
        if self.style_mode == "REFERENCE" and self.reference:
            return bpy.path.abspath(self.reference)
        return None


class MotionSpeechState(bpy.types.PropertyGroup):
    """Run-time state (not saved): the running job, its progress and the last message."""

    running: BoolProperty(default=False)  # type: ignore[valid-type]
    cancel_requested: BoolProperty(default=False)  # type: ignore[valid-type]
    progress: FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR")  # type: ignore[valid-type]
    status: StringProperty(default="")  # type: ignore[valid-type]
    last_error: StringProperty(default="")  # type: ignore[valid-type]
    toolkit_report: StringProperty(default="")  # type: ignore[valid-type]
    model_path: StringProperty(default="")  # type: ignore[valid-type]
    last_output: StringProperty(default="", subtype="FILE_PATH")  # type: ignore[valid-type]


CLASSES = (MotionSpeechPreferences, MotionSpeechSettings, MotionSpeechState)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.motion_speech = PointerProperty(type=MotionSpeechSettings)
    bpy.types.WindowManager.motion_speech = PointerProperty(type=MotionSpeechState)


def unregister() -> None:
    del bpy.types.WindowManager.motion_speech
    del bpy.types.Scene.motion_speech
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
