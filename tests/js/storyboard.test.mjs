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
import { addRun, chooseTake, emptyBoard, rerenderInputs, withError } from "../../web/js/storyboard/takes.js";

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
  assert.deepEqual(rerenderInputs(full, 3, false), { select: "shot=3", seed: 7 + 3 });
  assert.deepEqual(rerenderInputs(full, 3, true), { select: "shot=3;candidate=3", seed: 7 });
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
