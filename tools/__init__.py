"""Maintainer tooling, not loaded by ComfyUI: builds the shipped workflows, their input files, test fixtures
and the tiny random-weight models tests and benchmarks run."""
