"""Inference pipelines (speech -> motion). Training code lives in :mod:`motion.training`."""
