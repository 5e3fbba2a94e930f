"""The trajectory canvas in ComfyUI's real frontend, driven by headless Chromium.

Needs Debian's `chromium` and `chromium-driver` and the `selenium` package; without them tests/conftest.py
skips these tests with the reason printed, or fails them under WORLDKIT_REQUIRE_ALL_TIERS=1 (as CI runs).
"""

from __future__ import annotations

import io
import json
import shutil
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from worldkit.models.motion.formats import tracks_from_state
from worldkit.models.shared.wan import WAN_2_1

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # tests/conftest.py skips or fails the browser tests and says why
    pass

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NODE_TYPE = "WorldKitTrajectoryKeypoints"
CLICKS = [(0.2, 0.6), (0.7, 0.35), (0.45, 0.8)]
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1600",
]


def chromium_paths() -> tuple[str, str]:
    """Present whenever a browser test runs: tests/conftest.py checks them first."""
    return shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")


def post_setting(base_url: str, key: str, value) -> None:
    """Settings the frontend reads at start-up, so no first-run dialog covers the canvas."""
    request = urllib.request.Request(
        f"{base_url}/settings/{key}",
        data=json.dumps(value).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=30).close()


@pytest.fixture(scope="module")
def browser(comfy, tmp_path_factory):
    binary, driver_path = chromium_paths()
    for key, value in (
        ("Comfy.TutorialCompleted", True),
        ("Comfy.Workflow.ShowMissingModelsWarning", False),
        ("Comfy.Workflow.ShowMissingNodesWarning", False),
    ):
        post_setting(comfy.base_url, key, value)
    options = Options()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium_profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(comfy.base_url)
        WebDriverWait(driver, 120).until(
            lambda d: d.execute_script(
                "const app = window.comfyAPI?.app?.app;"
                f"return !!(app && app.graph && window.LiteGraph?.registered_node_types?.['{NODE_TYPE}']);"
            )
        )
        yield driver
    finally:
        driver.quit()


def add_editor_node(driver) -> tuple[int, object]:
    """A fresh graph holding only the Trajectory Keypoints node, at zoom 1, with its canvas on screen."""
    node_id = driver.execute_script(f"""
        const app = window.comfyAPI.app.app;
        app.graph.clear();
        const node = LiteGraph.createNode("{NODE_TYPE}");
        node.pos = [120, 110];
        app.graph.add(node);
        app.canvas.ds.scale = 1;
        app.canvas.ds.offset = [0, 0];
        app.canvas.setDirty(true, true);
        return node.id;
    """)
    canvas = WebDriverWait(driver, 30).until(
        lambda d: next(
            (
                c
                for c in d.find_elements(By.CSS_SELECTOR, ".worldkit-trajectory-canvas")
                if c.is_displayed() and c.size["width"] > 100 and c.size["height"] > 50
            ),
            None,
        )
    )
    return node_id, canvas


def click_at(driver, canvas, fx: float, fy: float, button: str = "left") -> None:
    """Click at a fraction of the canvas (Selenium offsets are from the element's centre)."""
    width, height = canvas.size["width"], canvas.size["height"]
    actions = ActionChains(driver).move_to_element_with_offset(canvas, fx * width - width / 2, fy * height - height / 2)
    (actions.context_click() if button == "right" else actions.click()).perform()


def keypoints_drawn(driver, node_id: int) -> int:
    """Keypoints the canvas holds (its first track's), so a click can wait for the one before it to land."""
    return driver.execute_script(
        "const editor = window.comfyAPI.app.app.graph.getNodeById(arguments[0]).worldkitEditor;"
        "return editor.state.tracks.length ? editor.state.tracks[0].keypoints.length : 0;",
        node_id,
    )


def place_keypoints(driver, canvas, node_id: int) -> None:
    """Click each of CLICKS, waiting for the canvas to hold it before the next: two clicks that land before the
    editor has taken the first can merge into one keypoint on a loaded machine."""
    for count, (fx, fy) in enumerate(CLICKS, start=1):
        click_at(driver, canvas, fx, fy)
        WebDriverWait(driver, 10).until(lambda d, count=count: keypoints_drawn(d, node_id) == count)


def saved_state(driver, node_id: int) -> tuple[dict, dict]:
    """The editor state as the workflow save (UI format) and the API prompt hold it."""
    workflow, prompt = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const app = window.comfyAPI.app.app;
        app.graphToPrompt().then((p) => done([app.graph.serialize(), p.output]));
    """)
    node = next(n for n in workflow["nodes"] if n["id"] == node_id)
    ui_state = json.loads(node["widgets_values"][0])
    api_state = json.loads(prompt[str(node_id)]["inputs"]["editor_state"])
    return ui_state, api_state, workflow


def editor_errors(driver) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "trajectory" in entry["message"]
    ]


def forest_plate(comfy) -> str:
    """A small night-forest picture in the input folder, for the canvas background."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (832, 480), (12, 28, 22))
    draw = ImageDraw.Draw(picture)
    for x in range(0, 832, 64):
        draw.polygon([(x, 380), (x + 32, 120 + (x * 7) % 90), (x + 64, 380)], fill=(20, 60 + (x * 3) % 40, 35))
    draw.ellipse((600, 40, 660, 100), fill=(230, 230, 200))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return comfy.upload_image(buffer.getvalue(), "worldkit_forest_plate.png")


def test_three_clicks_on_the_canvas_are_saved_as_keypoints_where_they_were_clicked(browser, comfy):
    node_id, canvas = add_editor_node(browser)
    plate = forest_plate(comfy)
    # The message the node sends after a run (checked server-side in test_motion): the canvas shows that frame.
    loaded = browser.execute_async_script(
        """
        const [plate, done] = [arguments[0], arguments[arguments.length - 1]];
        const node = window.comfyAPI.app.app.graph._nodes.find((n) => n.type === "WorldKitTrajectoryKeypoints");
        node.onExecuted({ worldkit_background: [{ filename: plate, subfolder: "", type: "input" }] });
        const wait = () => node.worldkitEditor.background ? done(node.worldkitEditor.background.naturalWidth) :
        setTimeout(wait, 50);
        wait();
    """,
        plate,
    )
    assert loaded == 832
    place_keypoints(browser, canvas, node_id)
    ui_state, api_state, workflow = saved_state(browser, node_id)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "trajectory_editor.png"))
    (ARTIFACTS / "trajectory_editor_workflow.json").write_text(json.dumps(workflow, indent=1))
    assert ui_state == api_state
    assert ui_state["version"] == 1 and len(ui_state["tracks"]) == 1
    keypoints = ui_state["tracks"][0]["keypoints"]
    assert len(keypoints) == len(CLICKS)
    tolerance = 2.0 / canvas.size["width"]
    for kp, (fx, fy) in zip(keypoints, CLICKS, strict=True):
        assert kp["x"] == pytest.approx(fx, abs=tolerance) and kp["y"] == pytest.approx(fy, abs=tolerance)
        assert kp["frame"] is None, "new keypoints are timed automatically"
    assert (ARTIFACTS / "trajectory_editor.png").stat().st_size > 10_000
    assert not editor_errors(browser)


def test_a_frame_widget_without_a_usable_value_falls_back_to_the_node_schema_default(browser, comfy):
    """The editor keeps no copy of the engine's numbers (Wan's native clip length among them)."""
    node_id, _ = add_editor_node(browser)
    fallbacks = browser.execute_script(f"""
        const node = window.comfyAPI.app.app.graph.getNodeById({node_id});
        for (const w of node.widgets) if (["width", "height", "num_frames", "fps"].includes(w.name)) w.value = 0;
        const editor = node.worldkitEditor;
        return [editor.frameWidth, editor.frameHeight, editor.numFrames, editor.fps];
    """)
    required = comfy.object_info()[NODE_TYPE]["input"]["required"]
    assert fallbacks == [required[name][1]["default"] for name in ("width", "height", "num_frames", "fps")]
    assert fallbacks[2:] == [WAN_2_1.native_frames, WAN_2_1.fps]


def test_dragging_moves_a_keypoint_and_right_click_deletes_one(browser):
    node_id, canvas = add_editor_node(browser)
    place_keypoints(browser, canvas, node_id)
    width, height = canvas.size["width"], canvas.size["height"]
    start = (CLICKS[1][0] * width - width / 2, CLICKS[1][1] * height - height / 2)
    (
        ActionChains(browser)
        .move_to_element_with_offset(canvas, *start)
        .click_and_hold()
        .move_by_offset(30, 20)
        .move_by_offset(10, 0)
        .release()
        .perform()
    )
    moved = saved_state(browser, node_id)[0]["tracks"][0]["keypoints"][1]
    assert moved["x"] == pytest.approx(CLICKS[1][0] + 40 / width, abs=2 / width)
    assert moved["y"] == pytest.approx(CLICKS[1][1] + 20 / height, abs=2 / height)
    click_at(browser, canvas, *CLICKS[0], button="right")
    remaining = saved_state(browser, node_id)[0]["tracks"][0]["keypoints"]
    assert len(remaining) == 2
    assert remaining[0]["x"] == pytest.approx(moved["x"]) and remaining[1]["x"] == pytest.approx(
        CLICKS[2][0], abs=2 / width
    )
    assert not editor_errors(browser)


def set_field(driver, title: str, value: str) -> None:
    field = driver.find_element(By.CSS_SELECTOR, f'.worldkit-trajectory [title="{title}"]')
    field.clear()
    field.send_keys(value)
    driver.execute_script("arguments[0].dispatchEvent(new Event('change'))", field)


def test_timing_fields_write_frame_and_hold_and_a_saved_workflow_reloads_into_the_canvas(browser):
    node_id, canvas = add_editor_node(browser)
    place_keypoints(browser, canvas, node_id)
    click_at(browser, canvas, *CLICKS[1])
    set_field(browser, "Keypoint frame", "30")
    set_field(browser, "Frames to hold at this keypoint", "5")
    ui_state, _, workflow = saved_state(browser, node_id)
    middle = ui_state["tracks"][0]["keypoints"][1]
    assert (middle["frame"], middle["hold"]) == (30, 5)
    # The scrubber previews exactly the motion the node will output.
    previewed = browser.execute_script("""
        const node = window.comfyAPI.app.app.graph._nodes.find((n) => n.type === "WorldKitTrajectoryKeypoints");
        return [...Array(81).keys()].map((f) => { const p = node.worldkitEditor.positionAt(0, f); return [p.x, p.y]; });
    """)
    computed = tracks_from_state(json.dumps(ui_state), 832, 480, 81).points[:, 0].double().numpy() / [832, 480]
    np.testing.assert_allclose(np.array(previewed), computed, atol=1e-5)
    shown = browser.execute_async_script(
        """
        const [workflow, done] = [arguments[0], arguments[arguments.length - 1]];
        const app = window.comfyAPI.app.app;
        app.graph.clear();
        app.loadGraphData(workflow).then(() => {
            const node = app.graph._nodes.find((n) => n.type === "WorldKitTrajectoryKeypoints");
            done(node.worldkitEditor.state.tracks[0].keypoints.map((k) => [k.x, k.y, k.frame, k.hold]));
        });
    """,
        workflow,
    )
    assert shown == [[k["x"], k["y"], k["frame"], k["hold"]] for k in ui_state["tracks"][0]["keypoints"]]
    assert not editor_errors(browser)


def test_a_track_the_node_would_refuse_shows_why_instead_of_a_path(browser):
    node_id, canvas = add_editor_node(browser)
    place_keypoints(browser, canvas, node_id)
    set_field(browser, "Keypoint frame", "10")
    click_at(browser, canvas, *CLICKS[1])
    set_field(browser, "Keypoint frame", "30")
    shown = browser.execute_script(
        """
        const editor = window.comfyAPI.app.app.graph.getNodeById(arguments[0]).worldkitEditor;
        return [editor.positionAt(0, 5), editor.root.querySelector(".worldkit-trajectory-error").textContent];
    """,
        node_id,
    )
    assert shown[0] is None
    assert "keypoint 2 is at frame 30 and the next one at 10" in shown[1]
    assert not editor_errors(browser)


def state_widget_shown(driver, node_id: int) -> bool:
    """Whether the raw editor_state text box (ComfyUI's multiline textarea) is on screen."""
    textarea = driver.execute_script(
        """
        const node = window.comfyAPI.app.app.graph.getNodeById(arguments[0]);
        return node.widgets.find((w) => w.name === "editor_state").element;
    """,
        node_id,
    )
    return textarea.is_displayed()


def test_the_raw_state_stays_behind_the_canvas_yet_is_saved_and_json_shows_it_for_editing(browser):
    node_id, canvas = add_editor_node(browser)
    click_at(browser, canvas, *CLICKS[0])
    assert not state_widget_shown(browser, node_id)
    ui_state, api_state, _ = saved_state(browser, node_id)
    assert ui_state == api_state and len(ui_state["tracks"][0]["keypoints"]) == 1
    json_button = browser.find_element(
        By.CSS_SELECTOR, '.worldkit-trajectory button[title^="Show or hide the drawing"]'
    )
    json_button.click()
    WebDriverWait(browser, 10).until(lambda d: state_widget_shown(d, node_id))
    textarea = next(t for t in browser.find_elements(By.CSS_SELECTOR, "textarea") if t.is_displayed())
    assert json.loads(textarea.get_attribute("value")) == ui_state
    typed = {"version": 1, "tracks": [{"name": "typed", "keypoints": [{"x": 0.5, "y": 0.25, "frame": None}]}]}
    textarea.clear()
    textarea.send_keys(json.dumps(typed))
    assert saved_state(browser, node_id)[:2] == (typed, typed)
    names = browser.execute_script(
        "return window.comfyAPI.app.app.graph.getNodeById(arguments[0]).worldkitEditor.state.tracks.map((t) => "
        "t.name);",
        node_id,
    )
    assert names == ["typed"], "the canvas shows what was typed"
    json_button.click()
    WebDriverWait(browser, 10).until(lambda d: not state_widget_shown(d, node_id))
    assert saved_state(browser, node_id)[0] == typed
    assert not editor_errors(browser)


def test_a_link_into_editor_state_shows_its_row_while_linked(browser):
    node_id, _ = add_editor_node(browser)
    link = """
        const [id, connect] = arguments;
        const app = window.comfyAPI.app.app;
        const node = app.graph.getNodeById(id);
        const slot = node.inputs.findIndex((i) => i.name === "editor_state");
        if (connect) {
            const importer = LiteGraph.createNode("WorldKitImportTracks");
            importer.pos = [700, 110];
            app.graph.add(importer);
            importer.connect(0, node, slot);
        } else {
            node.disconnectInput(slot);
        }
        app.canvas.setDirty(true, true);
    """
    browser.execute_script(link, node_id, True)
    WebDriverWait(browser, 10).until(lambda d: state_widget_shown(d, node_id))
    browser.execute_script(link, node_id, False)
    WebDriverWait(browser, 10).until(lambda d: not state_widget_shown(d, node_id))


def test_a_connected_load_image_becomes_the_canvas_background(browser, comfy):
    add_editor_node(browser)
    plate = forest_plate(comfy)
    source = browser.execute_async_script(
        """
        const [plate, done] = [arguments[0], arguments[arguments.length - 1]];
        const app = window.comfyAPI.app.app;
        const editor = app.graph._nodes.find((n) => n.type === "WorldKitTrajectoryKeypoints");
        const loader = LiteGraph.createNode("LoadImage");
        loader.pos = [700, 110];
        app.graph.add(loader);
        loader.widgets.find((w) => w.name === "image").value = plate;
        loader.widgets.find((w) => w.name === "image").callback?.(plate);
        loader.connect(0, editor, editor.inputs.findIndex((i) => i.name === "background"));
        const started = Date.now();
        const wait = () => {
            app.canvas.setDirty(true, true);
            const bg = editor.worldkitEditor.background;
            if (bg && editor.worldkitEditor.backgroundSrc.includes(plate)) done(bg.naturalWidth);
            else if (Date.now() - started > 20000) done(null);
            else setTimeout(wait, 100);
        };
        wait();
    """,
        plate,
    )
    assert source == 832
