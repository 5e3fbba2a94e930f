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
