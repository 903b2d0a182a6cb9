"""Benchmarks of mycity: `python -m benchmarks NAME [--quick]`; never part of the test suite.

Each benchmark prints its progress on stderr and its figures as one JSON object on the
last line of stdout: every figure with its value, its unit, and its ratio to a baseline
measured in the same run. See benchmarks/RESULTS.md.
"""
