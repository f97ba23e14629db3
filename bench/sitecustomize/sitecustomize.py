"""Applies bench.speedups in the Rasa server of a benchmark variant.

The benchmark puts this folder first on PYTHONPATH when BENCH_SPEEDUPS is set;
Python imports `sitecustomize` at start. The action server is left alone.
"""

import os
import sys

_NAMES = [n.strip() for n in os.environ.get("BENCH_SPEEDUPS", "").split(",") if n.strip()]
if _NAMES and sys.argv[1:2] == ["run"] and sys.argv[2:3] != ["actions"]:
    from bench.speedups import install

    install(_NAMES)
