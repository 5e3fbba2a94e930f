"""Headless use of WorldKit workflows: UI-to-API conversion and a runner for pipelines (no ComfyUI imports)."""

from .client import NodeFailed, PromptRejected, RunInterrupted
from .convert import ConversionError, ui_to_api
from .outputs import OutputPathError
from .overrides import Override, OverrideError, parse_override
from .requirements import MissingModelsError
from .runner import MissingInputsError, RunResult, run_workflow
from .server import ServerStartError

__all__ = [
    "ConversionError",
    "MissingInputsError",
    "MissingModelsError",
    "NodeFailed",
    "OutputPathError",
    "Override",
    "OverrideError",
    "PromptRejected",
    "RunInterrupted",
    "RunResult",
    "ServerStartError",
    "parse_override",
    "run_workflow",
    "ui_to_api",
]
