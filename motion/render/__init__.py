"""Offscreen rendering (pyrender) and plots. Importing this package imports nothing heavy.

=================  ==========================================================================
:mod:`.scene`      platform choice (EGL / OSMesa), camera presets, lights, :class:`MeshRenderer`
:mod:`.still`      PNG stills of a mesh or of one frame of a motion
:mod:`.video`      MP4 of a motion with its audio (:func:`render_video`)
:mod:`.grid`       several motions side by side with labels (video or PNG)
:mod:`.plots`      jaw / hand speed / expression energy against the waveform (matplotlib Agg)
:mod:`.mp4`        atomic H.264 + AAC writer and an ffprobe stand-in (imageio-ffmpeg)
:mod:`.output`     destination / motion checks and atomic writes (:class:`RenderError`)
:mod:`.colors`     face colours (lips, eyes, mouth)
:mod:`.gallery`    the README gallery: ``python -m motion.render.gallery renders``
=================  ==========================================================================
"""
