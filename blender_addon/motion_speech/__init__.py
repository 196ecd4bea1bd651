"""Motion from Speech: a Blender 4.2+ extension for the ``motion`` toolkit.

Speech -> SMPL-X body + FLAME-style face animation. The toolkit runs in its own Python
environment as a subprocess; inside Blender only numpy and ``bpy`` are used (no torch, no
toolkit import). Modules:

* :mod:`.rig` - the SMPL-X character: numpy maths and the ``bpy`` builders (shared with the
  toolkit's FBX exporter, which loads it by path).
* :mod:`.smplx_data` - motion files (BEAT2, AMASS, AMUSE, FLAME parameters) and the SMPL-X
  model file, read with numpy (``allow_pickle=False``).
* :mod:`.toolkit` - running ``motion`` (check, ``motion models``, background ``generate``).
* :mod:`.importer`, :mod:`.exporter` - motion -> scene; character -> FBX / GLB.
* :mod:`.props`, :mod:`.ops`, :mod:`.ui` - preferences, operators, the sidebar panel.

Nothing is imported from ``bpy`` at package level, so the numpy-only modules can be used
(and tested) outside Blender.
"""

from __future__ import annotations


def register() -> None:
    """Register preferences, properties, operators and the panel."""
    from . import ops, props, ui

    props.register()
    ops.register()
    ui.register()


def unregister() -> None:
    """Unregister everything :func:`register` registered (cancels running jobs)."""
    from . import ops, props, ui

    ui.unregister()
    ops.unregister()
    props.unregister()
