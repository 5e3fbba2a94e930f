// What the storyboard panel holds: the latest run of one World Shot Sampler, each shot with its takes. A full run
// replaces the board; a run that rendered a selection of shots (a re-render) adds a take to each of those shots,
// beside the ones already there. Plain data, so tests/js checks it under node.

export function emptyBoard() {
  return { node: null, promptId: null, meta: null, views: {}, shots: [], error: null };
}

// run: { node, promptId (the queued run's id), storyboard (report.js's buildStoryboard), frames: per row its thumbnails' image refs, views }
export function addRun(board, run) {
  const { storyboard } = run;
  const takes = storyboard.rows.map((row, index) => ({
    row,
    frames: run.frames?.[index] ?? [],
    runSeed: storyboard.seed,
    select: storyboard.select ?? "",
  }));
  const adds = Boolean(storyboard.select) && board.shots.length > 0 && board.node === run.node;
  if (!adds) {
    const shots = takes.map((take) => ({ shot: take.row.shot, takes: [take], current: 0 }));
    return { node: run.node ?? null, promptId: run.promptId ?? null, meta: storyboard, views: run.views ?? {}, shots, error: null };
  }
  const shots = board.shots.map((entry) => ({ ...entry, takes: [...entry.takes] }));
  for (const take of takes) {
    let entry = shots.find((s) => s.shot === take.row.shot);
    if (!entry) {
      entry = { shot: take.row.shot, takes: [], current: 0 };
      shots.push(entry);
    }
    const same = (t) => JSON.stringify([t.row, t.frames]) === JSON.stringify([take.row, take.frames]);
    if (!entry.takes.some(same)) entry.takes.push(take); // a cached run sends its message again
  }
  shots.sort((a, b) => a.shot - b.shot);
  return { ...board, views: { ...board.views, ...run.views }, shots, error: null };
}

// A file that could not be read: its message above the rows already shown.
export function withError(board, message) {
  return { ...board, error: message };
}

export function chooseTake(board, shot, index) {
  return { ...board, shots: board.shots.map((entry) => (entry.shot === shot ? { ...entry, current: index } : entry)) };
}

// The sampler inputs that re-render one shot: only that shot selected, and either a new seed (each take moves the
// candidates' seeds past every earlier take's) or the current take's own seed with only its kept candidate.
export function rerenderInputs(board, shot, keepSeed) {
  const entry = board.shots.find((s) => s.shot === shot);
  if (!entry || board.meta?.seed == null) return null;
  const take = entry.takes[entry.current];
  if (keepSeed) return { select: `shot=${shot};candidate=${take.row.chosen}`, seed: take.runSeed };
  const candidates = board.meta.candidates ?? 1;
  return { select: `shot=${shot}`, seed: board.meta.seed + candidates * entry.takes.length };
}
