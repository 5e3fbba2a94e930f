"""Demos that need a ComfyUI node which loads only with an extra package (Load Audio: torchaudio) say so at
start-up, in `models` before any download, and in `run` before anything is queued."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from worldkit.headless.cli import main
from worldkit.headless.runner import prepare_prompt
from worldkit.host_packages import MissingPackageError, demo_warning

OBJECT_INFO = json.loads((Path(__file__).parent / "data" / "object_info_core.json").read_text())
WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"
HINT = "install torchaudio into ComfyUI's environment"


def test_start_up_names_the_demos_that_need_torchaudio_when_load_audio_did_not_load():
    message = demo_warning(available={"UNETLoader"})
    assert "monkey_music_video, monkey_music_video_fast" in message and "the_herd" not in message
    assert "LoadAudio needs torchaudio" in message and HINT in message and "\n" not in message
    assert demo_warning(available={"LoadAudio"}) is None


def test_the_models_command_says_torchaudio_is_missing_before_downloading(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("worldkit.headless.model_files.importable_nodes", set)
    workflow = WORKFLOWS_DIR / "api" / "monkey_music_video_fast.json"
    assert main(["models", str(workflow), "--models-dir", str(tmp_path)]) == 1
    assert HINT in capsys.readouterr().err
    monkeypatch.setattr("worldkit.headless.model_files.importable_nodes", lambda: {"LoadAudio"})
    main(["models", str(workflow), "--models-dir", str(tmp_path)])
    assert "torchaudio" not in capsys.readouterr().err


class ServerWithoutAudio:
    async def object_info(self) -> dict:
        return OBJECT_INFO  # ComfyUI's core nodes without LoadAudio, as when torchaudio is missing


@pytest.mark.parametrize("form", ["ui", "api"])
def test_a_run_on_a_server_without_load_audio_names_torchaudio_before_queueing(form):
    path = WORKFLOWS_DIR / ("monkey_music_video_fast.json" if form == "ui" else "api/monkey_music_video_fast.json")
    with pytest.raises(MissingPackageError, match=HINT) as raised:
        asyncio.run(prepare_prompt(ServerWithoutAudio(), json.loads(path.read_text())))
    assert raised.value.missing == {"LoadAudio": "torchaudio"}
