"""Raw data in: the measure catalogue, reading and validating the unit register and month files, the
dense validated panel, and writing outputs atomically.

* :mod:`qyb.data.months` -- months as ``YYYY-MM``, lags as integer arithmetic;
* :mod:`qyb.data.catalogue` -- the measures and unit attributes (codes, Chinese names, aliases, rules);
* :mod:`qyb.data.files` -- tables in (CSV/XLSX as text cells), numbers, atomic writes, hashes;
* :mod:`qyb.data.register` -- ``units.csv``;
* :mod:`qyb.data.monthfile` -- ``YYYY-MM.csv`` / ``.xlsx``;
* :mod:`qyb.data.panel` -- :class:`Panel` (months x units x measures) and :func:`load_panel`;
* :mod:`qyb.data.validate` -- ``qyb validate``.
"""
from qyb.data.panel import SYNTHETIC_MARKER, Panel, load_panel, require_month

__all__ = ["Panel", "load_panel", "require_month", "SYNTHETIC_MARKER"]
