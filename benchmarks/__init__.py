"""Benchmarks: each bench_*.py measures against a floor taken in the same run and prints the ratio."""
