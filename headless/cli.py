"""`python -m worldkit`: run workflows headless and regenerate API twins.

python -m worldkit run workflows/api/the_herd.json [--server URL] [--out DIR] [--set NODE.INPUT=VALUE ...]
python -m worldkit models workflows/api/the_herd_fast.json [--download]
python -m worldkit farm FILM.json [--workers N | --server URL ...] [--address RAY] [--out DIR]
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..host_packages import MissingPackageError
from .client import STALL_TIMEOUT_S, NodeFailed, PromptRejected, RunInterrupted, ServerError
from .convert import ConversionError
from .convert import add_arguments as add_convert_arguments
from .convert import run as run_convert
from .farm import command as farm
from .model_files import add_arguments as add_models_arguments
from .model_files import run as run_models
from .outputs import OutputPathError
from .overrides import OverrideError, parse_override, parse_value
from .progress import ProgressPrinter
from .requirements import MissingModelsError
from .runner import MissingInputsError, run_workflow
from .server import ServerStartError

EXIT_NODE_ERROR = 1
EXIT_BAD_REQUEST = 2
EXIT_SERVER = 3
EXIT_OUTPUT = 4
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C


def parse_rename(text: str) -> tuple[str, object]:
    old, sep, new = text.partition("=")
    if not sep or not old:
        raise argparse.ArgumentTypeError(
            f"--rename {text!r}: expected OLD=NEW, e.g. --rename wan_2.1_vae.safetensors=my_vae.safetensors"
        )
    return old, parse_value(new) if new.strip().startswith(("[", "{")) else new


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m worldkit", description="WorldKit headless tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run an API- or UI-format workflow and download its outputs")
    run.add_argument("workflow", type=Path)
    run.add_argument("--server", help="URL of a running ComfyUI (default: start one for this run)")
    run.add_argument(
        "--out", type=Path, default=Path("output"), help="folder for the downloaded outputs (default: ./output)"
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NODE.INPUT=VALUE",
        help="change an input; NODE is a node id, title or unique class type; VALUE is JSON or text",
    )
    run.add_argument(
        "--rename",
        dest="renames",
        action="append",
        default=[],
        type=parse_rename,
        metavar="OLD=NEW",
        help="replace a file name wherever the workflow uses it (e.g. your own model files)",
    )
    run.add_argument(
        "--inputs",
        dest="inputs_dirs",
        action="append",
        type=Path,
        metavar="DIR",
        help="folder with the workflow's input files, uploaded when the server lacks them "
        "(default: workflows/inputs next to the workflow)",
    )
    run.add_argument(
        "--comfyui", help="ComfyUI folder to start (default: $COMFYUI_PATH or the install holding this pack)"
    )
    run.add_argument("--comfy-args", default="", help='extra arguments for ComfyUI\'s main.py, e.g. "--lowvram"')
    run.add_argument("--cpu", action="store_true", help="start ComfyUI with --cpu")
    run.add_argument("--previews", action="store_true", help="also download preview images (temp folder)")
    run.add_argument(
        "--stall-timeout",
        type=float,
        default=STALL_TIMEOUT_S,
        metavar="SECONDS",
        help="give up when the server reports no progress for this long (default: %(default)s)",
    )
    add_convert_arguments(commands.add_parser("convert", help="write API twins of UI-format workflows"))
    add_models_arguments(
        commands.add_parser("models", help="list the model files a workflow needs; --download fetches the missing")
    )
    farm.add_arguments(
        commands.add_parser("farm", help="render a film's shots across ComfyUI servers with Ray (worldkit[farm])")
    )
    return parser


def run_command(args: argparse.Namespace) -> int:
    comfy_args = shlex.split(args.comfy_args) + (["--cpu"] if args.cpu else [])
    try:
        overrides = [parse_override(text) for text in args.overrides]
        result = run_workflow(
            args.workflow,
            server=args.server,
            out_dir=args.out,
            overrides=overrides,
            renames=dict(args.renames) or None,
            comfyui=args.comfyui,
            comfy_args=comfy_args,
            inputs_dirs=args.inputs_dirs,
            on_event=ProgressPrinter(),
            include_temp=args.previews,
            log=lambda message: print(message, file=sys.stderr),
            stall_timeout=args.stall_timeout,
        )
    except NodeFailed as error:
        print(f"error: {error}", file=sys.stderr)
        if error.traceback:
            print("".join(error.traceback).rstrip(), file=sys.stderr)
        return EXIT_NODE_ERROR
    except (
        MissingModelsError,
        MissingPackageError,
        MissingInputsError,
        PromptRejected,
        OverrideError,
        ConversionError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_REQUEST
    except OutputPathError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_OUTPUT
    except (ServerStartError, ServerError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SERVER
    except RunInterrupted as error:
        print(f"interrupted: {error}", file=sys.stderr)
        return EXIT_INTERRUPTED
    for path in result.files:
        print(path)
    print(f"done: prompt {result.prompt_id}, {len(result.files)} file(s) in {args.out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "convert":
        return run_convert(args)
    if args.command == "models":
        return run_models(args)
    if args.command == "farm":
        return farm.run(args)
    return run_command(args)
