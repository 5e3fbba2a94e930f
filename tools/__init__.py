"""Maintainer tooling, not loaded by ComfyUI: builds the shipped workflows, their input files and test fixtures."""
