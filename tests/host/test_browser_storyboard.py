"""The storyboard panel in ComfyUI's real frontend (headless Chromium) over a tiny-model World Shot Sampler run:
rows, candidates, scores and pruned steps from the node's message, the live view while it renders (candidates'
previews, survivors, progress), the node's video preview, a one-shot re-render that adds a take to that shot alone,
choosing that take (a cut rendered from memory, holding its frames), saved reports and shot-frames files opened in
the panel, and the message a newer or damaged report gets instead of a blank panel.

The tests run in order on one browser and one run (module scope), as a user would go from one step to the next.
"""

from __future__ import annotations

import base64
import io
import json
import urllib.parse
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
import torch
from PIL import Image
from sampler_graph import SamplerGraph
from test_browser_editor import ARTIFACTS, browser  # noqa: F401  (the Chromium fixture, shared)

from worldkit.models.sampling.multishot import total_steps
from worldkit.models.sampling.search import SEARCH_PRESETS, parse_search
from worldkit.models.sampling.shot_frames import pack_shot_frames
from worldkit.models.sampling.storyboard import REPORT_VERSION, build_storyboard, parse_report
from worldkit.tools.prompt_graph import out

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # tests/conftest.py skips or fails the browser tests and says why
    pass

pytestmark = pytest.mark.browser

SEED, CANDIDATES, STEPS = 21, 3, 5  # careful search at 5 steps: the best 2 after step 1, the best 1 after step 2
FRAMES = 9
NATIVE_FRAMES, OVERLAP = 81, 9  # the sampler's defaults: each shot is one segment
LIVE_SIDE = 128  # pixels: the live previews are smaller than this
RUN_TIMEOUT_S = 600
TOGGLE = "Workspace.ToggleBottomPanelTab.worldkit-storyboard"

LISTEN_AND_QUEUE = """
const [prompt, done] = [arguments[0], arguments[arguments.length - 1]];
const { app, api } = { app: window.comfyAPI.app.app, api: window.comfyAPI.api.api };
window.worldkitSeen = [];
window.worldkitLive = [];
api.addEventListener("executed", ({ detail }) => window.worldkitSeen.push(detail));
api.addEventListener("worldkit.storyboard.live", ({ detail }) => window.worldkitLive.push(detail));
(async () => {
  await app.loadApiJson(prompt, "storyboard.json");
  await app.extensionManager.command.execute(arguments[1]);
  await app.queuePrompt(0, 1);
  done(true);
})().catch((error) => done(String(error)));
"""

ROWS = """
return [...document.querySelectorAll(".worldkit-storyboard-row")].map((row) => ({
  shot: Number(row.dataset.shot),
  text: row.textContent,
  candidates: [...row.querySelectorAll(".worldkit-storyboard-candidate")].map((c) => [c.className, c.textContent]),
  refs: [...row.querySelectorAll(".worldkit-storyboard-ref")].map((r) => [r.textContent, !!r.querySelector("img")]),
  takes: [...row.querySelectorAll(".worldkit-storyboard-take")].map((t) => ({
    current: t.classList.contains("current"),
    text: t.textContent,
    frames: [...t.querySelectorAll("img")].map((i) => [new URL(i.src).searchParams.get("filename"), i.naturalWidth]),
  })),
}));
"""

# The node on screen and redrawn, then the <video> its preview widget holds (as core's Save Video shows one).
PREVIEWED_VIDEO = """
const [id, filename] = arguments;
const app = window.comfyAPI.app.app;
const node = app.graph.getNodeById(id);
app.canvas.centerOnNode(node);
app.canvas.setDirty(true, true);
const video = node.videoContainer?.querySelector("video");
return !!(video && video.src.includes(filename) && node.previewMediaType !== "image");
"""

NODE_PREVIEW_STATE = """
const node = window.comfyAPI.app.app.graph.getNodeById(arguments[0]);
return JSON.stringify({ type: node.previewMediaType, animated: node.animatedImages, container: !!node.videoContainer,
  widgets: node.widgets?.map((w) => w.name), outputs: window.comfyAPI.app.app.nodeOutputs[arguments[0]] });
"""

DROP = """
const [name, content] = arguments;
const transfer = new DataTransfer();
transfer.items.add(new File([content], name, { type: "application/json" }));
const drop = new DragEvent("drop", { dataTransfer: transfer, bubbles: true });
document.querySelector(".worldkit-storyboard").dispatchEvent(drop);
"""


@pytest.fixture(scope="module")
def run(comfy, tiny_models, browser):  # noqa: F811
    """One tiny two-shot run queued from the editor, with its executed message."""
    graph = SamplerGraph(comfy, tiny_models, frames=FRAMES)
    second = graph.add_shot("the toy rolls off the curb", FRAMES)
    shots = graph.add("WorldKitShotList", shot_1=out(graph.shot), shot_2=out(second))
    node = graph.sampler("board", shots=out(shots), seed=SEED, candidates=CANDIDATES, steps=STEPS, search="careful")
    browser.set_script_timeout(120)
    assert browser.execute_async_script(LISTEN_AND_QUEUE, graph.graph.prompt(), TOGGLE) is True
    message = wait_for_message(browser, node, 1)
    WebDriverWait(browser, 30).until(lambda d: len(rows(d)) == 2 and frames_loaded(rows(d)), "no frames shown")
    return node, message


def frames_loaded(shown: list[dict]) -> bool:
    return all(width > 0 for row in shown for take in row["takes"] for _, width in take["frames"])


def wait_for_message(driver, node: str, count: int) -> dict:
    """The sampler's ``count``-th executed message (the run's storyboard and preview)."""

    def messages(d):
        seen = d.execute_script("return window.worldkitSeen.filter((m) => m.node === arguments[0]);", node)
        return seen if len(seen) >= count else None

    return WebDriverWait(driver, RUN_TIMEOUT_S).until(messages, "the sampler did not finish")[count - 1]["output"]


def served(comfy, ref: dict) -> bytes:
    """A file the server serves from an output's image reference (/view, as the frontend loads it)."""
    query = urllib.parse.urlencode({"filename": ref["filename"], "subfolder": ref["subfolder"], "type": ref["type"]})
    with urllib.request.urlopen(f"{comfy.base_url}/view?{query}", timeout=30) as response:
        return response.read()


def rows(driver) -> list[dict]:
    return driver.execute_script(ROWS)


def video_frames(comfy, ref: dict) -> tuple[int, int, int]:
    """(frames, width, height) of a previewed video, decoded from what the server serves."""
    path = comfy.temp_dir / "decoded_preview.mp4"
    path.write_bytes(served(comfy, ref))
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return len(frames), frames[0].width, frames[0].height


def test_a_run_fills_the_storyboard_with_rows_candidates_scores_and_pruned_steps(run, browser):  # noqa: F811
    _, message = run
    (sent,) = message["worldkit_storyboard"]
    report = parse_report(sent["report"])
    assert build_storyboard(report) == sent["storyboard"], "the rows are the engine's, built from the report sent"
    shown = rows(browser)
    assert [row["shot"] for row in shown] == [1, 2]
    for row, built in zip(shown, sent["storyboard"]["rows"], strict=True):
        pruned = sorted(c["pruned_at_step"] for c in built["candidates"] if c["pruned_at_step"] is not None)
        assert pruned == [1, 2]
        check_candidates(row, built)
        assert row["refs"] == [["toynot scored", True]], "the entity's view is shown beside its score"
        (take,) = row["takes"]
        assert take["current"] and len(take["frames"]) == 3
        assert all(name and width > 0 for name, width in take["frames"]), "first, middle and last frame loaded"
    assert not storyboard_errors(browser)


def check_candidates(row: dict, built: dict) -> None:
    """The panel's candidate lines show the storyboard's: kept or greyed, seed, score, the step pruned at."""
    for (classes, text), candidate in zip(row["candidates"], built["candidates"], strict=True):
        assert ("chosen" in classes) == candidate["chosen"] and ("other" in classes) != candidate["chosen"]
        assert f"candidate {candidate['candidate']} · seed {candidate['seed']}" in text
        step = candidate["pruned_at_step"]
        assert (f"pruned at step {step}" in text) == (step is not None)
        if step is None:  # the lone finisher has nothing to beat, so it is not scored
            assert candidate["chosen"] and candidate["score"] is None and "not scored" in text
            early = f"(early {candidate['early_score']:.3f} at step {candidate['early_step']})"
            assert candidate["early_step"] == 2 and early in text, "its score at the last check is shown"
        else:  # a pruned candidate shows its score at the check that stopped it
            assert isinstance(candidate["score"], float) and f"{candidate['score']:.3f}" in text


LIVE_VIEW = """
return [...document.querySelectorAll(".worldkit-storyboard-live-shot")].map((line) => ({
  shot: Number(line.dataset.shot),
  text: line.textContent,
  candidates: [...line.querySelectorAll(".worldkit-storyboard-live-candidate")].map((c) => ({
    classes: c.className,
    image: c.querySelector("img")?.naturalWidth ?? 0,
  })),
}));
"""


def live_events(driver, prompt_id: str) -> list[dict]:
    return driver.execute_script("return window.worldkitLive.filter((m) => m.prompt_id === arguments[0]);", prompt_id)


def jpeg_size(url: str) -> tuple[int, int]:
    head, data = url.split(",", 1)
    assert head == "data:image/jpeg;base64"
    with Image.open(io.BytesIO(base64.b64decode(data))) as image:
        assert image.format == "JPEG"
        return image.size


def list_steps() -> int:
    """The sampler steps of the run's two shots under the careful search: the whole list's progress."""
    shots = [SimpleNamespace(frame_count=FRAMES)] * 2
    return total_steps(shots, CANDIDATES, STEPS, NATIVE_FRAMES, OVERLAP, search=parse_search(SEARCH_PRESETS["careful"]))


def test_the_render_is_shown_live_candidates_survivors_and_progress(run, browser):  # noqa: F811
    node, message = run
    report = parse_report(message["worldkit_storyboard"][0]["report"])
    prompt_id = browser.execute_script(
        "return window.worldkitSeen.find((m) => m.node === arguments[0]).prompt_id;", node
    )
    events = [event for event in live_events(browser, prompt_id) if event["event"] != "progress"]
    assert all(event["node"] == node for event in events)
    assert [(event["event"], event["shot"]) for event in events] == [
        (kind, shot) for shot in (1, 2) for kind in ("shot", "check", "check", "done")
    ]
    checks = [event for event in events if event["event"] == "check"]
    for event, check in zip(checks, [c for shot in report["shots"] for c in shot["search"]["checks"]], strict=True):
        assert event["survivors"] == check["survivors"] and event["step"] == check["step"]
        judged = [str(index) for index, score in enumerate(check["early_scores"]) if score is not None]
        assert sorted(event["previews"]) == judged, "every candidate judged at the check is previewed"
        assert all(max(jpeg_size(url)) <= LIVE_SIDE for url in event["previews"].values()), "small thumbnails"
    progress = [event["progress"]["done"] for event in live_events(browser, prompt_id)]
    total = list_steps()
    assert progress == sorted(progress) and progress[-1] == total
    assert {event["progress"]["total"] for event in events} == {total}
    shown = browser.execute_script(LIVE_VIEW)
    assert [line["shot"] for line in shown] == [1, 2]
    for line, shot in zip(shown, report["shots"], strict=True):
        states = [c["classes"].split()[-1] for c in line["candidates"]]
        assert states == ["kept" if index == shot["chosen"] else "pruned" for index in range(CANDIDATES)]
        assert all(c["image"] > 0 for c in line["candidates"]), "each candidate shows its preview"
        assert "done" in line["text"]


def test_the_node_previews_the_chosen_shots_as_a_video(run, comfy, browser):  # noqa: F811
    node, message = run
    (video,) = message["images"]
    assert message["animated"] == [True] and video["filename"].endswith(".mp4") and video["type"] == "temp"
    assert video_frames(comfy, video) == (2 * FRAMES, 64, 64)
    shown = WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(PREVIEWED_VIDEO, node, video["filename"]),
        f"the node shows no video preview: {browser.execute_script(NODE_PREVIEW_STATE, node)}",
    )
    assert shown


def test_re_rendering_one_shot_changes_only_that_shots_row_and_output(run, comfy, browser):  # noqa: F811
    node, _ = run
    before = rows(browser)
    buttons = browser.find_elements(By.CSS_SELECTOR, '.worldkit-storyboard-row[data-shot="2"] button')
    next(b for b in buttons if b.text == "Re-render").click()
    message = wait_for_message(browser, node, 2)
    WebDriverWait(browser, 30).until(lambda d: len(rows(d)[1]["takes"]) == 2)
    after = rows(browser)
    assert strip_views(after[0]) == strip_views(before[0]), "shot 1's row is untouched"
    old, new = strip_views(after[1])["takes"]
    assert old == strip_views(before[1])["takes"][0] and old["current"] and not new["current"]
    (sent,) = message["worldkit_storyboard"]
    report = parse_report(sent["report"])
    assert report["select"] == "shot=2" and [shot["shot"] for shot in report["shots"]] == [1]
    assert report["seed"] == SEED + CANDIDATES, "new seeds, past the first take's"
    assert report["shots"][0]["seeds"] == [SEED + CANDIDATES + k for k in range(CANDIDATES)]
    assert set(new["frames"]).isdisjoint(old["frames"]) and len(new["frames"]) == 3
    assert video_frames(comfy, message["images"][0]) == (FRAMES, 64, 64), "the output holds that shot alone"
    assert not storyboard_errors(browser)


def test_choosing_a_take_renders_the_cut_from_memory_with_that_takes_frames(run, comfy, browser):  # noqa: F811
    node, first = run
    retake = wait_for_message(browser, node, 2)
    choose = next(b for b in browser.find_elements(By.CSS_SELECTOR, ".worldkit-storyboard-take button"))
    choose.click()
    cut = wait_for_message(browser, node, 3)
    WebDriverWait(browser, 30).until(lambda d: [t["current"] for t in rows(d)[1]["takes"]] == [False, True])
    (sent,) = cut["worldkit_storyboard"]
    report = parse_report(sent["report"])
    assert report["takes"] == f"shot=1:seed={SEED},shot=2:seed={SEED + CANDIDATES}" and report["select"] == ""
    assert [shot["cached"] for shot in report["shots"]] == [True, True], "no shot was sampled again"
    (retaken,) = parse_report(retake["worldkit_storyboard"][0]["report"])["shots"]
    assert report["shots"][1]["candidates"] == retaken["candidates"]
    assert report["boundaries"] == [
        {"shot": 0, "start": 0, "end": FRAMES},
        {"shot": 1, "start": FRAMES, "end": 2 * FRAMES},
    ]
    assert video_frames(comfy, cut["images"][0]) == (2 * FRAMES, 64, 64)
    shot_1, shot_2 = sent["frames"]
    assert pixels(comfy, shot_2) == pixels(comfy, retake["worldkit_storyboard"][0]["frames"][0]), "the chosen take"
    assert pixels(comfy, shot_1) == pixels(comfy, first["worldkit_storyboard"][0]["frames"][0]), "shot 1 as it was"
    assert pixels(comfy, shot_2) != pixels(comfy, first["worldkit_storyboard"][0]["frames"][1])
    shown = rows(browser)
    assert [len(row["takes"]) for row in shown] == [1, 2], "the cut adds no take"
    live = WebDriverWait(browser, 30).until(lambda d: d.execute_script(LIVE_VIEW))
    assert ["from memory" in line["text"] for line in live] == [True, True]
    cut_id = browser.execute_script(
        "return window.worldkitSeen.filter((m) => m.node === arguments[0])[2].prompt_id;", node
    )
    last = live_events(browser, cut_id)[-1]["progress"]
    assert last == {"done": list_steps(), "total": list_steps()}, "shots from memory complete the list's progress"
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "storyboard.png"))
    assert not storyboard_errors(browser)


def pixels(comfy, refs: list[dict]) -> list[bytes]:
    """The decoded pixels of temp images the server serves (PNG, lossless)."""
    found = []
    for ref in refs:
        with Image.open(io.BytesIO(served(comfy, ref))) as image:
            found.append(np.asarray(image.convert("RGB")).tobytes())
    return found


def strip_views(row: dict) -> dict:
    """A row without its image load state (a re-drawn image may still be loading)."""
    return {**row, "takes": [{**t, "frames": [name for name, _ in t["frames"]]} for t in row["takes"]]}


def test_a_saved_report_and_a_shot_frames_file_open_in_the_panel(run, browser, tmp_path):  # noqa: F811
    _, message = run
    (sent,) = message["worldkit_storyboard"]
    browser.execute_script(DROP, "report.json", sent["report"])
    WebDriverWait(browser, 10).until(lambda d: [len(r["takes"]) for r in rows(d)] == [1, 1])
    opened = rows(browser)
    for row, built in zip(opened, sent["storyboard"]["rows"], strict=True):
        check_candidates(row, built)
    assert all(t["frames"] == [] and "frame 0" in t["text"] for row in opened for t in row["takes"])
    report = json.loads(sent["report"])
    report["shots"] = report["shots"][1:]
    report["boundaries"] = [{"shot": 0, "start": 0, "end": FRAMES}]
    path = Path(tmp_path) / "second_shot.safetensors"
    path.write_bytes(pack_shot_frames(torch.zeros(FRAMES, 8, 8, 3), report))
    browser.execute_script("document.querySelector('.worldkit-storyboard input[type=file]').style.display = 'block';")
    browser.find_element(By.CSS_SELECTOR, ".worldkit-storyboard input[type=file]").send_keys(str(path))
    WebDriverWait(browser, 10).until(lambda d: [r["shot"] for r in rows(d)] == [2])
    assert not storyboard_errors(browser)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            lambda r: json.dumps({**r, "version": REPORT_VERSION + 1}),
            f"version {REPORT_VERSION + 1}, written by a newer",
        ),
        (lambda r: json.dumps(r)[:200], "the text is not JSON"),
        (lambda r: json.dumps({**r, "shots": [{**r["shots"][0], "candidates": []}]}), "shot 1 of the report has no"),
    ],
    ids=["newer", "truncated", "damaged"],
)
def test_a_newer_or_damaged_report_shows_why_not_a_blank_panel(run, browser, content, message):  # noqa: F811
    _, sent = run
    report = json.loads(sent["worldkit_storyboard"][0]["report"])
    browser.execute_script(DROP, "report.json", json.dumps(report))
    WebDriverWait(browser, 10).until(lambda d: len(rows(d)) == 2)
    browser.execute_script(DROP, "bad.json", content(report))
    shown = WebDriverWait(browser, 10).until(
        lambda d: d.execute_script(
            "const e = document.querySelector('.worldkit-storyboard-error');"
            "return e && e.offsetHeight && e.textContent;"
        )
    )
    assert message in shown
    assert len(rows(browser)) == 2, "the rows already shown stay"
    assert not storyboard_errors(browser)


def storyboard_errors(driver) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "storyboard" in entry["message"].lower()
    ]
