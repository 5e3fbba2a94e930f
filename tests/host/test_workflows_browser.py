"""The shipped UI workflows in ComfyUI's real frontend (headless Chromium): every node type is known, and the
frontend's own graphToPrompt() queues exactly what the API twins hold."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from worldkit.tools.authoring.films import FILMS

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FRONTEND_READY_S = 90

pytestmark = pytest.mark.browser  # tests/conftest.py skips (or, in CI, fails) these without Chromium

LOAD_AND_CONVERT = """
const [workflow, done] = arguments;
(async () => {
  try {
    await window.app.loadGraphData(workflow, true, true, null);
    const types = window.app.graph._nodes.map((node) => node.type);
    const unknown = types.filter((type) => !(type in LiteGraph.registered_node_types));
    const prompt = await window.app.graphToPrompt();
    done({unknown, output: prompt.output});
  } catch (error) {
    done({error: String(error) + "\\n" + error.stack});
  }
})();
"""


@pytest.fixture(scope="module")
def frontend(comfy):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

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
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(120)
    try:
        driver.get(comfy.base_url + "/")
        deadline = time.monotonic() + FRONTEND_READY_S
        ready = "return !!(window.app && window.app.graph && Object.keys(LiteGraph.registered_node_types).length > 100)"
        while not driver.execute_script(ready):
            assert time.monotonic() < deadline, "ComfyUI's frontend did not start"
            time.sleep(0.5)
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


@pytest.mark.parametrize("name", sorted(FILMS))
def test_frontend_loads_the_workflow_and_queues_its_api_twin(comfy, frontend, name):
    workflow = json.loads((WORKFLOWS_DIR / f"{name}.json").read_text())
    answer = frontend.execute_async_script(LOAD_AND_CONVERT, workflow)
    assert "error" not in answer, answer.get("error")
    assert answer["unknown"] == [], f"node types missing in the frontend: {answer['unknown']}"
    twin = json.loads((WORKFLOWS_DIR / "api" / f"{name}.json").read_text())
    info = comfy.object_info()
    assert defined_inputs_only(answer["output"], info) == twin
