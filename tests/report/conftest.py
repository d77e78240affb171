"""Fixtures shared by the report tests."""
from __future__ import annotations

import pytest

import qyb


@pytest.fixture(scope="module")
def march() -> qyb.Edition:
    """The shipped sample's March 2023 (the article's month: 永宁社区 27th in February, 2nd in March)."""
    return qyb.load("2023-03")
