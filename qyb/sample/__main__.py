"""``python -m qyb.sample --out DIR``: write the synthetic sample data set."""
from qyb.sample.build import main

raise SystemExit(main())
