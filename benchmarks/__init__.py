"""Benchmarks of ZTMM Workbench: ratios against a floor measured in the same run (see README.md)."""
