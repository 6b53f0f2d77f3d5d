"""Benchmarks: measured side by side in one run, printed as ratios, never timed tests (see README.md)."""
