"""qyb: 平安晴雨表 analytics."""
__version__ = "0.1.0"
