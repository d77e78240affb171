"""TODO"""
from qyb.plots.charts import *  # noqa
from qyb.plots.charts import _register_notebook_display  # noqa
