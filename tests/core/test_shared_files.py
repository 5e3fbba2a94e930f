"""Atomic writes and the clean-up of what an interrupted save leaves behind."""

import os
import stat
import subprocess
import sys

import pytest
import torch

from worldkit.models.shared.files import (
    is_temporary,
    remove_temporaries,
    remove_temporaries_under,
    temporary_name,
    write_atomically,
    write_bytes_atomically,
    write_text_atomically,
)
from worldkit.models.streaming.clips import batch_clip
from worldkit.models.streaming.passes import run_pass
from worldkit.models.streaming.sinks import PreviewSink, SequenceSink, VideoSink
from worldkit.models.world.entities import Reference, World
from worldkit.models.world.library import load_world, save_world


def leftovers(folder):
    return sorted(path.name for path in folder.iterdir() if is_temporary(path))


def test_the_writer_names_its_temporaries_as_the_clean_up_recognises_them(tmp_path):
    staged = temporary_name(tmp_path / "world.json")
    assert is_temporary(staged) and staged.suffix == ".json"
    assert not is_temporary(tmp_path / "world.json") and not is_temporary(tmp_path / ".hidden.json")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    write_text_atomically(target, "old")

    def crash(temporary):
        temporary.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(target, crash)
    assert target.read_text() == "old" and leftovers(tmp_path) == []


def test_permissions_of_an_existing_file_are_kept(tmp_path):
    target = tmp_path / "out.txt"
    write_text_atomically(target, "one")
    os.chmod(target, 0o600)
    write_text_atomically(target, "two")
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_new_file_gets_what_a_plain_open_would_give_under_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        write_text_atomically(tmp_path / "new.txt", "one")
    finally:
        os.umask(previous)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644


def test_missing_folders_are_made_on_the_way_to_the_file(tmp_path):
    target = tmp_path / "a" / "b" / "out.bin"
    write_bytes_atomically(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"


def test_a_commit_flushes_the_file_and_then_its_folder(tmp_path, monkeypatch):
    """The rename is only durable once the folder itself is flushed, after the file's own contents."""
    synced = []
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    write_text_atomically(tmp_path / "out.txt", "one")
    assert synced == ["file", "folder"]


def test_a_save_killed_mid_write_is_cleaned_up_by_the_next_save(tmp_path):
    world = World({"toy": Reference("toy", "object", "a toy", torch.rand(1, 16, 16, 3))})
    folder = save_world(world, tmp_path, "toys")
    # What kill -9 during a save leaves: staged files under the writer's own temporary names.
    for name in ("world.json", "tensors-abc.safetensors"):
        temporary_name(folder / name).write_bytes(b"partial")
    assert len(leftovers(folder)) == 2  # the check sees them, so its later silence means something
    assert load_world(tmp_path, "toys").names() == ["toy"]
    save_world(world, tmp_path, "toys")
    assert leftovers(folder) == []


def test_remove_temporaries_keeps_everything_else(tmp_path):
    (tmp_path / "keep.json").write_text("{}")
    (tmp_path / ".dotfile.tmp").write_text("not ours")
    temporary_name(tmp_path / "a.png").write_bytes(b"x")
    (removed,) = remove_temporaries(tmp_path)
    assert removed.name.startswith(".a.")
    assert sorted(path.name for path in tmp_path.iterdir()) == [".dotfile.tmp", "keep.json"]


def finished_process_id() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def staged_by(folder, name: str, pid: int | None):
    """A temporary as a writer of process ``pid`` names it (None: the older names without one)."""
    path = temporary_name(folder / name)
    if pid is not None:
        path = path.with_name(path.name.replace(f".{os.getpid()}-", f".{pid}-"))
    else:
        path = path.with_name(path.name.replace(f".{os.getpid()}-", "."))
    path.write_bytes(b"partial")
    assert is_temporary(path)
    return path


def write_with_each_writer(folder) -> dict:
    frame = torch.rand(1, 16, 16, 3)
    return {
        "atomic": lambda: write_text_atomically(folder / "a.json", "{}"),
        "png sequence": lambda: run_pass(batch_clip(frame), None, [SequenceSink(folder, lambda i: f"f{i}.png", "png")]),
        "video": lambda: run_pass(
            batch_clip(frame), None, [VideoSink(folder / "v.mov", "mov (PNG codec, lossless)", 24.0, (16, 16))]
        ),
        "preview": lambda: run_pass(batch_clip(frame), None, [PreviewSink(folder / "p.webp", 1, 24.0)]),
    }


@pytest.mark.parametrize("writer", ["atomic", "png sequence", "video", "preview"])
def test_every_writer_removes_what_killed_saves_left_in_its_folder_and_keeps_live_ones(tmp_path, writer):
    """What kill -9 during a Save With Alpha leaves (.…tmp.png, .…tmp.mov) goes at the next save into the folder;
    a temporary of another running process (here the test's parent) is still being written and stays."""
    dead = [staged_by(tmp_path, "f00001_.png", finished_process_id()), staged_by(tmp_path, "v.mov", None)]
    live = staged_by(tmp_path, "other.png", os.getppid())
    write_with_each_writer(tmp_path)[writer]()
    assert not any(path.exists() for path in dead)
    assert live.exists()


def test_a_clean_up_keeps_the_temporary_a_writer_of_this_process_is_writing(tmp_path):
    def write(temporary):
        temporary.write_bytes(b"half")
        assert remove_temporaries(tmp_path) == [] and temporary.exists()
        temporary.write_bytes(b"whole")

    write_atomically(tmp_path / "a.bin", write)
    assert (tmp_path / "a.bin").read_bytes() == b"whole" and leftovers(tmp_path) == []


def test_the_start_up_clean_up_reaches_every_folder_below_the_output_folder(tmp_path):
    """A new world's first save killed leaves its bytes in worlds/<name>/, which no later save may ever visit."""
    nested = tmp_path / "worlds" / "never_saved_again"
    nested.mkdir(parents=True)
    dead = [staged_by(nested, "world.json", finished_process_id()), staged_by(tmp_path, "x.png", None)]
    (tmp_path / "keep.png").write_bytes(b"x")
    assert sorted(remove_temporaries_under(tmp_path)) == sorted(dead)
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == ["keep.png"]


def test_remove_temporaries_skips_one_another_clean_up_removed_first(tmp_path, monkeypatch):
    staged = [temporary_name(tmp_path / name) for name in ("a.png", "b.png")]
    for path in staged:
        path.write_bytes(b"x")
    real_unlink = type(tmp_path).unlink

    def unlink_after_a_rival(path, missing_ok=False):
        real_unlink(path)
        if path == staged[0]:
            raise FileNotFoundError(path)  # as if another save's clean-up had removed it just before

    monkeypatch.setattr(type(tmp_path), "unlink", unlink_after_a_rival)
    assert sorted(remove_temporaries(tmp_path)) == sorted(staged)
    assert list(tmp_path.iterdir()) == []
