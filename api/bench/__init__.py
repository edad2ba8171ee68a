"""Benchmarks (``mendian bench …``): commands that print figures, never timed tests. Kept out
of the request-serving packages; each compares side by side in one run where a comparison
exists."""
