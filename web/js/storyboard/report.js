// The storyboard's rows from a World Shot Sampler report, as models/sampling/storyboard.py builds them: a report
// dropped on the panel has no server behind it. Both builders are checked against tests/data/storyboard_fixtures.json
// (tests/js/storyboard.test.mjs, tests/core/test_storyboard.py): change a message or a number in both.

export const REPORT_FORMAT = "worldkit.shot_report";
export const REPORT_VERSION = 1;
export const STORYBOARD_VERSION = 1;
const COLOR_OFFSET_WARNING = 2.0;
const FAR_BELOW = 0.15;
const SHOT_FRAMES_FORMAT = "worldkit.shot_frames";

export class ReportError extends Error {}

const isInt = (v) => Number.isInteger(v);
const number = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const text = (v) => (typeof v === "string" ? v : null);
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

export function thumbnailFrames(count) {
  return count > 0 ? [...new Set([0, Math.floor(count / 2), count - 1])].sort((a, b) => a - b) : [];
}

export function parseReport(source) {
  let report;
  try {
    report = JSON.parse(source);
  } catch {
    throw new ReportError("This is not a World Shot Sampler report: the text is not JSON.");
  }
  return checkReport(report);
}

export function checkReport(report) {
  if (!isObject(report) || !Array.isArray(report.shots)) {
    throw new ReportError("This is not a World Shot Sampler report: it has no list of shots.");
  }
  if ((report.format ?? REPORT_FORMAT) !== REPORT_FORMAT) {
    throw new ReportError(`This is not a World Shot Sampler report: its format is not ${REPORT_FORMAT}.`);
  }
  const version = report.version ?? REPORT_VERSION;
  if (!isInt(version) || version < 1) throw new ReportError("The report is damaged: its version is not a whole number from 1.");
  if (version > REPORT_VERSION) {
    throw new ReportError(
      `This report is version ${version}, written by a newer WorldKit; this storyboard reads up to version ` +
        `${REPORT_VERSION}. Update WorldKit to open it.`,
    );
  }
  return report;
}

export function buildStoryboard(report) {
  checkReport(report);
  const boundaries = Array.isArray(report.boundaries) ? report.boundaries : [];
  const rows = report.shots.map((shot, position) => row(shot, position, boundaries[position]));
  flagFarBelow(rows);
  return {
    version: STORYBOARD_VERSION,
    model: text(report.model),
    seed: isInt(report.seed) ? report.seed : null,
    candidates: isInt(report.candidates) ? report.candidates : null,
    select: text(report.select),
    takes: text(report.takes),
    fps: number(report.fps),
    search: text(report.search),
    rows,
  };
}

function row(shot, position, boundary) {
  const label = `shot ${position + 1} of the report`;
  if (!isObject(shot)) throw new ReportError(`The report is damaged: ${label} is not an object.`);
  const candidates = shot.candidates;
  if (!Array.isArray(candidates) || !candidates.length || !candidates.every(isObject)) {
    throw new ReportError(`The report is damaged: ${label} has no candidates.`);
  }
  const chosen = shot.chosen;
  const numbers = candidates.map((c) => c.candidate);
  if (!numbers.every(isInt) || !isInt(chosen) || !numbers.includes(chosen + 1)) {
    throw new ReportError(`The report is damaged: ${label} does not say which of its candidates was kept.`);
  }
  if (!isInt(shot.frames) || shot.frames < 1) throw new ReportError(`The report is damaged: ${label} has no frame count.`);
  const kept = candidates[numbers.indexOf(chosen + 1)];
  const bleed = isInt(kept.reference_bleed_frames_dropped) ? kept.reference_bleed_frames_dropped : 0;
  const segments = (Array.isArray(kept.segments) ? kept.segments : []).filter(isObject);
  const early = earlyScores(shot.search);
  return {
    shot: isInt(shot.shot) ? shot.shot + 1 : position + 1,
    name: text(shot.name),
    prompt: text(shot.prompt),
    family: text(shot.family),
    frames: shot.frames,
    start: isObject(boundary) && isInt(boundary.start) ? boundary.start : null,
    chosen: chosen + 1,
    seed: isInt(kept.seed) ? kept.seed : null,
    score: number(kept.score),
    references: referenceScores(shot.entities, kept.scores),
    candidates: candidates.map((c) => candidate(c, c === kept, early)),
    seams: segments.filter((s) => isInt(s.start) && s.start > 0).map((s) => s.start - bleed),
    thumbnails: thumbnailFrames(shot.frames),
    warnings: warnings(bleed, segments),
  };
}

// Its final score, or its score at the check that stopped it; and its score at the last check it was judged at.
function candidate(c, chosen, early) {
  const pruned = isInt(c.pruned_at_step) ? c.pruned_at_step : null;
  const score = pruned === null ? number(c.score) : (early.get(`${pruned}:${c.candidate}`) ?? null);
  const judged = [...early.keys()].map((key) => key.split(":").map(Number)).filter(([, n]) => n === c.candidate);
  const last = judged.length ? Math.max(...judged.map(([step]) => step)) : null;
  return {
    candidate: c.candidate,
    seed: isInt(c.seed) ? c.seed : null,
    score,
    chosen,
    pruned_at_step: pruned,
    early_step: last,
    early_score: last === null ? null : early.get(`${last}:${c.candidate}`),
  };
}

// "step:candidate number" -> the candidate's early score at that check.
function earlyScores(search) {
  const found = new Map();
  const checks = isObject(search) && Array.isArray(search.checks) ? search.checks : [];
  for (const check of checks) {
    if (!isObject(check) || !isInt(check.step)) continue;
    (Array.isArray(check.early_scores) ? check.early_scores : []).forEach((value, index) => {
      if (number(value) !== null) found.set(`${check.step}:${index + 1}`, value);
    });
  }
  return found;
}

function referenceScores(entities, scores) {
  const references = isObject(scores) && Array.isArray(scores.references) ? scores.references : [];
  const scored = new Map();
  for (const entry of references) {
    if (isObject(entry) && typeof entry.name === "string") scored.set(entry.name, number(entry.identity));
  }
  const names = (Array.isArray(entities) ? entities : []).filter((n) => typeof n === "string");
  for (const name of scored.keys()) if (!names.includes(name)) names.push(name);
  return names.map((name) => ({ name, score: scored.get(name) ?? null }));
}

function warnings(bleed, segments) {
  const found = [];
  if (bleed > 0) found.push(`${bleed} leading frame(s) copied a reference view and were dropped`);
  for (const segment of segments) {
    const raw = number(segment.overlap_lab_offset_raw);
    const corrected = number(segment.overlap_lab_offset_corrected);
    if (raw !== null && raw >= COLOR_OFFSET_WARNING) {
      const after = corrected !== null ? `, ${corrected.toFixed(1)} after correction` : "";
      found.push(`colour offset ΔE ${raw.toFixed(1)} at the seam of segment ${segment.index}${after}`);
    }
  }
  return found;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function flagFarBelow(rows) {
  for (const r of rows) {
    const others = rows.filter((o) => o !== r && o.score !== null).map((o) => o.score);
    if (r.score === null || others.length < 2) continue;
    const m = median(others);
    if (r.score < m - FAR_BELOW) r.warnings.push(`score ${r.score.toFixed(3)} is far below the other shots' median ${m.toFixed(3)}`);
  }
}

// The report inside a shot-frames file (Save Shot Frames, a farm unit): safetensors keeps it in its JSON header,
// so the frames themselves are not read.
export function reportFromShotFrames(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const notOne = new ReportError("This file is neither a report (JSON) nor a WorldKit shot-frames file.");
  if (bytes.byteLength < 8) throw notOne;
  const length = Number(view.getBigUint64(0, true));
  if (length > bytes.byteLength - 8) throw notOne;
  let header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  } catch {
    throw notOne;
  }
  const metadata = isObject(header) && isObject(header.__metadata__) ? header.__metadata__ : {};
  if (metadata.format !== SHOT_FRAMES_FORMAT || typeof metadata.report !== "string") throw notOne;
  return metadata.report;
}
