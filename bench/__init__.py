"""Benchmarks: each module measures one claim on real components and writes ``bench/results/NAME.json``
(plus a chart). Run one with ``python -m bench.NAME``; they are not part of the test suite."""
