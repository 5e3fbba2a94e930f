"""`python -m worldkit models`: what a workflow needs, and downloads from a loopback server that can drop the
connection, ignore Range or send the wrong bytes."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from worldkit.headless.catalog import (
    CATALOG,
    CLIP_VISION_H,
    FUN_VACE_22_HIGH,
    FUN_VACE_22_LOW,
    TI2V_5B,
    UMT5,
    VACE_1_3B,
    WAN22_VAE,
    WAN_VAE,
    format_size,
    size_bytes,
    total_download,
)
from worldkit.headless.cli import main
from worldkit.headless.download import DownloadError, HostUnreachable, download
from worldkit.headless.model_files import ProgressLine, needed_models
from worldkit.models.shared.files import is_temporary

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"
PAYLOAD = np.random.default_rng(3).integers(0, 256, 3_000_000, dtype=np.uint8).tobytes()
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class FileServer(ThreadingHTTPServer):
    """Serves PAYLOAD at any path; `drops` cuts that many responses short, `honour_range` may be switched off."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.drops = 0
        self.cut_at = 1_000_000
        self.honour_range = True
        self.ranges: list[str | None] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FileServer

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/missing"):
            self.send_error(404)
            return
        asked = self.headers.get("Range")
        self.server.ranges.append(asked)
        start = int(asked.split("=")[1].split("-")[0]) if asked and self.server.honour_range else 0
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.end_headers()
        if self.server.drops:
            self.server.drops -= 1
            self.wfile.write(body[: self.server.cut_at])
            self.wfile.flush()
            self.connection.shutdown(2)  # the connection breaks mid-file
            return
        self.wfile.write(body)


@pytest.fixture
def server():
    httpd = FileServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def no_leftovers(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if is_temporary(p)]


def test_a_download_arrives_whole_with_progress_and_no_temporary(server, tmp_path):
    seen = []
    target = download(
        f"{server.url}/a.safetensors", tmp_path / "a.safetensors", sha256=SHA, progress=lambda d, t: seen.append((d, t))
    )
    assert target.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD)) and len(seen) > 1
    assert no_leftovers(tmp_path)


def test_a_dropped_connection_resumes_with_a_range_request(server, tmp_path):
    server.drops = 2
    target = download(f"{server.url}/b.safetensors", tmp_path / "b.safetensors", sha256=SHA)
    assert target.read_bytes() == PAYLOAD
    assert server.ranges[0] is None
    assert server.ranges[1:] == ["bytes=1000000-", "bytes=2000000-"]
    assert no_leftovers(tmp_path)


def test_a_run_stopped_midway_leaves_no_file_under_the_final_name_and_the_next_run_resumes(server, tmp_path):
    def stop(done: int, total: int | None) -> None:
        if done >= 1_000_000:
            raise KeyboardInterrupt  # Ctrl-C during the download

    with pytest.raises(KeyboardInterrupt):
        download(f"{server.url}/c.safetensors", tmp_path / "c.safetensors", progress=stop)
    assert not (tmp_path / "c.safetensors").exists()
    staged = [p for p in tmp_path.iterdir() if is_temporary(p)]
    assert len(staged) == 1 and 1_000_000 <= staged[0].stat().st_size < len(PAYLOAD)
    kept = staged[0].stat().st_size
    download(f"{server.url}/c.safetensors", tmp_path / "c.safetensors", sha256=SHA)
    assert (tmp_path / "c.safetensors").read_bytes() == PAYLOAD
    assert server.ranges[-1] == f"bytes={kept}-"
    assert no_leftovers(tmp_path)


def test_a_server_that_ignores_range_sends_the_whole_file_again(server, tmp_path):
    server.drops, server.honour_range = 1, False
    target = download(f"{server.url}/d.safetensors", tmp_path / "d.safetensors", sha256=SHA)
    assert target.read_bytes() == PAYLOAD


def test_a_wrong_hash_discards_the_download(server, tmp_path):
    with pytest.raises(DownloadError, match="SHA-256"):
        download(f"{server.url}/e.safetensors", tmp_path / "e.safetensors", sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_on_the_server_is_an_error_naming_the_url(server, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        download(f"{server.url}/missing.safetensors", tmp_path / "m.safetensors")


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    """The retry pauses a download takes (recorded, not slept)."""
    taken: list[float] = []
    monkeypatch.setattr("worldkit.headless.download.time.sleep", taken.append)
    return taken


def refused_port() -> int:
    """A loopback port nothing listens on: a connection to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_connection_fails_at_once_naming_the_host(tmp_path, pauses):
    with pytest.raises(HostUnreachable, match=r"cannot reach 127\.0\.0\.1") as raised:
        download(f"http://127.0.0.1:{refused_port()}/f.safetensors", tmp_path / "f.safetensors")
    assert raised.value.host == "127.0.0.1" and pauses == [], "nothing was retried"
    assert list(tmp_path.iterdir()) == []


def test_a_transfer_that_never_starts_is_retried_then_reported_without_a_resume_offset(server, tmp_path, pauses):
    server.drops, server.cut_at = 10, 0
    with pytest.raises(DownloadError) as raised:
        download(f"{server.url}/g.safetensors", tmp_path / "g.safetensors", attempts=3)
    assert len(server.ranges) == 3 and len(pauses) == 2
    assert "resume from 0 bytes" not in str(raised.value) and "run again to retry" in str(raised.value)


def test_a_failed_name_lookup_is_one_line_naming_the_host_and_mirror_with_no_blank_lines(
    tmp_path, monkeypatch, capsys, pauses
):
    lookups = []

    def no_dns(host, *args, **kwargs):
        lookups.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)  # the lookup asked is the host's own
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    workflow = WORKFLOWS_DIR / "api" / "the_herd_fast.json"
    assert main(["models", str(workflow), "--models-dir", str(tmp_path / "models"), "--download"]) == 1
    errors = capsys.readouterr().err
    assert lookups == ["huggingface.co"] and pauses == [], "one lookup, no retries, the host's other files skipped"
    assert errors.count("\n") == 1 and "\n\n" not in errors and not errors.startswith("\n")
    assert "cannot reach huggingface.co: name lookup failed" in errors and "--mirror" in errors


def test_the_progress_line_shows_bytes_rate_and_time_left():
    now = [100.0]
    line = ProgressLine("a.safetensors", clock=lambda: now[0])
    assert "MB/s" not in line.text(20_000_000, 100_000_000)
    now[0] = 104.0
    shown = line.text(40_000_000, 100_000_000)
    assert "40.0/100.0 MB" in shown and "5.0 MB/s" in shown and "12s left" in shown
    now[0] = 124.0
    assert "0s left" in line.text(100_000_000, 100_000_000)
    slow = ProgressLine("b.safetensors", clock=iter([0.0, 10.0]).__next__)
    slow.text(0, 1_000_000_000)
    assert "1.0 MB/s  16m 30s left" in slow.text(10_000_000, 1_000_000_000)


def test_the_shipped_workflows_need_catalogued_files_with_sources():
    for path in WORKFLOWS_DIR.glob("*.json"):
        for api_or_ui in (path, WORKFLOWS_DIR / "api" / path.name):
            needed = needed_models(json.loads(api_or_ui.read_text()))
            assert needed and all(model.name in CATALOG and model.url for model in needed), path.name
    fast = needed_models(json.loads((WORKFLOWS_DIR / "api" / "the_herd_fast.json").read_text()))
    assert VACE_1_3B.name in [model.name for model in fast]


def workflow_with_local_sources(server: FileServer, tmp_path: Path) -> Path:
    """A UI workflow from elsewhere (not the pack's catalog): its loaders carry their own download links."""
    nodes = [
        {
            "id": 1,
            "type": "UNETLoader",
            "widgets_values": ["tiny_dit.safetensors", "default"],
            "properties": {
                "models": [
                    {"name": "tiny_dit.safetensors", "url": f"{server.url}/dit", "directory": "diffusion_models"}
                ]
            },
        },
        {
            "id": 2,
            "type": "VAELoader",
            "widgets_values": ["tiny_vae.safetensors"],
            "properties": {
                "models": [{"name": "tiny_vae.safetensors", "url": f"{server.url}/vae", "directory": "vae"}]
            },
        },
    ]
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps({"nodes": nodes, "links": []}))
    return path


def test_the_models_command_lists_then_downloads_into_the_model_folders(server, tmp_path, capsys):
    workflow = workflow_with_local_sources(server, tmp_path)
    models_dir = tmp_path / "models"
    (models_dir / "vae").mkdir(parents=True)
    (models_dir / "vae" / "tiny_vae.safetensors").write_bytes(b"already here")
    assert main(["models", str(workflow), "--models-dir", str(models_dir)]) == 1
    listing = capsys.readouterr().out
    assert "missing  tiny_dit.safetensors" in listing and f"{server.url}/dit" in listing
    assert "present  tiny_vae.safetensors" in listing
    server.drops = 1
    assert main(["models", str(workflow), "--models-dir", str(models_dir), "--download"]) == 0
    assert (models_dir / "diffusion_models" / "tiny_dit.safetensors").read_bytes() == PAYLOAD
    assert (models_dir / "vae" / "tiny_vae.safetensors").read_bytes() == b"already here"
    assert "present  tiny_dit.safetensors" in capsys.readouterr().out


def test_a_file_in_comfyuis_older_folder_name_counts_as_present(tmp_path, capsys):
    models_dir = tmp_path / "models"
    (models_dir / "unet").mkdir(parents=True)
    (models_dir / "unet" / "tiny_dit.safetensors").write_bytes(b"x")
    workflow = tmp_path / "w.json"
    workflow.write_text(
        json.dumps({"1": {"class_type": "UNETLoader", "inputs": {"unet_name": "tiny_dit.safetensors"}}})
    )
    assert main(["models", str(workflow), "--models-dir", str(models_dir)]) == 0
    assert "present  tiny_dit.safetensors" in capsys.readouterr().out


def test_every_catalogued_file_has_a_size_and_the_models_command_prints_the_workflows_total(tmp_path, capsys):
    assert all(model.size for model in CATALOG.values()), "list every file's download size in the catalog"
    workflow = WORKFLOWS_DIR / "api" / "the_herd_fast.json"
    assert main(["models", str(workflow), "--models-dir", str(tmp_path)]) == 1
    listing = capsys.readouterr().out
    # VACE 1.3B 4.31 + UMT5 6.74 + VAE 0.254 + CLIP vision H 1.26 (GB, as the host lists them)
    assert "wan2.1_vace_1.3B_fp16.safetensors (4.31 GB)" in listing
    assert listing.rstrip().endswith("total download: 12.6 GB")


def test_a_total_names_the_files_whose_size_is_unknown():
    assert total_download(["34.7 GB", "317 MB", None]) == "35.0 GB + 1 file(s) of unknown size"
    assert format_size(size_bytes("254 MB") + size_bytes("6.74 GB")) == "6.99 GB"


@pytest.mark.parametrize(
    ("name", "files", "total"),
    [
        # Fun VACE high 17.3 + low 17.3 + UMT5 6.74 + Wan 2.1 VAE 0.254 + CLIP vision H 1.26
        ("the_herd_wan22", [FUN_VACE_22_HIGH, FUN_VACE_22_LOW, UMT5, WAN_VAE, CLIP_VISION_H], "42.9 GB"),
        # TI2V-5B 10.0 + UMT5 6.74 + Wan 2.2 VAE 1.41 + CLIP vision H 1.26
        ("the_herd_wan22_5b", [TI2V_5B, UMT5, WAN22_VAE, CLIP_VISION_H], "19.4 GB"),
    ],
)
def test_a_wan22_workflow_lists_both_experts_or_the_5b_with_the_vae_it_takes(tmp_path, capsys, name, files, total):
    workflow = WORKFLOWS_DIR / "api" / f"{name}.json"
    assert [model.name for model in needed_models(json.loads(workflow.read_text()))] == [f.name for f in files]
    assert main(["models", str(workflow), "--models-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().out.rstrip().endswith(f"total download: {total}")
