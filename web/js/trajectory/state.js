// The editor state: versioned JSON with coordinates as fractions of the frame (models/motion/formats.py reads it).
// Pure, no DOM: the constants must match the Python ones (tests/data/path_fixtures.json checks both sides).

export const STATE_VERSION = 1;
export const COLORS = ["#ff6f3c", "#3cb4ff", "#b8e986", "#f5a623", "#bd10e0", "#50e3c2", "#f8e71c", "#ff4f8b"];
export const SUBJECTS = ["point", "spread", "cluster", "mask"];

export function emptyState() {
  return { version: STATE_VERSION, tracks: [] };
}

// The state a text holds, or null when it is not JSON or not a version this editor reads.
export function parseState(text) {
  let data;
  try {
    data = JSON.parse(text || "{}");
  } catch {
    return null;
  }
  return data && data.version === STATE_VERSION && Array.isArray(data.tracks) ? data : null;
}

// The text to store: tracks without keypoints are left out (the node refuses them).
export function serialiseState(state) {
  const tracks = state.tracks.filter((t) => t.keypoints.length);
  return JSON.stringify({ version: STATE_VERSION, tracks }, null, 1);
}

export function newTrack(state) {
  const names = new Set(state.tracks.map((t) => t.name));
  let k = state.tracks.length + 1;
  while (names.has(`track ${k}`)) k++;
  return {
    name: `track ${k}`, color: COLORS[state.tracks.length % COLORS.length], subject: "point", points: 1,
    spread: 0.025, interpolation: "catmull_rom", anchor: false, keypoints: [],
  };
}

// A keypoint where the user clicked (x, y in 0..1), timed automatically.
export function newKeypoint(x, y) {
  return { x, y, frame: null, hold: 0, easing: "linear", visible: true };
}
