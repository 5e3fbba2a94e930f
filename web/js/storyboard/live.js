// The storyboard's live view of a World Shot Sampler render (nodes/runtime/live_storyboard.py sends it): each
// shot's candidates as small previews (the search's early decodes at each check, the kept frames when done), the
// survivors of each check, and the progress of the whole list. Plain data, so tests/js checks it under node.

export function emptyLive() {
  return { promptId: null, node: null, progress: null, shots: [] };
}

const candidate = (seed) => ({ seed, preview: null, state: "sampling", step: null, early: null });

// detail: one `worldkit.storyboard.live` message: { node, prompt_id, event, shot, progress, previews, … }.
export function liveEvent(live, detail) {
  const next =
    detail.prompt_id === live.promptId
      ? { ...live, shots: live.shots.map((s) => ({ ...s, candidates: s.candidates.map((c) => ({ ...c })) })) }
      : { ...emptyLive(), promptId: detail.prompt_id, node: detail.node == null ? null : String(detail.node) };
  next.progress = detail.progress ?? next.progress;
  const previews = detail.previews ?? {};
  if (detail.event === "shot") {
    next.shots = next.shots.filter((s) => s.shot !== detail.shot);
    next.shots.push({ shot: detail.shot, candidates: detail.seeds.map(candidate), checks: 0, done: false, cached: false });
    return next;
  }
  const shot = next.shots.find((s) => s.shot === detail.shot);
  if (!shot) return next;
  for (const [index, url] of Object.entries(previews)) {
    if (shot.candidates[index]) shot.candidates[index].preview = url;
  }
  if (detail.event === "check") {
    shot.checks += 1;
    detail.early_scores.forEach((score, index) => {
      if (score === null || !shot.candidates[index]) return;
      const c = shot.candidates[index];
      Object.assign(c, { early: score, step: detail.step, state: detail.survivors.includes(index) ? "survivor" : "pruned" });
    });
  } else if (detail.event === "done") {
    Object.assign(shot, { done: true, cached: Boolean(detail.cached) });
    shot.candidates.forEach((c, index) => {
      if (index === detail.chosen) c.state = "kept";
      else if (c.state !== "pruned") c.state = "not kept";
    });
  }
  return next;
}

// "shot 2 of the list · 12 of 30 steps (40 %)"; the whole list's progress in sampler steps.
export function progressText(live) {
  const { done = 0, total = 1 } = live.progress ?? {};
  const current = live.shots.at(-1);
  const percent = Math.round((100 * done) / Math.max(total, 1));
  return `${current ? `shot ${current.shot} · ` : ""}${done} of ${total} steps (${percent} %)`;
}
