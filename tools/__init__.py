"""Maintainer tooling, not loaded by ComfyUI: builds the shipped workflows and their input files."""
