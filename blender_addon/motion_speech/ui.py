"""The sidebar panel: View3D > Sidebar (N) > Motion."""

from __future__ import annotations

import textwrap
from typing import Any

import bpy

from . import importer


class VIEW3D_PT_motion_speech(bpy.types.Panel):
    """Speech -> SMPL-X body and face animation."""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Motion"
    bl_label = "Motion from Speech"

    def draw(self, context: Any) -> None:
        s = context.scene.motion_speech
        state = context.window_manager.motion_speech
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        col = layout.column()
        col.prop(s, "audio")
        fixed = col.column()
        fixed.enabled = not s.emotion_curve.strip()  # a curve holds its own emotions and intensities
        fixed.prop(s, "emotion")
        fixed.prop(s, "intensity", slider=True)
        col.prop(s, "emotion_curve")
        col.prop(s, "style_mode")
        if s.style_mode == "SPEAKER":
            col.prop(s, "speaker")
        elif s.style_mode == "REFERENCE":
            col.prop(s, "reference")
        col.prop(s, "seed")
        col.prop(s, "steps")
        col.prop(s, "parts")
        col.prop(s, "use_file_fps")
        sub = col.column()
        sub.enabled = not s.use_file_fps
        sub.prop(s, "fps")
        if state.running:
            layout.progress(factor=state.progress, type="BAR", text=state.status[:60] or "generating")
            layout.operator("motion_speech.cancel", icon="CANCEL")
        else:
            layout.operator("motion_speech.generate", icon="PLAY")
            if state.status:
                layout.label(text=state.status[:80])
        if state.last_error:
            box = layout.box()
            for i, line in enumerate(textwrap.wrap(state.last_error, 48)[:8]):
                box.label(text=line, icon="ERROR" if i == 0 else "BLANK1")


class VIEW3D_PT_motion_speech_files(bpy.types.Panel):
    """Import motion files and export the character."""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Motion"
    bl_label = "Import / Export"
    bl_parent_id = "VIEW3D_PT_motion_speech"

    def draw(self, context: Any) -> None:
        s = context.scene.motion_speech
        layout = self.layout
        layout.operator("motion_speech.import_motion", icon="IMPORT")
        arm = importer.active_rig(context)
        layout.label(text=f"Character: {arm.name}" if arm else "Character: none selected (import makes one)",
                     icon="ARMATURE_DATA")
        row = layout.row(align=True)
        row.prop(s, "export_kind", text="")
        row.operator("motion_speech.export", text="Export", icon="EXPORT")


CLASSES = (VIEW3D_PT_motion_speech, VIEW3D_PT_motion_speech_files)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
