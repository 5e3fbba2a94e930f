"""The headless command line: options, exit codes, the progress display, and `python -m worldkit`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from worldkit.headless.cli import build_parser, main, parse_rename
from worldkit.headless.progress import ProgressPrinter, bar

PACK_DIR = Path(__file__).resolve().parents[2]


def test_cli_parses_run_options():
    args = build_parser().parse_args(
        [
            "run",
            "workflows/api/the_herd.json",
            "--server",
            "http://127.0.0.1:8188",
            "--out",
            "renders",
            "--set",
            "3.seed=1",
            "--set",
            "KSampler.steps=4",
            "--rename",
            "a.safetensors=b.safetensors",
            "--cpu",
        ]
    )
    assert args.workflow == Path("workflows/api/the_herd.json")
    assert args.server == "http://127.0.0.1:8188"
    assert args.out == Path("renders")
    assert args.overrides == ["3.seed=1", "KSampler.steps=4"]
    assert args.renames == [("a.safetensors", "b.safetensors")]
    assert args.cpu
    with pytest.raises(Exception, match="expected OLD=NEW"):
        parse_rename("nothing")


def test_cli_reports_a_bad_set_before_contacting_any_server(tmp_path, capsys):
    workflow = tmp_path / "w.json"
    workflow.write_text(json.dumps({"1": {"class_type": "KSampler", "inputs": {}}}))
    assert main(["run", str(workflow), "--server", "http://127.0.0.1:9", "--set", "broken"]) == 2
    assert "expected NODE.INPUT=VALUE" in capsys.readouterr().err


def test_cli_exit_code_when_no_server_answers(tmp_path, capsys):
    workflow = tmp_path / "w.json"
    workflow.write_text(json.dumps({"1": {"class_type": "KSampler", "inputs": {}}}))
    assert main(["run", str(workflow), "--server", "http://127.0.0.1:9"]) == 3
    assert "error:" in capsys.readouterr().err


def test_progress_printer_draws_nodes_and_bars():
    class Sink:
        text = ""

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    sink = Sink()
    printer = ProgressPrinter(sink)
    printer({"type": "executing", "data": {"node": "8", "class_type": "KSampler"}})
    printer({"type": "progress", "data": {"value": 2, "max": 4, "node": "8"}})
    printer({"type": "execution_success", "data": {}})
    assert sink.text == f"node 8 (KSampler)\n\r  {bar(2, 4)} 2/4\n"
    assert bar(2, 4, width=4) == "[##--]"


def test_python_dash_m_worldkit_runs_from_the_folder_holding_the_pack(tmp_path):
    """`cd ComfyUI/custom_nodes && python -m worldkit` must work without ComfyUI importable."""
    (tmp_path / "worldkit").symlink_to(PACK_DIR, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    completed = subprocess.run(
        [sys.executable, "-m", "worldkit", "run", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert "--set NODE.INPUT=VALUE" in completed.stdout
