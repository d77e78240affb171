"""Weighting schemes (equal, entropy, CRITIC, std, PCA): a re-export of :mod:`qyb.review.weights`."""
from qyb.review.weights import *  # noqa: F403
from qyb.review.weights import SCHEMES, apply_scheme  # noqa: F401
