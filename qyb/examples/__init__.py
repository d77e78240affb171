"""Worked examples: reference builds reproduced with qyb's engine (COINr ASEM, UNDP HDI)."""
