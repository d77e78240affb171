"""TODO"""
from qyb.sample.build import *  # noqa
