// What the storyboard panel holds: the latest run of one World Shot Sampler, each shot with its takes. A full run
// replaces the board; a run that rendered a selection of shots (a re-render) adds a take to each of those shots,
// beside the ones already there; a cut of chosen takes marks them current. Plain data, so tests/js checks it
// under node.

export function emptyBoard() {
  return { node: null, promptId: null, meta: null, views: {}, shots: [], runs: 0, error: null };
}

// "shot=2;candidate=1" or "shot=2:seed=24" as { shot: "2", candidate: "1" }.
const fields = (text, separator) =>
  Object.fromEntries(
    text
      .split(separator)
      .map((part) => part.split("=").map((s) => s.trim()))
      .filter((pair) => pair.length === 2),
  );

// What rendered a row of this run: the sampler seed (a cut names each shot's in `takes`) and, when the run kept one
// candidate of the shot (the "Same seed" re-render), that candidate.
function renderOf(storyboard, shot) {
  const take = (storyboard.takes ?? "")
    .split(",")
    .map((entry) => fields(entry, ":"))
    .find((entry) => Number(entry.shot) === shot);
  if (take) return { runSeed: Number(take.seed), candidate: take.candidate ? Number(take.candidate) : null };
  const { candidate } = fields(storyboard.select ?? "", ";");
  return { runSeed: storyboard.seed, candidate: candidate && !candidate.includes(",") ? Number(candidate) : null };
}

// One render of a shot, wherever it sits in a cut: its prompt and its candidates' seeds and scores.
const sameRender = (a, b) => JSON.stringify([a.row.prompt, a.row.candidates]) === JSON.stringify([b.row.prompt, b.row.candidates]);
// The same message again: a cached run sends its message again.
const sameMessage = (a, b) => JSON.stringify([a.row, a.frames]) === JSON.stringify([b.row, b.frames]);

// run: { node, promptId (the queued run's id), storyboard (report.js's buildStoryboard), frames: per row its thumbnails' image refs, views }
// A run of the board's sampler that rendered some shots (a re-render) adds their takes beside the others; a cut of
// chosen takes (`takes` set) makes each of its takes the shot's current one; any other run starts a new board.
export function addRun(board, run) {
  const { storyboard } = run;
  const takes = storyboard.rows.map((row, index) => ({
    row,
    frames: run.frames?.[index] ?? [],
    ...renderOf(storyboard, row.shot),
    select: storyboard.select ?? "",
    promptId: run.promptId ?? null,
    order: (board.runs ?? 0) + 1,
  }));
  const same = board.shots.length > 0 && board.node === run.node;
  const cut = same && !storyboard.select && Boolean(storyboard.takes);
  if (!cut && !(same && storyboard.select)) {
    const shots = takes.map((take) => ({ shot: take.row.shot, takes: [take], current: 0 }));
    const { node = null, promptId = null, views = {} } = run;
    return { node, promptId, meta: storyboard, views, shots, runs: 1, error: null };
  }
  const shots = board.shots.map((entry) => ({ ...entry, takes: [...entry.takes] }));
  for (const take of takes) {
    let entry = shots.find((s) => s.shot === take.row.shot);
    if (!entry) {
      entry = { shot: take.row.shot, takes: [], current: 0 };
      shots.push(entry);
    }
    let index = entry.takes.findIndex(cut ? (t) => sameRender(t, take) : (t) => sameMessage(t, take));
    if (index < 0) index = entry.takes.push(take) - 1;
    if (cut) entry.current = index;
  }
  shots.sort((a, b) => a.shot - b.shot);
  return { ...board, views: { ...board.views, ...run.views }, shots, runs: (board.runs ?? 0) + 1, error: null };
}

// A file that could not be read: its message above the rows already shown.
export function withError(board, message) {
  return { ...board, error: message };
}

export function chooseTake(board, shot, index) {
  return { ...board, shots: board.shots.map((entry) => (entry.shot === shot ? { ...entry, current: index } : entry)) };
}

// The queued run whose graph renders the cut: the newest run that made one of the current takes (a "Same seed" take
// may come from an edited graph; re-renders share the board's graph but for the sampler's inputs).
export function cutPromptId(board) {
  const current = board.shots.map(({ takes, current }) => takes[current]);
  return current.reduce((newest, take) => (take.order > newest.order ? take : newest), current[0])?.promptId ?? null;
}

// The sampler inputs that render the cut of the board's current takes: the board's run with `takes` naming each
// shot's take. The sampler's shot cache holds every take it rendered, so the cut renders nothing new.
export function cutInputs(board) {
  if (board.meta?.seed == null) return null;
  const takes = board.shots.map(({ shot, takes, current }) => {
    const { runSeed, candidate } = takes[current];
    return `shot=${shot}:seed=${runSeed}${candidate ? `:candidate=${candidate}` : ""}`;
  });
  return { seed: board.meta.seed, select: board.meta.select ?? "", takes: takes.join(",") };
}

// The sampler inputs that re-render one shot: only that shot selected, and either a new seed (each take moves the
// candidates' seeds past every earlier take's) or the current take's own seed with only its kept candidate.
export function rerenderInputs(board, shot, keepSeed) {
  const entry = board.shots.find((s) => s.shot === shot);
  if (!entry || board.meta?.seed == null) return null;
  const take = entry.takes[entry.current];
  if (keepSeed) return { select: `shot=${shot};candidate=${take.row.chosen}`, seed: take.runSeed, takes: "" };
  const candidates = board.meta.candidates ?? 1;
  return { select: `shot=${shot}`, seed: board.meta.seed + candidates * entry.takes.length, takes: "" };
}
