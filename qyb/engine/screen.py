"""Unit screening on engine arrays: COINr's ``Screen`` by data availability and zeros."""
from __future__ import annotations

import numpy as np

__all__ = ["screen_mask"]


def screen_mask(values: np.ndarray, present: np.ndarray, spec: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Units kept by COINr's ``Screen``, vectorised over blocks and units.

    With ``k`` indicators: ``Dat_Avail = 1 - n_NA / k``, ``Non_Zero = 1 - n_zero /
    (k - n_NA)``; ``LowData = Dat_Avail < dat_thresh``, ``LowNonZero = Non_Zero <
    nonzero_thresh``; kept = ``!LowData`` (byNA), ``!LowNonZero`` (byzeros) or
    ``!(LowData | LowNonZero)`` (byNAandzeros). Same rule as
    :func:`qyb.screen.screen_units` (COINr ``Screen.data.frame``), which the tests
    check this against. Returns ``(kept, dat_avail, non_zero)``.
    """
    k = values.shape[-1]
    n_na = np.isnan(values).sum(axis=-1)
    n_zero = (values == 0).sum(axis=-1)
    dat_avail = 1.0 - n_na / k
    with np.errstate(invalid="ignore", divide="ignore"):
        non_zero = 1.0 - n_zero / (k - n_na)
    low_data = dat_avail < spec["dat_thresh"]
    low_nz = non_zero < spec["nonzero_thresh"]
    bad = {"byNA": low_data, "byzeros": low_nz, "byNAandzeros": low_data | low_nz}[spec["method"]]
    return present & ~bad, dat_avail, non_zero
