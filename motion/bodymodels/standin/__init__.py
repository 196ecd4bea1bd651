"""The stand-in body models: a generator of SMPL-X / FLAME files, used when the real ones are absent.

Nothing here loads or poses a model (that is :mod:`motion.bodymodels.loader`, which reads the
stand-in's files as it reads the real ones); these modules only *build* the files, once, into
the cache (:func:`standin_models_dir`)::

    from motion.bodymodels.standin import standin_models_dir, write_standin
    root = standin_models_dir()        # <cache>/standin/<version>/, generated on first use
    write_standin("some/folder")       # the same files, anywhere

Modules: :mod:`.generator` (the files, their version, the cache), :mod:`.mesh` (the whole
mannequin: body + head, skinning weights, joint regressor), :mod:`.body_mesh`,
:mod:`.head_mesh` and :mod:`.head_geometry` (the surfaces), :mod:`.mesh_primitives` (sweeps,
spheres, normals), :mod:`.skinning`, :mod:`.shape_basis` and :mod:`.expression_basis` (the
blend shapes), :mod:`.hands` (hand pose components), :mod:`.landmarks` (iBUG-68 embeddings),
:mod:`.masks` (the ``FLAME_masks.pkl`` regions). The joint positions they are built around are
:mod:`motion.bodymodels.skeleton` (also the rest pose of the numpy FK at run time).
"""

from __future__ import annotations

from motion.bodymodels.standin.generator import (
    STANDIN_VERSION,
    build_standin_files,
    standin_models_dir,
    standin_version,
    write_standin,
)

__all__ = ["STANDIN_VERSION", "build_standin_files", "standin_models_dir", "standin_version", "write_standin"]
