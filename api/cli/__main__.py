"""``python -m api.cli …``: the ``mendian`` command without its console script (the
benchmarks start the worker this way, with the same interpreter)."""

from api.cli import run

if __name__ == "__main__":
    run()
