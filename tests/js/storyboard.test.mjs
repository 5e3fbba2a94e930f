// The storyboard builder (web/js/storyboard/report.js) against tests/data/storyboard_fixtures.json, whose expected
// storyboards and messages the Python engine wrote (tools/storyboard_fixtures.py). Run: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  REPORT_FORMAT,
  REPORT_VERSION,
  ReportError,
  STORYBOARD_VERSION,
  buildStoryboard,
  parseReport,
  reportFromShotFrames,
} from "../../web/js/storyboard/report.js";
import { emptyLive, liveEvent, progressText } from "../../web/js/storyboard/live.js";
import { addRun, chooseTake, cutInputs, cutPromptId, emptyBoard, rerenderInputs, withError } from "../../web/js/storyboard/takes.js";

const DATA = JSON.parse(readFileSync(new URL("../data/storyboard_fixtures.json", import.meta.url), "utf8"));

function evaluate(c) {
  try {
    return { storyboard: buildStoryboard(parseReport(c.text)) };
  } catch (error) {
    if (!(error instanceof ReportError)) throw error;
    return { error: error.message };
  }
}

test("the builder's constants are the engine's", () => {
  assert.deepEqual(
    { report_format: REPORT_FORMAT, report_version: REPORT_VERSION, storyboard_version: STORYBOARD_VERSION },
    DATA.constants,
  );
});

for (const c of DATA.cases) {
  test(`storyboard: ${c.name}`, () => {
    assert.deepEqual(evaluate(c), c.expected);
  });
}

// A shot-frames file as safetensors lays it out: an 8-byte header length, the JSON header, then the tensor bytes.
function shotFrames(metadata) {
  const header = new TextEncoder().encode(
    JSON.stringify({ __metadata__: metadata, frames: { dtype: "F32", shape: [1, 1, 1, 3], data_offsets: [0, 12] } }),
  );
  const bytes = new Uint8Array(8 + header.length + 12);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  return bytes;
}

test("a shot-frames file gives the report in its header", () => {
  const report = DATA.cases[0].text;
  assert.equal(reportFromShotFrames(shotFrames({ format: "worldkit.shot_frames", report, sha256: "0" })), report);
  assert.throws(() => reportFromShotFrames(shotFrames({ format: "other", report })), /neither a report/);
  assert.throws(() => reportFromShotFrames(new Uint8Array([200, 0, 0, 0, 0, 0, 0, 0, 123])), /neither a report/);
});

const storyboardOf = (name) => buildStoryboard(parseReport(DATA.cases.find((c) => c.name === name).text));
const FULL = "a searched three-shot run with a long shot and a weak shot";
const THIRD = "a run that rendered only the third shot";

test("a re-render of one shot adds a take to that shot only; a full run replaces the board", () => {
  const full = addRun(emptyBoard(), { node: "5", storyboard: storyboardOf(FULL), frames: [[1], [2], [3]], views: {} });
  assert.deepEqual(rerenderInputs(full, 3, false), { select: "shot=3", seed: 7 + 3, takes: "" });
  assert.deepEqual(rerenderInputs(full, 3, true), { select: "shot=3;candidate=3", seed: 7, takes: "" });
  const again = addRun(full, { node: "5", storyboard: storyboardOf(THIRD), frames: [[9]], views: {} });
  assert.deepEqual(again.shots.map((s) => s.takes.length), [1, 1, 2]);
  assert.deepEqual(again.shots.slice(0, 2), full.shots.slice(0, 2));
  assert.deepEqual(again.shots[2].takes[1].frames, [9]);
  const cached = addRun(again, { node: "5", storyboard: storyboardOf(THIRD), frames: [[9]], views: {} });
  assert.deepEqual(cached.shots.map((s) => s.takes.length), [1, 1, 2], "a cached run's message adds no take");
  assert.equal(again.shots[2].current, 0, "the new take waits beside the old one until chosen");
  assert.deepEqual(rerenderInputs(again, 3, false).seed, 7 + 2 * 3, "each take moves past every earlier take's seeds");
  assert.equal(chooseTake(again, 3, 1).shots[2].current, 1);
  const other = addRun(again, { node: "9", storyboard: storyboardOf(THIRD), frames: [[9]], views: {} });
  assert.deepEqual(other.shots.map((s) => s.shot), [3], "another sampler's run starts a new board");
  const rerun = addRun(again, { node: "5", storyboard: storyboardOf(FULL), frames: [[1], [2], [3]], views: {} });
  assert.deepEqual(rerun.shots.map((s) => s.takes.length), [1, 1, 1]);
});

test("a file that cannot be read keeps the rows and shows why", () => {
  const full = addRun(emptyBoard(), { node: "5", storyboard: storyboardOf(FULL), frames: [], views: {} });
  const failed = withError(full, "This report is version 2");
  assert.equal(failed.error, "This report is version 2");
  assert.equal(failed.shots, full.shots);
  assert.equal(addRun(failed, { node: "5", storyboard: storyboardOf(FULL) }).error, null);
});

const CUT = "a cut of chosen takes";
const reportOf = (name) => JSON.parse(DATA.cases.find((c) => c.name === name).text);
const boardOf = (report) => buildStoryboard(parseReport(JSON.stringify(report)));
// The third shot rendered again with sampler seed 10: its candidates' seeds 10, 11, 12.
function retakeShot() {
  const shot = reportOf(THIRD).shots[0];
  return { ...shot, seeds: [10, 11, 12], candidates: shot.candidates.map((c, index) => ({ ...c, seed: 10 + index })) };
}

test("choosing a take queues the cut of the current takes, and the cut's message marks them current", () => {
  const full = addRun(emptyBoard(), { node: "5", promptId: "a", storyboard: storyboardOf(FULL), frames: [[1], [2], [3]], views: {} });
  assert.deepEqual(cutInputs(full), { seed: 7, select: "", takes: "shot=1:seed=7,shot=2:seed=7,shot=3:seed=7" });
  const retake = boardOf({ ...reportOf(THIRD), seed: 10, shots: [retakeShot()] });
  const two = addRun(full, { node: "5", promptId: "c", storyboard: retake, frames: [[8]], views: {} });
  const chosen = chooseTake(two, 3, 1);
  assert.deepEqual(cutInputs(chosen), { seed: 7, select: "", takes: "shot=1:seed=7,shot=2:seed=7,shot=3:seed=10" });
  assert.equal(cutPromptId(chosen), "c", "the newest run behind a current take gives the graph");
  assert.equal(cutPromptId(full), "a");
  const third = reportOf(THIRD);
  const one = { ...third.shots[0], candidates: [third.shots[0].candidates[1]], chosen: 1 };
  const kept = boardOf({ ...third, select: "shot=3;candidate=2", shots: [one] });
  const same = addRun(full, { node: "5", promptId: "d", storyboard: kept, frames: [[7]], views: {} });
  assert.equal(cutInputs(chooseTake(same, 3, 1)).takes.split(",")[2], "shot=3:seed=7:candidate=2", "a kept-seed take keeps its candidate");
  // The cut's own message: each row is a take the board holds (new thumbnails); it becomes current, none is added.
  const takes = "shot=1:seed=7,shot=2:seed=7,shot=3:seed=10";
  const cutRun = boardOf({ ...reportOf(FULL), takes, shots: [...reportOf(FULL).shots.slice(0, 2), retakeShot()] });
  const cut = addRun(two, { node: "5", promptId: "e", storyboard: cutRun, frames: [[4], [5], [6]], views: {} });
  assert.deepEqual(cut.shots.map((s) => s.takes.length), [1, 1, 2]);
  assert.deepEqual(cut.shots.map((s) => s.current), [0, 0, 1]);
  assert.equal(cut.meta, full.meta, "the board stays the full run's");
  assert.equal(cut.shots[2].takes[1].runSeed, 10);
  assert.equal(storyboardOf(CUT).takes, takes);
});

test("the live view shows each check's previews and survivors, each shot's kept candidate and the list's progress", () => {
  const base = { node: 5, prompt_id: "p", progress: { done: 0, total: 20 } };
  let live = liveEvent(emptyLive(), { ...base, event: "shot", shot: 1, seeds: [21, 22, 23], previews: {} });
  live = liveEvent(live, {
    ...base,
    event: "check",
    shot: 1,
    step: 1,
    early_scores: [0.5, 0.7, 0.6],
    survivors: [1, 2],
    previews: { 0: "data:a", 1: "data:b", 2: "data:c" },
    progress: { done: 3, total: 20 },
  });
  assert.deepEqual(live.shots[0].candidates.map((c) => [c.state, c.preview, c.step]), [
    ["pruned", "data:a", 1],
    ["survivor", "data:b", 1],
    ["survivor", "data:c", 1],
  ]);
  live = liveEvent(live, { ...base, event: "check", shot: 1, step: 2, early_scores: [null, 0.7, 0.8], survivors: [2], previews: { 1: "data:d", 2: "data:e" } });
  live = liveEvent(live, { ...base, event: "done", shot: 1, chosen: 2, cached: false, previews: { 2: "data:f" }, progress: { done: 7, total: 20 } });
  assert.deepEqual(live.shots[0].candidates.map((c) => [c.state, c.preview, c.step]), [
    ["pruned", "data:a", 1],
    ["pruned", "data:d", 2],
    ["kept", "data:f", 2],
  ]);
  assert.equal(progressText(live), "shot 1 · 7 of 20 steps (35 %)");
  live = liveEvent(live, { ...base, event: "shot", shot: 2, seeds: [25], previews: {} });
  live = liveEvent(live, { ...base, event: "done", shot: 2, chosen: 0, cached: true, previews: { 0: "data:g" } });
  assert.deepEqual(live.shots.map((s) => [s.shot, s.done, s.cached]), [[1, true, false], [2, true, true]]);
  const next = liveEvent(live, { ...base, prompt_id: "q", event: "shot", shot: 2, seeds: [1], previews: {} });
  assert.deepEqual(next.shots.map((s) => s.shot), [2], "a new render starts a new live view");
  assert.equal(next.node, "5");
});
