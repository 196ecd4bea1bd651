"""Exporters: write a :class:`~motion.container.Motion` as BEAT2/AMASS ``.npz``, BVH, glTF/GLB.

One registry of formats (:data:`EXPORTERS`), one front door::

    from motion.export import export
    export(m, "clip.bvh")                  # by suffix; metres, ZXY Euler channels, on the floor
    export(m, "clip.npz", format="amass")  # explicit format (".npz" alone -> BEAT2)
    export(m, "clip.glb", num_expressions=50)
    export(m, "clip.fbx", preset="unreal")  # needs bpy: pip install 'motion-toolkit[blender]'
    export(m, "face.csv")                   # ARKit / Live Link Face

The readers are in :mod:`motion.data.formats` (``read_motion``).

=========  =================  =====================================================
format     suffix             module
=========  =================  =====================================================
beat2      .npz (default)     :mod:`motion.export.npz` (also amass, amuse, flame_params)
bvh        .bvh               :mod:`motion.export.bvh` (writer + reader)
glb        .glb               :mod:`motion.export.gltf` (skinned mesh, morphs, animation)
gltf       .gltf              :mod:`motion.export.gltf` (JSON, data embedded)
fbx        .fbx               :mod:`motion.export.fbx` (Blender's exporter in a bpy subprocess;
                              presets blender / unity / unreal)
arkit      .csv               :mod:`motion.export.arkit` (ARKit-52 / Live Link Face CSV)
=========  =================  =====================================================

Every export is atomic (temp file beside the destination, then ``os.replace``), refuses
NaN/Inf motions and unknown options with :class:`ExportError`. The mesh/skeleton formats
take ``body_model=`` (an smplx model) or ``models_dir=``; default: the configured model or
the stand-in. Importing this package is cheap (no torch); format modules load on first use.
"""

from __future__ import annotations

from motion.export.registry import (
    EXPORTERS,
    Exporter,
    ExportError,
    available_formats,
    export,
    known_suffixes,
    register_exporter,
    resolve_format,
)

__all__ = [
    "EXPORTERS",
    "ExportError",
    "Exporter",
    "available_formats",
    "export",
    "known_suffixes",
    "register_exporter",
    "resolve_format",
]
