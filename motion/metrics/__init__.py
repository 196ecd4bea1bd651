"""Evaluation metrics. Light on purpose: import the sub-module you need, e.g.
``from motion.metrics.face import lve, fdd, bilabial_closure_accuracy, blink_rate``.

Modules: :mod:`.face` (LVE, FDD, bilabial closure accuracy, blink rate / duration);
:mod:`.evaluate_body` and :mod:`.evaluate_face` (rows and tables), :mod:`.real_speech` (real recordings),
and :mod:`.evaluate`: ``motion.evaluate(...)``, which ``motion evaluate`` runs.
"""
