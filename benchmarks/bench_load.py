"""A real ComfyUI under a queue of WorldKit prompts: 50 back to back, valid and invalid mixed, every node family.

Prints prompts, completions, rejections, peak and final resident memory of the server, and how long an
/interrupt takes to stop a long node; exits non-zero when a target is missed:

- every valid prompt completes with the outputs it should have, every invalid one is refused naming the input;
- the server answers /system_stats within ANSWER_LIMIT_S throughout;
- resident memory after all prompts is within 10 % of after the first ten;
- an interrupted node stops within INTERRUPT_LIMIT_S (it checks for cancel on every candidate it scores).

    COMFYUI_PATH=/opt/ComfyUI python benchmarks/bench_load.py [--prompts 50]

The host tier runs the same mix (tests/host/test_load.py) against its server, with tiny Wan models added.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from worldkit.headless.convert import widget_defaults
from worldkit.headless.server import LocalServer, find_comfyui

PACK_DIR = Path(__file__).resolve().parents[1]
ANSWER_LIMIT_S = 10.0
RSS_GROWTH_LIMIT = 0.10
INTERRUPT_LIMIT_S = 2.0
SIZE, FRAMES = 32, 9
Check = Callable[[dict], str | None]


@dataclass
class Expectation:
    """A prompt and what must come of it: ``check`` its outputs, or refusal naming ``refused_input``."""

    prompt: dict
    check: Check | None = None
    refused_node: str = ""
    refused_input: str = ""


@dataclass
class LoadReport:
    prompts: int = 0
    completed: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)
    rss_after_ten: int = 0
    rss_final: int = 0
    rss_peak: int = 0
    slowest_answer_s: float = 0.0
    interrupt_latency_s: float | None = None

    @property
    def rss_growth(self) -> float:
        return self.rss_final / max(self.rss_after_ten, 1) - 1.0

    def misses(self) -> list[str]:
        missed = list(self.problems)
        if self.slowest_answer_s > ANSWER_LIMIT_S:
            missed.append(f"the server took {self.slowest_answer_s:.1f} s to answer (limit {ANSWER_LIMIT_S} s)")
        if self.rss_growth > RSS_GROWTH_LIMIT:
            missed.append(f"resident memory grew {self.rss_growth:.1%} after the first ten (limit 10 %)")
        if self.interrupt_latency_s is not None and self.interrupt_latency_s > INTERRUPT_LIMIT_S:
            missed.append(f"interrupt took {self.interrupt_latency_s:.2f} s (limit {INTERRUPT_LIMIT_S} s)")
        return missed


class Prompt(dict):
    """An API prompt under construction; ``add`` returns the new node's id."""

    def add(self, class_type: str, **inputs) -> str:
        node_id = str(len(self) + 1)
        self[node_id] = {"class_type": class_type, "inputs": inputs}
        return node_id


def defaults(info: dict, class_type: str, **inputs) -> dict:
    """Every required widget of a node at its default, then ``inputs``."""
    return {**widget_defaults(info[class_type]), **inputs}


def images_of(outputs: dict, node_id: str) -> int:
    return len(outputs.get(node_id, {}).get("images", []))


def text_of(outputs: dict, node_id: str) -> str:
    return "".join(outputs.get(node_id, {}).get("text", []))


def _reference(p: Prompt, info: dict, seed: int) -> str:
    image = p.add("EmptyImage", width=48, height=40, batch_size=2, color=0x102030 + seed)
    return p.add(
        "WorldKitReference",
        **defaults(info, "WorldKitReference", image=[image, 0], name="toy", width=SIZE, height=SIZE),
    )


def references_prompt(info: dict, seed: int) -> Expectation:
    p = Prompt()
    world = p.add("WorldKitWorld", reference_1=[_reference(p, info, seed), 0])
    sheet = p.add("WorldKitPreviewWorld", world=[world, 0], cell_width=64, columns=0)
    return Expectation(p, lambda o: None if images_of(o, sheet) == 1 else f"contact sheet missing: {o.get(sheet)}")


def shot_prompt(info: dict, seed: int) -> Expectation:
    p = Prompt()
    shot = p.add("WorldKitShot", **defaults(info, "WorldKitShot", prompt=f"the fox {seed} crosses", seed=seed))
    shown = p.add("PreviewAny", source=[shot, 1])
    return Expectation(p, lambda o: None if f"The fox {seed} crosses." in text_of(o, shown) else "prompt not compiled")


def motion_prompt(info: dict, seed: int) -> Expectation:
    state = {
        "version": 1,
        "tracks": [
            {
                "name": "fox",
                "keypoints": [
                    {"x": 0.1, "y": 0.5, "frame": 0},
                    {"x": 0.9, "y": 0.2 + seed % 5 / 10, "frame": FRAMES - 1},
                ],
            }
        ],
    }
    p = Prompt()
    paths = p.add(
        "WorldKitTrajectoryKeypoints",
        **defaults(
            info, "WorldKitTrajectoryKeypoints", editor_state=json.dumps(state), width=64, height=64, num_frames=FRAMES
        ),
    )
    shown = p.add("PreviewAny", source=[paths, 0])

    def check(outputs: dict) -> str | None:
        tracks = json.loads(text_of(outputs, shown) or "[]")
        return None if len(tracks) == 1 and len(tracks[0]) == 121 else f"ATI JSON has {len(tracks)} tracks"

    return Expectation(p, check)


def cut_prompt(info: dict, seed: int) -> Expectation:
    p = Prompt()
    clip = p.add("EmptyImage", width=SIZE, height=SIZE, batch_size=FRAMES, color=seed)
    cut = p.add("WorldKitAssembleCut", **defaults(info, "WorldKitAssembleCut", frames=[clip, 0], shot_lengths="4, 5"))
    shown = p.add("PreviewImage", images=[cut, 2])
    return Expectation(p, lambda o: None if images_of(o, shown) == FRAMES else f"cut has {images_of(o, shown)} frames")


def scoring_prompt(info: dict, seed: int) -> Expectation:
    p = Prompt()
    clip = p.add("EmptyImage", width=SIZE, height=SIZE, batch_size=4, color=seed)
    best = p.add(
        "WorldKitPickBest",
        **defaults(info, "WorldKitPickBest", candidates=[clip, 0], references=[_reference(p, info, seed), 0]),
    )
    shown = p.add("PreviewAny", source=[best, 2])
    return Expectation(
        p, lambda o: None if len(json.loads(text_of(o, shown) or "{}").get("scores", [])) == 4 else "scores"
    )


def gvfx_prompt(info: dict, seed: int) -> Expectation:
    p = Prompt()
    clip = p.add("EmptyImage", width=SIZE, height=SIZE, batch_size=FRAMES, color=0x00B140)
    keyed = p.add("WorldKitChromaKey", **defaults(info, "WorldKitChromaKey", image=[clip, 0]))
    shown = p.add("PreviewImage", images=[keyed, 0])
    return Expectation(p, lambda o: None if images_of(o, shown) == FRAMES else f"keyed {images_of(o, shown)} frames")


def refused(info: dict, seed: int) -> Expectation:
    """One of several bad prompts, each refused at queue time naming the input."""
    kind = seed % 3
    p = Prompt()
    if kind == 0:
        node = p.add("WorldKitShot", **defaults(info, "WorldKitShot", prompt="a fox \ud800"))
        p.add("PreviewAny", source=[node, 1])
        return Expectation(p, refused_node=node, refused_input="prompt")
    if kind == 1:
        clip = p.add("EmptyImage", width=SIZE, height=SIZE, batch_size=FRAMES, color=0)
        node = p.add(
            "WorldKitAssembleCut", **defaults(info, "WorldKitAssembleCut", frames=[clip, 0], shot_lengths="[" * 10_000)
        )
        p.add("PreviewImage", images=[node, 2])
        return Expectation(p, refused_node=node, refused_input="shot_lengths")
    node = p.add(
        "WorldKitTrajectoryKeypoints", **defaults(info, "WorldKitTrajectoryKeypoints", editor_state='{"version": 7}')
    )
    p.add("PreviewAny", source=[node, 0])
    return Expectation(p, refused_node=node, refused_input="editor_state")


PROMPT_MAKERS: list[Callable[[dict, int], Expectation]] = [
    references_prompt,
    shot_prompt,
    motion_prompt,
    cut_prompt,
    scoring_prompt,
    gvfx_prompt,
    refused,
]


def mix(info: dict, count: int, extra: list[Callable[[dict, int], Expectation]] = ()) -> list[Expectation]:
    families = [*PROMPT_MAKERS, *extra]
    return [families[index % len(families)](info, index) for index in range(count)]


class Server:
    """The few HTTP calls the load run needs, timed so a slow answer is noticed."""

    def __init__(self, base_url: str, pid: int):
        self.base_url, self.process = base_url.rstrip("/"), psutil.Process(pid)
        self.slowest = 0.0
        self.peak = 0

    def call(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, headers={"Content-Type": "application/json"})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        self.slowest = max(self.slowest, time.monotonic() - started)
        self.rss()
        return status, json.loads(text or b"{}")

    def rss(self) -> int:
        value = self.process.memory_info().rss
        self.peak = max(self.peak, value)
        return value

    def wait_idle(self, prompt_ids: list[str], timeout_s: float = 600) -> dict[str, dict]:
        """History of every prompt once each has finished; /system_stats is asked all along."""
        deadline, histories = time.monotonic() + timeout_s, {}
        while len(histories) < len(prompt_ids):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(prompt_ids) - len(histories)} prompts did not finish in {timeout_s} s")
            self.call("/system_stats")
            for prompt_id in prompt_ids:
                if prompt_id not in histories:
                    entry = self.call(f"/history/{prompt_id}")[1].get(prompt_id)
                    if entry and entry.get("status", {}).get("completed") is not None:
                        histories[prompt_id] = entry
            time.sleep(0.1)
        return histories


def queue_all(server: Server, expectations: list[Expectation], report: LoadReport) -> dict[str, Expectation]:
    queued = {}
    for expectation in expectations:
        report.prompts += 1
        status, answer = server.call("/prompt", {"prompt": expectation.prompt})
        if expectation.check is None:
            errors = answer.get("node_errors", {}).get(expectation.refused_node, {}).get("errors", [])
            named = any(expectation.refused_input in f"{e.get('details', '')}" for e in errors)
            if status == 400 and named:
                report.rejected += 1
            else:
                report.problems.append(f"an invalid prompt got {status} without naming {expectation.refused_input}")
        elif status != 200:
            report.problems.append(f"a valid prompt was refused: {json.dumps(answer)[:300]}")
        else:
            queued[answer["prompt_id"]] = expectation
    return queued


def settle(server: Server, queued: dict[str, Expectation], report: LoadReport) -> None:
    for prompt_id, history in server.wait_idle(list(queued)).items():
        if history["status"].get("status_str") != "success":
            report.problems.append(f"prompt {prompt_id} failed: {json.dumps(history['status'])[:400]}")
            continue
        problem = queued[prompt_id].check(history.get("outputs", {}))
        if problem:
            report.problems.append(f"prompt {prompt_id}: {problem}")
        else:
            report.completed += 1


def interrupt_latency(server: Server, info: dict) -> float:
    """Seconds from POST /interrupt to the end of a Best of N scoring 2000 candidates (far more work than the
    wait before the interrupt, however fast the machine)."""
    p = Prompt()
    clip = p.add("EmptyImage", width=96, height=96, batch_size=2000, color=0x336699)
    best = p.add(
        "WorldKitPickBest",
        **defaults(info, "WorldKitPickBest", candidates=[clip, 0], references=[_reference(p, info, 999), 0]),
    )
    p.add("PreviewAny", source=[best, 2])
    prompt_id = server.call("/prompt", {"prompt": p})[1]["prompt_id"]
    while not server.call("/queue")[1].get("queue_running"):
        time.sleep(0.02)
    time.sleep(0.3)
    started = time.monotonic()
    server.call("/interrupt", {})
    while server.call("/queue")[1].get("queue_running"):
        time.sleep(0.01)
    latency = time.monotonic() - started
    status = server.call(f"/history/{prompt_id}")[1].get(prompt_id, {}).get("status", {})
    if status.get("status_str") == "success":
        raise AssertionError("the long prompt finished before the interrupt reached it; make it longer")
    return latency


def run_load(base_url: str, pid: int, count: int = 50, extra=(), interrupt: bool = True) -> LoadReport:
    """Queue ``count`` mixed prompts (ten first, then the rest) against a running server and report."""
    server = Server(base_url, pid)
    info = server.call("/object_info")[1]
    report = LoadReport()
    expectations = mix(info, count, extra)
    settle(server, queue_all(server, expectations[:10], report), report)
    report.rss_after_ten = server.rss()
    settle(server, queue_all(server, expectations[10:], report), report)
    report.rss_final = server.rss()
    if interrupt:
        report.interrupt_latency_s = interrupt_latency(server, info)
    report.rss_peak, report.slowest_answer_s = server.peak, server.slowest
    return report


def print_report(report: LoadReport) -> None:
    mib = 1 << 20
    print(f"prompts {report.prompts}: {report.completed} completed, {report.rejected} rejected")
    print(
        f"server RSS: after ten {report.rss_after_ten / mib:.0f} MiB, final {report.rss_final / mib:.0f} MiB "
        f"({report.rss_growth:+.1%}, target <= +10%), peak {report.rss_peak / mib:.0f} MiB"
    )
    print(f"slowest answer {report.slowest_answer_s:.2f} s (target <= {ANSWER_LIMIT_S:.0f} s)")
    if report.interrupt_latency_s is not None:
        print(f"interrupt latency {report.interrupt_latency_s:.3f} s (target <= {INTERRUPT_LIMIT_S} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=50)
    args = parser.parse_args()
    from comfyui_host import COMFYUI_PATH  # beside this script; the host tier imports this module without it

    with tempfile.TemporaryDirectory() as base:
        (Path(base) / "custom_nodes").mkdir()
        (Path(base) / "custom_nodes" / "worldkit").symlink_to(PACK_DIR, target_is_directory=True)
        server = LocalServer(
            find_comfyui(COMFYUI_PATH), ["--cpu", "--base-directory", base, "--database-url", "sqlite:///:memory:"]
        )
        with server:
            report = run_load(server.base_url, server.pid, args.prompts)
    print_report(report)
    missed = report.misses()
    for miss in missed:
        print(f"MISSED: {miss}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
