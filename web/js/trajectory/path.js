// Path maths of one drawn track: the curves of models/motion/path.py, for the scrubber preview.
// Pure functions (no DOM, no ComfyUI), so node's test runner checks them against the Python engine
// with tests/data/path_fixtures.json. Keep the two in step: Python renders the real tracks.

export const EASINGS = ["linear", "ease_in", "ease_out", "ease_in_out", "hold"];
export const INTERPOLATIONS = ["linear", "catmull_rom", "bezier"];

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
// A field with its default as the engine reads JSON (dict.get): only a missing key takes the default, not null.
const field = (obj, key, fallback) => (obj[key] === undefined ? fallback : obj[key]);

// Eased progress of linear progress u (clipped to 0..1); the curves match ComfyUI's GenerateTracks.
export function ease(name, u) {
  u = Math.min(1, Math.max(0, u));
  switch (name) {
    case "linear": return u;
    case "ease_in": return u * u;
    case "ease_out": return 1 - (1 - u) * (1 - u);
    case "ease_in_out": return u * u * (3 - 2 * u);
    case "hold": return u >= 1 ? 1 : 0;
    default: throw new RangeError(`unknown easing ${JSON.stringify(name)}; use one of ${EASINGS.join(", ")}`);
  }
}

// Visibility as the engine reads it: a missing flag means visible, any other value counts by truthiness.
export function isVisible(kp) {
  return Boolean(field(kp, "visible", true));
}

// The frame of every keypoint: given frames kept; a missing first frame is 0, a missing last one the clip's
// last frame, and interior gaps are timed at constant speed along the straight lines between keypoints
// (evenly where keypoints (nearly) coincide). `pts` are the keypoints in pixels.
export function resolveFrames(pts, kps, numFrames) {
  const frames = kps.map((k) => (k.frame === null || k.frame === undefined ? null : Number(k.frame)));
  if (frames[0] === null) frames[0] = 0;
  if (frames.length > 1 && frames[frames.length - 1] === null) frames[frames.length - 1] = numFrames - 1;
  let a = 0;
  for (let b = 1; b < frames.length; b++) {
    if (frames[b] === null) continue;
    if (b - a >= 2) {
      const steps = [];
      for (let i = a; i < b; i++) steps.push(Math.hypot(pts[i + 1][0] - pts[i][0], pts[i + 1][1] - pts[i][1]));
      const total = steps.reduce((s, v) => s + v, 0);
      const distinct = total > 0 && steps.every((v) => v >= 1e-3 * total / steps.length);
      let run = 0;
      for (let k = a + 1; k < b; k++) {
        run += steps[k - a - 1];
        const share = distinct ? run / total : (k - a) / (b - a);
        frames[k] = frames[a] + (frames[b] - frames[a]) * share;
      }
    }
    a = b;
  }
  return frames;
}

// Why the engine would refuse to read this keypoint (formats.py's _parse_keypoint), or null.
export function keypointError(kp) {
  if (!kp || typeof kp !== "object") return "is not an object with x, y and frame";
  if (!isNumber(kp.x) || kp.x < 0 || kp.x > 1) return `has x ${JSON.stringify(kp.x)}, outside 0..1`;
  if (!isNumber(kp.y) || kp.y < 0 || kp.y > 1) return `has y ${JSON.stringify(kp.y)}, outside 0..1`;
  if (!(kp.frame === null || kp.frame === undefined || isNumber(kp.frame))) return "has a frame that is not a number";
  if (!isNumber(field(kp, "hold", 0))) return "has a hold that is not a number";
  if (!EASINGS.includes(field(kp, "easing", "linear"))) return `has unknown easing ${JSON.stringify(kp.easing)}`;
  for (const side of ["in", "out"]) {
    const handle = kp[side];
    if (handle != null && !(Array.isArray(handle) && handle.length === 2 && handle.every(isNumber))) {
      return `has an '${side}' handle that is not [dx, dy]`;
    }
  }
  return null;
}

// Why the engine would refuse this timing (path.py's _check_timing), or null.
export function timingError(kps, frames, numFrames) {
  const last = numFrames - 1;
  for (let i = 0; i < kps.length; i++) {
    const frame = frames[i], hold = field(kps[i], "hold", 0);
    const where = `keypoint ${i + 1}`;
    if (frame < 0 || frame > last) return `${where} is at frame ${frame}, outside the clip's frames 0..${last}`;
    if (hold < 0) return `${where} has a negative hold`;
    if (i + 1 < kps.length) {
      if (frames[i + 1] <= frame) return `${where} is at frame ${frame} and the next one at ${frames[i + 1]}; frames must increase`;
      if (frame + hold > frames[i + 1]) return `${where} holds past the next keypoint at frame ${frames[i + 1]}`;
    }
  }
  return null;
}

// Control points [p1, c1, c2, p2] of the cubic Bézier joining each pair of keypoints (pixels).
// Catmull-Rom is centripetal; Bézier handles (`in`/`out`, fractions of the frame) replace its controls.
export function bezierControls(pts, kps, interpolation, w, h) {
  const n = pts.length;
  const segs = [];
  if (n < 2) return segs;
  const padded = [[2 * pts[0][0] - pts[1][0], 2 * pts[0][1] - pts[1][1]], ...pts,
    [2 * pts[n - 1][0] - pts[n - 2][0], 2 * pts[n - 1][1] - pts[n - 2][1]]];
  const knots = [0];
  for (let i = 1; i < padded.length; i++) {
    const d = Math.hypot(padded[i][0] - padded[i - 1][0], padded[i][1] - padded[i - 1][1]);
    knots.push(knots[i - 1] + Math.max(Math.sqrt(d), 1e-6));
  }
  for (let i = 0; i < n - 1; i++) {
    const p1 = pts[i], p2 = pts[i + 1];
    let c1, c2;
    if (interpolation === "linear") {
      c1 = [p1[0] + (p2[0] - p1[0]) / 3, p1[1] + (p2[1] - p1[1]) / 3];
      c2 = [p2[0] - (p2[0] - p1[0]) / 3, p2[1] - (p2[1] - p1[1]) / 3];
    } else {
      const p0 = padded[i], p3 = padded[i + 3];
      const [t0, t1, t2, t3] = [knots[i], knots[i + 1], knots[i + 2], knots[i + 3]];
      const m1 = (d) => (t2 - t1) * ((p1[d] - p0[d]) / (t1 - t0) - (p2[d] - p0[d]) / (t2 - t0) + (p2[d] - p1[d]) / (t2 - t1));
      const m2 = (d) => (t2 - t1) * ((p2[d] - p1[d]) / (t2 - t1) - (p3[d] - p1[d]) / (t3 - t1) + (p3[d] - p2[d]) / (t3 - t2));
      c1 = [p1[0] + m1(0) / 3, p1[1] + m1(1) / 3];
      c2 = [p2[0] - m2(0) / 3, p2[1] - m2(1) / 3];
      if (interpolation === "bezier") {
        if (kps[i].out) c1 = [p1[0] + kps[i].out[0] * w, p1[1] + kps[i].out[1] * h];
        if (kps[i + 1].in) c2 = [p2[0] + kps[i + 1].in[0] * w, p2[1] + kps[i + 1].in[1] * h];
      }
    }
    segs.push([p1, c1, c2, p2]);
  }
  return segs;
}

export function bezierAt(seg, u) {
  const v = 1 - u;
  const b = [v * v * v, 3 * v * v * u, 3 * v * u * u, u * u * u];
  return [0, 1].map((d) => b[0] * seg[0][d] + b[1] * seg[1][d] + b[2] * seg[2][d] + b[3] * seg[3][d]);
}

// A track's evaluator on a w x h frame: `at(t)` is its position (pixels) and visibility at frame t, as the
// node computes it; `error` says why the node would refuse the track (then `at` is null).
export function trackPath(track, numFrames, w, h) {
  const refuse = (error) => ({ error, at: null });
  const interpolation = field(track, "interpolation", "catmull_rom");
  if (!INTERPOLATIONS.includes(interpolation)) return refuse(`unknown interpolation ${JSON.stringify(interpolation)}`);
  if (!track.keypoints?.length) return refuse("the track has no keypoints");
  for (const [i, kp] of track.keypoints.entries()) {
    const error = keypointError(kp);
    if (error) return refuse(`keypoint ${i + 1} ${error}`);
  }
  // An anchor stays at its first keypoint: the others are read but take no part in its path.
  const kps = track.anchor ? track.keypoints.slice(0, 1) : track.keypoints;
  const pts = kps.map((k) => [k.x * w, k.y * h]);
  const frames = resolveFrames(pts, kps, numFrames);
  const error = timingError(kps, frames, numFrames);
  if (error) return refuse(error);
  const segs = bezierControls(pts, kps, interpolation, w, h);
  const last = kps.length - 1;
  const at = (t) => {
    if (last === 0 || t >= frames[last]) return { x: pts[last][0], y: pts[last][1], visible: isVisible(kps[last]) };
    let i = 0;
    while (i < last - 1 && t >= frames[i + 1]) i++;
    const start = frames[i] + field(kps[i], "hold", 0);
    const span = frames[i + 1] - start;
    const u = ease(field(kps[i], "easing", "linear"), span > 0 ? (t - start) / span : 0);
    const [x, y] = bezierAt(segs[i], u);
    return { x, y, visible: isVisible(kps[i]) };
  };
  return { error: null, at };
}
