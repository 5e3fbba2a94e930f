"""Warns at start-up about demos whose ComfyUI nodes did not load for a missing package (see host_packages.py)."""

from __future__ import annotations

import logging

import nodes

from ...host_packages import demo_warning


def warn_about_missing_packages() -> None:
    message = demo_warning(nodes.NODE_CLASS_MAPPINGS)
    if message:
        logging.getLogger("worldkit").warning(message)
