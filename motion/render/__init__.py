"""Offscreen rendering (pyrender). Importing this package imports nothing heavy.

:mod:`motion.render.still`: PNG stills of a mesh (``render_mesh_png``) with camera presets
``full_body`` / ``upper_body`` / ``face``.
"""
