"""Data: motion file formats (:mod:`motion.data.formats`) and, later, corpora and datamodules.

Kept empty on purpose so that importing a sub-package stays cheap.
"""
