"""The `farm` sub-command's arguments and exit codes."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..client import PromptRejected, ServerError
from ..convert import ConversionError
from ..requirements import MissingModelsError
from ..runner import MissingInputsError
from ..server import ServerStartError
from .cluster import FarmUnavailable, WorkerSpec
from .dispatch import FarmFailed
from .driver import FarmOptions, run_farm
from .film import FilmError

EXIT_UNITS_FAILED, EXIT_BAD_REQUEST, EXIT_SERVER, EXIT_INTERRUPTED = 1, 2, 3, 130


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("film", type=Path, help="film workflow (UI or API) with one World Shot Sampler")
    parser.add_argument("--out", type=Path, default=Path("farm_output"), help="outputs and manifest.json")
    parser.add_argument("--address", help="Ray cluster to join, e.g. ray://head:10001 or auto (default: a local one)")
    parser.add_argument(
        "--server",
        dest="servers",
        action="append",
        default=[],
        metavar="URL",
        help="attach a worker to this running ComfyUI (repeat per server) instead of starting servers",
    )
    parser.add_argument("--workers", type=int, default=1, help="workers to start, one ComfyUI each (default 1)")
    parser.add_argument("--comfyui", help="ComfyUI folder each worker starts (default: $COMFYUI_PATH or this install)")
    parser.add_argument("--comfy-args", default="", help='extra arguments for each ComfyUI, e.g. "--lowvram"')
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="CPU workers: ComfyUI runs with --cpu and each worker takes the comfyui_cpu_slot resource, not a GPU",
    )
    parser.add_argument(
        "--unit-timeout", type=float, default=3600.0, help="seconds after which a unit's server counts as hung"
    )
    parser.add_argument("--retries", type=int, default=1, help="times a unit failing with a node error is retried")
    parser.add_argument("--sampler", help="node id or title of the World Shot Sampler, when the film has several")
    parser.add_argument("--inputs", dest="inputs_dirs", action="append", type=Path, metavar="DIR")
    return parser


def run(args: argparse.Namespace) -> int:
    spec = WorkerSpec(
        count=args.workers,
        servers=args.servers,
        comfyui=args.comfyui,
        comfy_args=shlex.split(args.comfy_args) + (["--cpu"] if args.cpu else []),
        cpu=args.cpu,
        unit_timeout_s=args.unit_timeout,
    )
    options = FarmOptions(args.film, args.out, spec, args.address, args.retries, args.sampler, args.inputs_dirs)
    say = lambda message: print(message, file=sys.stderr)  # noqa: E731
    try:
        result = run_farm(options)
    except KeyboardInterrupt as interrupt:
        say(f"{interrupt or 'interrupted'}; rerun the same command to finish the rest")
        return EXIT_INTERRUPTED
    except (FilmError, MissingModelsError, MissingInputsError, PromptRejected, ConversionError) as error:
        say(f"error: {error}")
        return EXIT_BAD_REQUEST
    except (FarmUnavailable, FarmFailed, ServerStartError, ServerError) as error:
        say(f"error: {error}")
        return EXIT_SERVER
    for path in result.cut:
        print(path)
    say(f"done: {result.rendered} unit(s) rendered, {result.skipped} already done; manifest {result.manifest.path}")
    if result.failed:
        for failure in result.failed.values():
            say(f"failed: shot {failure['shot']} candidate {failure['candidate']}: {failure['error']}")
        return EXIT_UNITS_FAILED
    return 0
