"""Data files of the exporters: linear maps between expression spaces.

* ``standin_flame_to_arkit.csv``: stand-in FLAME / SMPL-X expression coefficients -> the 52
  ARKit blendshapes (rows = ARKit names, columns = expression coefficient names). Made by
  :mod:`motion.export.maps.fit_standin_map` from the stand-in's ARKit target fields
  (:mod:`motion.export.maps.standin_targets`); method and residuals in ``README.md`` here.
"""

from __future__ import annotations

from pathlib import Path

MAPS_DIR = Path(__file__).resolve().parent
#: The default expression -> ARKit map (for the built-in stand-in head).
STANDIN_ARKIT_MAP = MAPS_DIR / "standin_flame_to_arkit.csv"
