// The storyboard panel's DOM: one row per shot with its takes (first, middle and last frame), the kept candidate's
// score against each entity beside that entity's view, the other candidates greyed with their scores and the step
// the search stopped them at, seams and warnings, and the buttons that re-render one shot or pick a take.
import { el, viewUrl } from "../trajectory/dom.js";
import { progressText } from "./live.js";

const STYLE = `
.worldkit-storyboard { font: 12px sans-serif; color: var(--fg-color, #ddd); padding: 8px; overflow: auto; height: 100%;
  box-sizing: border-box; }
.worldkit-storyboard-head { display: flex; gap: 12px; align-items: center; margin-bottom: 8px; flex-wrap: wrap; }
.worldkit-storyboard-error { background: #5a1d1d; color: #fff; padding: 8px; border-radius: 4px; margin-bottom: 8px; }
.worldkit-storyboard-empty { opacity: 0.7; padding: 16px; border: 1px dashed #666; border-radius: 4px; }
.worldkit-storyboard-row { display: flex; gap: 12px; padding: 8px 0; border-top: 1px solid #444; align-items: flex-start; }
.worldkit-storyboard-shot { width: 180px; flex: none; }
.worldkit-storyboard-shot .prompt { opacity: 0.8; margin-top: 4px; }
.worldkit-storyboard-takes { display: flex; gap: 8px; flex-wrap: wrap; }
.worldkit-storyboard-take { border: 2px solid transparent; border-radius: 4px; padding: 2px; opacity: 0.6; }
.worldkit-storyboard-take.current { border-color: #4a9; opacity: 1; }
.worldkit-storyboard-take .frames { display: flex; gap: 2px; }
.worldkit-storyboard-take img, .worldkit-storyboard-take .frame { width: 72px; height: 72px; object-fit: contain;
  background: #222; display: flex; align-items: center; justify-content: center; font-size: 10px; }
.worldkit-storyboard-refs { display: flex; gap: 6px; }
.worldkit-storyboard-ref { text-align: center; }
.worldkit-storyboard-ref img { width: 48px; height: 48px; object-fit: contain; background: #222; display: block; }
.worldkit-storyboard-candidate.other { opacity: 0.45; }
.worldkit-storyboard-warning { color: #f0b030; }
.worldkit-storyboard button { margin: 2px 4px 2px 0; }
.worldkit-storyboard-live { margin-bottom: 8px; }
.worldkit-storyboard-live progress { width: 240px; vertical-align: middle; margin-right: 8px; }
.worldkit-storyboard-live-shot { display: flex; gap: 6px; align-items: center; margin-top: 4px; }
.worldkit-storyboard-live-candidate { text-align: center; font-size: 10px; border: 2px solid #555; border-radius: 3px; }
.worldkit-storyboard-live-candidate img, .worldkit-storyboard-live-candidate .frame { width: 48px; height: 48px;
  object-fit: contain; background: #222; display: block; }
.worldkit-storyboard-live-candidate.survivor { border-color: #4a9; }
.worldkit-storyboard-live-candidate.kept { border-color: #4a9; background: #244; }
.worldkit-storyboard-live-candidate.pruned, .worldkit-storyboard-live-candidate.not-kept { opacity: 0.4; }
`;

const score = (value) => (value === null || value === undefined ? "not scored" : value.toFixed(3));

export class StoryboardPanel {
  // handlers: { rerender(shot, keepSeed), choose(shot, index), file(File) }
  constructor(handlers) {
    this.handlers = handlers;
    this.root = el("div", { className: "worldkit-storyboard" });
    this.root.append(el("style", { textContent: STYLE }));
    this.body = el("div");
    this.live = el("div", { className: "worldkit-storyboard-live" });
    const input = el("input", { type: "file", accept: ".json,.safetensors", style: "display:none" });
    input.addEventListener("change", () => input.files[0] && handlers.file(input.files[0]));
    const open = el("button", { textContent: "Open report…", title: "A report saved by a run (JSON) or a shot-frames file" });
    open.addEventListener("click", () => input.click());
    this.summary = el("span");
    this.root.append(el("div", { className: "worldkit-storyboard-head" }, [el("b", { textContent: "Storyboard" }), this.summary, open, input]), this.live, this.body);
    this.root.addEventListener("dragover", (event) => event.preventDefault());
    this.root.addEventListener("drop", (event) => {
      event.preventDefault();
      event.stopPropagation();
      const file = event.dataTransfer?.files?.[0];
      if (file) handlers.file(file);
    });
  }

  render(board) {
    this.body.replaceChildren();
    const meta = board.meta;
    this.summary.textContent = meta
      ? [meta.model && `model ${meta.model}`, `search ${meta.search ?? "off"}`, meta.seed !== null && `seed ${meta.seed}`]
          .filter(Boolean)
          .join(" · ")
      : "";
    if (board.error) this.body.append(el("div", { className: "worldkit-storyboard-error", textContent: board.error }));
    if (!board.shots.length && !board.error) {
      this.body.append(
        el("div", {
          className: "worldkit-storyboard-empty",
          textContent: "Run a World Shot Sampler, or drop a saved report (JSON) or shot-frames file here.",
        }),
      );
    }
    for (const entry of board.shots) this.body.append(this.row(board, entry));
  }

  // The render under way (or the last one): progress of the whole list, each shot's candidates as they are judged.
  renderLive(live) {
    this.live.replaceChildren();
    if (!live.promptId) return;
    const { done = 0, total = 1 } = live.progress ?? {};
    this.live.append(el("div", {}, [el("progress", { max: total, value: done }), el("span", { textContent: progressText(live) })]));
    for (const shot of live.shots) {
      const status = shot.cached ? "from memory" : shot.done ? "done" : `${shot.checks} check(s)`;
      const line = el("div", { className: "worldkit-storyboard-live-shot" }, [
        el("span", { textContent: `Shot ${shot.shot} · ${status}` }),
        ...shot.candidates.map((c, index) =>
          el("div", { className: `worldkit-storyboard-live-candidate ${c.state.replace(" ", "-")}`, title: `seed ${c.seed}` }, [
            c.preview ? el("img", { src: c.preview, alt: `candidate ${index + 1}` }) : el("div", { className: "frame" }),
            el("div", { textContent: `${index + 1} · ${c.state}${c.step !== null ? ` @${c.step}` : ""}` }),
          ]),
        ),
      ]);
      line.dataset.shot = String(shot.shot);
      this.live.append(line);
    }
  }

  row(board, entry) {
    const take = entry.takes[entry.current];
    const row = take.row;
    const title = `Shot ${row.shot}${row.name ? ` · ${row.name}` : ""}`;
    const details = [row.family && `family ${row.family}`, board.meta?.model && `model ${board.meta.model}`, `${row.frames} frames`];
    const shot = el("div", { className: "worldkit-storyboard-shot" }, [
      el("b", { textContent: title }),
      el("div", { textContent: details.filter(Boolean).join(" · ") }),
      el("div", { className: "prompt", textContent: row.prompt ?? "" }),
      this.button("Re-render", "Queue the graph of this run again with only this shot, on new seeds", () =>
        this.handlers.rerender(row.shot, false), !board.node),
      this.button("Same seed", "Queue the graph as it is now (an edited prompt, say) with only this shot, on the kept candidate's seed; fix the shots' own seeds first", () =>
        this.handlers.rerender(row.shot, true), !board.node),
    ]);
    const takes = el(
      "div",
      { className: "worldkit-storyboard-takes" },
      entry.takes.map((t, index) => this.take(t, index, entry)),
    );
    const refs = el(
      "div",
      { className: "worldkit-storyboard-refs" },
      row.references.map((ref) => {
        const view = board.views?.[ref.name];
        return el("div", { className: "worldkit-storyboard-ref", title: `identity against ${ref.name}'s reference` }, [
          view ? el("img", { src: viewUrl(view), alt: ref.name }) : el("div", { textContent: "·" }),
          el("div", { textContent: ref.name }),
          el("div", { className: "ref-score", textContent: score(ref.score) }),
        ]);
      }),
    );
    const candidates = el(
      "div",
      {},
      row.candidates.map((c) =>
        el("div", {
          className: `worldkit-storyboard-candidate ${c.chosen ? "chosen" : "other"}`,
          textContent:
            `${c.chosen ? "★" : "·"} candidate ${c.candidate} · seed ${c.seed} · ${score(c.score)}` +
            (c.pruned_at_step !== null ? ` · pruned at step ${c.pruned_at_step}` : "") +
            (c.score === null && c.early_score !== null ? ` (early ${score(c.early_score)} at step ${c.early_step})` : ""),
        }),
      ),
    );
    const notes = el("div", {}, [
      ...(row.seams.length ? [el("div", { className: "worldkit-storyboard-seams", textContent: `segment seams at frames ${row.seams.join(", ")}` })] : []),
      ...row.warnings.map((w) => el("div", { className: "worldkit-storyboard-warning", textContent: `⚠ ${w}` })),
    ]);
    const node = el("div", { className: "worldkit-storyboard-row" }, [shot, takes, el("div", {}, [refs, candidates, notes])]);
    node.dataset.shot = String(row.shot);
    return node;
  }

  take(t, index, entry) {
    const frames = t.row.thumbnails.map((frame, k) => {
      const ref = t.frames[k];
      return ref
        ? el("img", { src: viewUrl(ref), title: `frame ${frame}` })
        : el("div", { className: "frame", textContent: `frame ${frame}` });
    });
    const current = index === entry.current;
    const box = el("div", { className: `worldkit-storyboard-take${current ? " current" : ""}` }, [
      el("div", { className: "frames" }, frames),
      el("div", { textContent: `take ${index + 1} · seed ${t.row.seed} · ${score(t.row.score)}` }),
    ]);
    if (!current) {
      const title = "Keep this take and queue the cut of the chosen takes; shots rendered before come from memory";
      box.append(this.button("Use this take", title, () => this.handlers.choose(entry.shot, index)));
    }
    return box;
  }

  button(label, title, action, disabled = false) {
    const b = el("button", { textContent: label, title: disabled ? "Only for a run of this graph, not a saved report" : title, disabled });
    b.addEventListener("click", action);
    return b;
  }
}
