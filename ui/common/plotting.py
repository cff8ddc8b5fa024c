"""pyqtgraph as the app uses it: every module that plots imports it from here (``from ui.common.plotting import
pg``), so that its options are set before the first plot wherever it is first imported.

pyqtgraph takes about a fifth of a second to import (its Qt layer walks Qt's enums), and the first screen shows no
plot: only the views that plot import it, when they are built (:mod:`ui.common.lazy_view`).
"""

from __future__ import annotations

import pyqtgraph as pg

pg.setConfigOptions(antialias=True)

__all__ = ["pg"]
