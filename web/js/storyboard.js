// The storyboard: a bottom-panel tab that shows World Shot Sampler runs shot by shot (storyboard/panel.js), fed by
// the node's `executed` message (nodes/sampling/storyboard_preview.py) or by a report file dropped on it, and while
// it renders by its `worldkit.storyboard.live` messages (nodes/runtime/live_storyboard.py). Its buttons queue this
// graph again with one shot selected (a new take lands beside the old one) or with the chosen takes (the cut).
import { api } from "../../../scripts/api.js";
import { app } from "../../../scripts/app.js";
import { StoryboardPanel } from "./storyboard/panel.js";
import { ReportError, buildStoryboard, parseReport, reportFromShotFrames } from "./storyboard/report.js";
import { emptyLive, liveEvent } from "./storyboard/live.js";
import { addRun, chooseTake, cutInputs, cutPromptId, emptyBoard, rerenderInputs, withError } from "./storyboard/takes.js";

const TAB_ID = "worldkit-storyboard";
const MESSAGE_KEY = "worldkit_storyboard";
const LIVE_EVENT = "worldkit.storyboard.live";

let board = emptyBoard();
let live = emptyLive();
const panel = new StoryboardPanel({ rerender, choose, file: openFile });

function show(next) {
  board = next;
  panel.render(board);
}

function showError(error) {
  show(withError(board, error instanceof ReportError ? error.message : `The storyboard could not do that: ${error}`));
}

// The graph exactly as the board's full run queued it (ComfyUI's history keeps it), so every other node's inputs,
// and so its cached output, stay as they were; null when the server no longer holds that run.
async function queuedGraph(promptId) {
  const response = await api.fetchApi(`/history/${encodeURIComponent(promptId)}`);
  const entry = response.ok ? (await response.json())[promptId] : null;
  return entry ? { output: entry.prompt[2], workflow: entry.prompt[3]?.extra_pnginfo?.workflow } : null;
}

// Queue a run's graph (or, with no run, the graph as it is now) with the board's sampler inputs changed.
async function queueWith(promptId, inputs) {
  const prompt = promptId ? await queuedGraph(promptId) : await app.graphToPrompt();
  const sampler = prompt?.output[board.node];
  if (!inputs || !sampler) throw new ReportError("The World Shot Sampler of this storyboard is no longer in the graph.");
  Object.assign(sampler.inputs, inputs);
  await api.queuePrompt(0, prompt);
}

// A new take: the run's own graph on new seeds. The kept seed: the graph as it is now (an edited prompt, say).
async function rerender(shot, keepSeed) {
  try {
    await queueWith(keepSeed ? null : board.promptId, rerenderInputs(board, shot, keepSeed));
  } catch (error) {
    showError(error);
  }
}

// The chosen take joins the cut: the graph queued with every shot's current take; the sampler reuses the shots it
// has rendered, so nothing is sampled again.
async function choose(shot, index) {
  show(chooseTake(board, shot, index));
  if (!board.node) return;
  try {
    await queueWith(cutPromptId(board), cutInputs(board));
  } catch (error) {
    showError(error);
  }
}

// A report (JSON) or a shot-frames file (its report sits in the safetensors header).
async function openFile(file) {
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const shotFrames = file.name.toLowerCase().endsWith(".safetensors");
    const text = shotFrames ? reportFromShotFrames(bytes) : new TextDecoder().decode(bytes);
    show(addRun(board, { node: null, storyboard: buildStoryboard(parseReport(text)), frames: [], views: {} }));
  } catch (error) {
    showError(error);
  }
}

app.registerExtension({
  name: "WorldKit.Storyboard",
  bottomPanelTabs: [
    {
      id: TAB_ID,
      title: "Storyboard",
      type: "custom",
      render: (container) => container.append(panel.root),
    },
  ],
  setup() {
    panel.render(board);
    api.addEventListener(LIVE_EVENT, ({ detail }) => {
      live = liveEvent(live, detail);
      panel.renderLive(live);
    });
    api.addEventListener("executed", ({ detail }) => {
      const message = detail?.output?.[MESSAGE_KEY]?.[0];
      if (!message) return;
      const { storyboard, frames, views } = message;
      show(addRun(board, { node: String(detail.node), promptId: detail.prompt_id, storyboard, frames, views }));
    });
  },
});
