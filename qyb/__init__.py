"""qyb: analytics for the 平安"晴雨表" (Safety Barometer) of 小榄镇.

Start here::

    import qyb
    ed = qyb.load("2023-03")      # one month under the method in force (the shipped sample data)
    ed.scorecard                  # index, stars, rank, category scores per 村/社区
    ed.profile("永宁")             # a unit's 体检表

The package follows the flow of a month: :mod:`qyb.data` (raw files -> validated panel) ->
:mod:`qyb.method` (the method spec) -> :mod:`qyb.engine` (scores) -> :mod:`qyb.movements` and
:mod:`qyb.review` (is a movement real; what the method choices do) -> :mod:`qyb.edition`
(:func:`load`, the entry object) -> :mod:`qyb.plots` and :mod:`qyb.report` (what a person reads).
:mod:`qyb.stats` holds generic statistics of counts and rates; :mod:`qyb.reference` the code that
reproduces COINr and PHEindicatormethods for the parity tests.
"""
from qyb.edition import Edition, UnitLookupError, load
from qyb.errors import InputError, OutputError, QybError

__version__ = "0.2.0"

__all__ = ["load", "Edition", "QybError", "InputError", "OutputError", "UnitLookupError", "__version__"]
