"""The shipped UI workflows, both variants, in ComfyUI's real frontend (headless Chromium) against the test
server's fresh base folder: every node type is known, every input picture and track the demos load is served
(the pack placed them at start-up: no failed request), and the frontend's own graphToPrompt() queues exactly
what the API twins hold."""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

import pytest

from worldkit.demo_inputs import SUBFOLDER, demo_files
from worldkit.tools.authoring.films import WORKFLOWS
from worldkit.tools.authoring.variants import FAST, WAN22_5B

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FRONTEND_READY_S = 90
PREVIEWED_LOADERS = ("LoadImage", "LoadVideo")

pytestmark = pytest.mark.browser  # tests/conftest.py skips (or, in CI, fails) these without Chromium

LOAD_AND_CONVERT = """
const [workflow, expected, done] = arguments;
(async () => {
  try {
    performance.clearResourceTimings();
    await window.app.loadGraphData(workflow, true, true, null);
    const types = window.app.graph._nodes.map((node) => node.type);
    const unknown = types.filter((type) => !(type in LiteGraph.registered_node_types));
    const prompt = await window.app.graphToPrompt();
    const editors = window.app.graph._nodes.filter((node) => node.type === "WorldKitTrajectoryKeypoints");
    const shownStates = editors.filter((node) => !node.widgets.find((w) => w.name === "editor_state").hidden).length;
    // Let the loaders fetch their previews, then read every input-file request and how the server answered.
    const inputRequests = () => performance.getEntriesByType("resource")
      .filter((entry) => entry.name.includes("/view?") && entry.name.includes("type=input"));
    // Wait (up to 10 s) until the expected previews were asked for and no further request comes in.
    let count = -1;
    for (let i = 0; i < 40 && (count !== inputRequests().length || count < expected); i++) {
      count = inputRequests().length;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Media elements (the audio player) load in ranges and report no status: ask the server for those.
    const requests = await Promise.all(inputRequests().map(async (entry) => ({
      url: entry.name,
      status: entry.responseStatus || (await fetch(entry.name, {method: "HEAD"})).status,
    })));
    done({unknown, output: prompt.output, requests, shownStates});
  } catch (error) {
    done({error: String(error) + "\\n" + error.stack});
  }
})();
"""


@pytest.fixture(scope="module")
def frontend(comfy):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1600,1000",
    ):
        options.add_argument(argument)
    # A user past the first start: the frontend does not open the template browser by itself.
    finished = urllib.request.Request(comfy.base_url + "/settings/Comfy.TutorialCompleted", data=b"true", method="POST")
    urllib.request.urlopen(finished, timeout=30).close()
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(120)
    try:
        driver.get(comfy.base_url + "/")
        ready = "return !!(window.app && window.app.graph && Object.keys(LiteGraph.registered_node_types).length > 100)"
        WebDriverWait(driver, FRONTEND_READY_S).until(
            lambda d: d.execute_script(ready), "ComfyUI's frontend did not start"
        )
        yield driver
    finally:
        driver.quit()


def defined_inputs_only(prompt: dict, object_info: dict) -> dict:
    """Drop values of display-only widgets the frontend adds (e.g. Preview Any's text box): the server ignores them."""
    result = {}
    for node_id, entry in prompt.items():
        definition = object_info[entry["class_type"]]["input"]
        names = {name for section in ("required", "optional") for name in definition.get(section, {})}
        result[node_id] = {**entry, "inputs": {k: v for k, v in entry["inputs"].items() if k in names}}
    return result


def without_download_links(prompt: dict) -> dict:
    """The twin's `_meta.models` (download links from the UI file's properties) is not part of what is queued."""
    return {
        node_id: {**entry, "_meta": {k: v for k, v in entry.get("_meta", {}).items() if k != "models"}}
        for node_id, entry in prompt.items()
    }


def test_the_base_folder_holds_the_demo_inputs_the_pack_placed_there(comfy):
    placed = comfy.base_dir / "input" / SUBFOLDER
    for source in demo_files():
        assert (placed / source.name).read_bytes() == source.read_bytes()


def test_the_start_up_log_names_the_audio_demos_exactly_when_load_audio_did_not_load(comfy):
    """ComfyUI skips Load Audio without torchaudio; the pack's log line says which demos that stops and why."""
    log = comfy.log_path.read_text(errors="replace")
    warned = "monkey_music_video_fast cannot run on this ComfyUI" in log
    assert warned == ("LoadAudio" not in comfy.object_info())
    assert not warned or "install torchaudio into ComfyUI's environment" in log


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_frontend_loads_the_workflow_with_its_inputs_and_queues_its_api_twin(comfy, frontend, name):
    workflow = json.loads((WORKFLOWS_DIR / f"{name}.json").read_text())
    previewed = [node for node in workflow["nodes"] if node["type"] in PREVIEWED_LOADERS]
    answer = frontend.execute_async_script(LOAD_AND_CONVERT, workflow, len(previewed))
    assert "error" not in answer, answer.get("error")
    assert answer["unknown"] == [], f"node types missing in the frontend: {answer['unknown']}"
    assert answer["shownStates"] == 0, "the raw editor_state stays behind the canvas (it is still queued, below)"
    assert len(answer["requests"]) >= len(previewed) > 0, f"the previews were not requested: {answer['requests']}"
    failed = [r for r in answer["requests"] if not 200 <= r["status"] < 400]
    assert failed == [], f"input files the server could not serve: {failed}"
    twin = json.loads((WORKFLOWS_DIR / "api" / f"{name}.json").read_text())
    info = comfy.object_info()
    assert defined_inputs_only(answer["output"], info) == without_download_links(twin)


def test_a_missing_input_file_shows_up_as_a_failed_request(frontend):
    """Negative control: the request check above sees a picture the server does not have."""
    workflow = json.loads((WORKFLOWS_DIR / "lonely_little_flame_fast.json").read_text())
    loader = next(node for node in workflow["nodes"] if node["type"] == "LoadImage")
    loader["widgets_values"][0] = f"{SUBFOLDER}/not_placed.png"
    previewed = [node for node in workflow["nodes"] if node["type"] in PREVIEWED_LOADERS]
    answer = frontend.execute_async_script(LOAD_AND_CONVERT, workflow, len(previewed))
    failed = [r for r in answer["requests"] if not 200 <= r["status"] < 400]
    assert [r["url"] for r in failed if "not_placed.png" in r["url"]], answer["requests"]


def test_the_template_browser_lists_every_workflow_with_its_thumbnail(comfy):
    listed = comfy.get_json("/workflow_templates")
    assert set(WORKFLOWS) <= set(listed["worldkit"])
    for name in WORKFLOWS:
        url = f"{comfy.base_url}/api/workflow_templates/worldkit/{name}.jpg"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200 and response.read(3) == b"\xff\xd8\xff", name


@pytest.mark.parametrize(
    ("saved", "search", "custom"),
    [("2@0.2>1@0.4", "careful", None), ("3@0.1>1@0.3", "custom", "3@0.1>1@0.3")],
    ids=["preset_text", "other_text"],
)
def test_a_schedule_saved_in_the_search_text_box_loads_as_its_preset_or_as_custom(frontend, saved, search, custom):
    """A workflow saved while `search` was a text box (no search_custom after select): web/js/search_presets.js
    turns a text equal to a preset's schedule into that preset and any other text into custom, the text kept."""
    workflow = json.loads((WORKFLOWS_DIR / "the_herd.json").read_text())
    sampler = next(node for node in workflow["nodes"] if node["type"] == "WorldKitWorldShotSampler")
    *before, _search, select, default_custom, _takes, _switch_step = sampler["widgets_values"]  # the last widgets
    sampler["widgets_values"] = [*before, saved, select]  # search, select: the old layout
    answer = frontend.execute_async_script(LOAD_AND_CONVERT, workflow, 0)
    assert "error" not in answer, answer.get("error")
    inputs = answer["output"][str(sampler["id"])]["inputs"]
    assert (inputs["search"], inputs["select"]) == (search, select)
    assert inputs["search_custom"] == (custom if custom is not None else default_custom)


CLOSE_DIALOGS = """
document.querySelectorAll('.p-dialog-mask .p-dialog').forEach(
  (dialog) => dialog.querySelector('.p-dialog-close-button, button[aria-label="Close"]')?.click()
);
"""


def click_when_ready(driver, css: str, what: str, close_dialogs: bool = False):
    """Click the element once it is shown and nothing lies over it; with `close_dialogs`, dialogs an earlier
    step left open (a missing-models warning) are closed as a user would, with their close button."""
    from selenium.common.exceptions import ElementClickInterceptedException, NoSuchElementException
    from selenium.webdriver.support.ui import WebDriverWait

    def click(d) -> bool:
        try:
            d.find_element("css selector", css).click()
        except NoSuchElementException:
            return False
        except ElementClickInterceptedException:
            if close_dialogs:
                d.execute_script(CLOSE_DIALOGS)
            return False
        return True

    WebDriverWait(driver, 30).until(click, f"{what} ({css}) could not be clicked")


def open_worldkit_templates(frontend) -> None:
    """The ComfyUI logo's menu → Browse Templates → worldkit (under Extensions), as the README names it."""
    from selenium.webdriver.support.ui import WebDriverWait

    click_when_ready(frontend, ".comfy-menu-button-wrapper", "the ComfyUI logo's menu", close_dialogs=True)
    click_when_ready(frontend, '.p-tieredmenu-item[aria-label="Browse Templates"]', "Browse Templates")
    WebDriverWait(frontend, 30).until(
        lambda d: d.execute_script(
            "const item = [...document.querySelectorAll('[role=dialog] span')]"
            ".find((e) => e.textContent.trim() === 'worldkit');"
            "if (item) item.parentElement.click(); return !!item;"
        ),
        "the template browser lists no worldkit section",
    )


def test_a_template_opens_through_the_menu_path_the_readme_names(comfy, frontend):
    """README: the ComfyUI logo's menu → Browse Templates → worldkit (under Extensions) → the workflow."""
    from selenium.webdriver.support.ui import WebDriverWait

    readme = " ".join((WORKFLOWS_DIR.parent / "README.md").read_text().split())
    assert "open the menu under the ComfyUI logo (top left), choose *Browse Templates*, then *worldkit*" in readme
    name = "the_herd_fast"
    expected = sorted(node["type"] for node in json.loads((WORKFLOWS_DIR / f"{name}.json").read_text())["nodes"])
    frontend.execute_script("window.app.graph.clear()")
    open_worldkit_templates(frontend)
    click_when_ready(frontend, f'[data-testid="template-workflow-{name}"]', f"the {name} template")
    loaded = "return window.app.graph._nodes.map((node) => node.type).sort()"
    WebDriverWait(frontend, 60).until(lambda d: d.execute_script(loaded) == expected, f"{name} did not open")


TEMPLATE_CARDS = """
return [...document.querySelectorAll('[role=dialog] [data-testid^="template-workflow-"]')].map((card) => ({
  name: card.dataset.testid.replace("template-workflow-", ""),
  title: card.querySelector("h3")?.textContent.trim(),
  description: card.querySelector("p")?.textContent.trim(),
}));
"""


def test_the_template_browser_lists_the_small_gpu_variants_first_each_by_its_file_name(frontend):
    """The browser's default order keeps the server's, which is the filesystem's: web/js/template_order.js puts
    the fast variants first, then the Wan 2.2 5B ones. For a custom pack's template the frontend shows the file
    name as the title and, with "_" as spaces, as the description (it reads no other text for them); the thumbnail
    (served: see the test above; drawn: tests/core) says what the film is."""
    from selenium.webdriver.support.ui import WebDriverWait

    open_worldkit_templates(frontend)
    WebDriverWait(frontend, 30).until(
        lambda d: len(d.execute_script(TEMPLATE_CARDS)) == len(WORKFLOWS), "the worldkit templates did not show"
    )
    cards = frontend.execute_script(TEMPLATE_CARDS)
    frontend.execute_script(CLOSE_DIALOGS)
    fast, small = (sorted(name for name, (_, v) in WORKFLOWS.items() if v is variant) for variant in (FAST, WAN22_5B))
    assert [card["name"] for card in cards] == fast + small + sorted(set(WORKFLOWS) - set(fast) - set(small))
    for card in cards:
        assert card["title"] == card["name"]
        assert card["description"] == card["name"].replace("_", " ")
