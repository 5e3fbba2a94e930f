// The editor's controls: track and keypoint widgets, the canvas and the scrubber, laid out in rows. They are
// created here and wired to the editor in view.js (bindDom).
import { el, select } from "./dom.js";
import { EASINGS, INTERPOLATIONS } from "./path.js";
import { SUBJECTS } from "./state.js";

export function buildControls(editor) {
  const row = (children) => el("div", { style: "display:flex;flex-wrap:wrap;gap:4px;align-items:center;margin:2px 0" }, children);
  editor.trackSelect = el("select", { title: "Track being edited" });
  editor.addTrackBtn = el("button", { textContent: "+ track", title: "Add a track" });
  editor.delTrackBtn = el("button", { textContent: "- track", title: "Delete this track" });
  editor.nameInput = el("input", { type: "text", size: 8, title: "Track name" });
  editor.colorInput = el("input", { type: "color", title: "Track colour", style: "width:28px;height:20px;padding:0" });
  editor.subjectSelect = select(SUBJECTS, "point");
  editor.subjectSelect.title = "What rides on the path: one point, a spread, a cluster, or points inside the subject mask";
  editor.pointsInput = el("input", { type: "number", min: 1, max: 1024, style: "width:44px", title: "Points on this track" });
  editor.interpSelect = select(INTERPOLATIONS, "catmull_rom");
  editor.anchorBox = el("input", { type: "checkbox", title: "Anchor: stays at its first keypoint, holding that region still" });
  editor.canvas = el("canvas", { className: "worldkit-trajectory-canvas", style: "display:block;width:100%;cursor:crosshair;touch-action:none" });
  editor.playBtn = el("button", { textContent: "▶", title: "Play the motion" });
  editor.scrubber = el("input", { type: "range", min: 0, step: 1, value: 0, style: "flex:1", className: "worldkit-trajectory-scrubber" });
  editor.timeLabel = el("span", { style: "min-width:110px;font-size:11px" });
  editor.errorLabel = el("span", { className: "worldkit-trajectory-error", style: "font-size:11px;color:#ff8a80" });
  editor.kpLabel = el("span", { style: "font-size:11px" });
  editor.frameInput = el("input", { type: "number", min: 0, step: 1, style: "width:52px", title: "Keypoint frame" });
  editor.secondsInput = el("input", { type: "number", min: 0, step: 0.05, style: "width:52px", title: "Keypoint time in seconds at fps" });
  editor.autoBox = el("input", { type: "checkbox", title: "Auto: timed at constant speed between its neighbours" });
  editor.holdInput = el("input", { type: "number", min: 0, step: 1, style: "width:44px", title: "Frames to hold at this keypoint" });
  editor.easingSelect = select(EASINGS, "linear");
  editor.easingSelect.title = "Easing of the move from this keypoint to the next";
  editor.visibleBox = el("input", { type: "checkbox", title: "Visible from this keypoint to the next" });
  editor.imageBtn = el("button", { textContent: "Image…", title: "Choose a background image for drawing" });
  editor.fileInput = el("input", { type: "file", accept: "image/*", style: "display:none" });
  editor.jsonBtn = el("button", { textContent: "JSON…", title: "Show or hide the drawing as JSON text, to read, edit or paste" });
  const label = (text, input) => el("label", { style: "font-size:11px;display:flex;gap:2px;align-items:center" }, [text, input]);
  editor.root = el("div", { className: "worldkit-trajectory", style: "width:100%;font:12px sans-serif;color:#ddd" }, [
    row([editor.trackSelect, editor.addTrackBtn, editor.delTrackBtn, editor.nameInput, editor.colorInput, editor.subjectSelect,
      editor.pointsInput, editor.interpSelect, label("anchor", editor.anchorBox)]),
    editor.canvas,
    row([editor.playBtn, editor.scrubber, editor.timeLabel, editor.errorLabel]),
    row([editor.kpLabel, label("frame", editor.frameInput), label("s", editor.secondsInput), label("auto", editor.autoBox),
      label("hold", editor.holdInput), editor.easingSelect, label("visible", editor.visibleBox), editor.imageBtn, editor.fileInput,
      editor.jsonBtn]),
  ]);
}
