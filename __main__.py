"""`python -m worldkit ...` (from the folder that holds the pack, e.g. ComfyUI/custom_nodes)."""

import sys

from .headless.cli import main

sys.exit(main())
