"""``python -m qyb.examples.asem``: COINr's ASEM example (the code lives in :mod:`qyb.reference.asem`)."""
from qyb.reference.asem import *  # noqa: F403
from qyb.reference.asem import main

if __name__ == "__main__":
    raise SystemExit(main())
