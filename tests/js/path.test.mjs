// The editor's path maths (web/js/trajectory/path.js) against tests/data/path_fixtures.json, whose expected
// values the Python engine wrote (tools/path_fixtures.py). Run: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { EASINGS, INTERPOLATIONS, trackPath } from "../../web/js/trajectory/path.js";
import { COLORS, STATE_VERSION, SUBJECTS, emptyState, newTrack, parseState, serialiseState } from "../../web/js/trajectory/state.js";

const DATA = JSON.parse(readFileSync(new URL("../data/path_fixtures.json", import.meta.url), "utf8"));
const TOLERANCE = DATA.tolerance_px;

// [x, y, visible] of a fixture case's track at each of its times, or null where the editor refuses it.
function evaluate(c) {
  const path = trackPath(c.track, c.num_frames, c.width, c.height);
  return path.at ? c.times.map((t) => { const p = path.at(t); return [p.x, p.y, p.visible]; }) : null;
}

function mismatches(expected, actual) {
  if (expected === null || actual === null) {
    if (expected === actual) return [];
    return [actual === null ? "the track is refused, expected positions" : "the track is accepted, expected refused"];
  }
  if (expected.length !== actual.length) return [`${actual.length} samples, expected ${expected.length}`];
  return expected.flatMap(([ex, ey, ev], k) => {
    const [ax, ay, av] = actual[k];
    const close = Math.abs(ax - ex) <= TOLERANCE && Math.abs(ay - ey) <= TOLERANCE;
    return close && av === ev ? [] : [`sample ${k}: got (${ax}, ${ay}, ${av}), expected (${ex}, ${ey}, ${ev})`];
  });
}

test("the editor's constants are the engine's", () => {
  assert.deepEqual(
    { state_version: STATE_VERSION, easings: EASINGS, interpolations: INTERPOLATIONS, subjects: SUBJECTS, colors: COLORS },
    DATA.constants,
  );
});

for (const c of DATA.cases) {
  test(`path: ${c.name}`, () => {
    assert.deepEqual(mismatches(c.expected, evaluate(c)), []);
  });
}

test("a perturbed expected value is detected", () => {
  const c = DATA.cases.find((x) => x.expected);
  const actual = evaluate(c);
  const perturbed = structuredClone(c.expected);
  perturbed[0][0] += 10 * TOLERANCE;
  assert.notDeepEqual(mismatches(perturbed, actual), []);
  const hidden = structuredClone(c.expected);
  hidden[1][2] = !hidden[1][2];
  assert.notDeepEqual(mismatches(hidden, actual), []);
  assert.notDeepEqual(mismatches(null, actual), []);
});

test("refused tracks say why", () => {
  for (const c of DATA.cases.filter((x) => x.expected === null)) {
    assert.match(trackPath(c.track, c.num_frames, c.width, c.height).error, /\w/, c.name);
  }
});

test("the state round-trips through its text, leaving out tracks without keypoints", () => {
  const state = emptyState();
  state.tracks.push(...DATA.cases.map((c) => c.track), newTrack(state));
  const text = serialiseState(state);
  assert.deepEqual(parseState(text), { version: STATE_VERSION, tracks: DATA.cases.map((c) => c.track) });
  assert.equal(parseState("{not json"), null);
  assert.equal(parseState(JSON.stringify({ version: STATE_VERSION + 1, tracks: [] })), null);
});
