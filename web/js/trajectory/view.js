// The Trajectory Keypoints canvas: a DOM widget that draws, edits and previews the tracks of the node's
// `editor_state` STRING widget. That widget is the one place the drawing is stored (saved with the workflow in
// UI and API format); it is hidden behind the canvas, and the JSON… button shows it for editing as text.
import { api } from "../../../../scripts/api.js";
import { EASINGS, INTERPOLATIONS, resolveFrames, trackPath } from "./path.js";
import { COLORS, SUBJECTS, emptyState, newKeypoint, newTrack, parseState, serialiseState } from "./state.js";

const HIT_RADIUS = 9;
const CONTROLS_HEIGHT = 150;
const JSON_HEIGHT = 160; // room for the editor_state text while JSON… shows it

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "style") node.style.cssText = v;
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function select(options, value) {
  const s = el("select");
  for (const o of options) s.append(el("option", { value: o, textContent: o }));
  s.value = value;
  return s;
}

export class TrajectoryEditor {
  constructor(node, stateWidget) {
    this.node = node;
    this.stateWidget = stateWidget;
    this.state = parseState(stateWidget.value) || emptyState();
    this.active = 0;
    this.selected = -1;
    this.dragging = false;
    this.frame = 0;
    this.playing = false;
    this.background = null;
    this.backgroundSrc = null;
    this.buildDom();
    this.widget = node.addDOMWidget("trajectory_canvas", "worldkit_trajectory", this.root, {
      serialize: false,
      hideOnZoom: false,
      getMinHeight: () => this.totalHeight(),
      getMaxHeight: () => this.totalHeight(),
      getHeight: () => this.totalHeight(),
    });
    const original = stateWidget.callback;
    stateWidget.callback = (...args) => {
      original?.apply(stateWidget, args);
      this.reload();
    };
    this.resizeObserver = new ResizeObserver(() => this.render());
    this.resizeObserver.observe(this.root);
    this.showJson(false);
    this.restoreChosenImage();
    this.syncControls();
    this.render();
  }

  widgetValue(name, fallback) {
    const w = this.node.widgets?.find((x) => x.name === name);
    const v = Number(w?.value);
    return Number.isFinite(v) && v > 0 ? v : fallback;
  }
  get frameWidth() { return this.widgetValue("width", 832); }
  get frameHeight() { return this.widgetValue("height", 480); }
  get numFrames() { return this.widgetValue("num_frames", 81); }
  get fps() { return this.widgetValue("fps", 16); }
  get track() { return this.state.tracks[this.active]; }

  canvasSize() {
    const width = Math.max(160, (this.root.clientWidth || this.node.size[0] - 20));
    return [width, Math.round(width * this.frameHeight / this.frameWidth)];
  }

  // Canvas plus the control rows as laid out (they wrap on narrow nodes).
  totalHeight() {
    const rows = [...this.root.children].filter((c) => c !== this.canvas);
    const measured = rows.reduce((sum, c) => sum + c.offsetHeight + 4, 0);
    return this.canvasSize()[1] + (measured > 0 ? measured + 12 : CONTROLS_HEIGHT);
  }

  fitNode() {
    const height = this.totalHeight();
    if (height === this.fittedHeight) return;
    this.fittedHeight = height;
    this.resizeNode();
  }

  resizeNode() {
    const json = this.stateWidget.hidden ? 0 : JSON_HEIGHT;
    this.node.setSize([this.node.size[0], this.node.computeSize()[1] + json]);
    this.node.graph?.setDirtyCanvas?.(true, true);
  }

  // The raw editor_state widget stays behind the canvas unless asked for; hidden, it still serialises.
  showJson(shown) {
    this.stateWidget.hidden = !shown;
    this.stateWidget.options ??= {};
    this.stateWidget.options.hidden = !shown;
    this.jsonBtn.textContent = shown ? "Hide JSON" : "JSON…";
    this.jsonBtn.setAttribute("aria-pressed", String(shown));
    this.resizeNode();
  }

  // While editor_state is linked (from Import Tracks) its row is shown, so the link ends there, not under the canvas.
  followStateLink() {
    this.showJson(this.node.inputs?.find((i) => i.name === "editor_state")?.link != null);
  }

  buildDom() {
    const row = (children) => el("div", { style: "display:flex;flex-wrap:wrap;gap:4px;align-items:center;margin:2px 0" }, children);
    this.trackSelect = el("select", { title: "Track being edited" });
    this.addTrackBtn = el("button", { textContent: "+ track", title: "Add a track" });
    this.delTrackBtn = el("button", { textContent: "- track", title: "Delete this track" });
    this.nameInput = el("input", { type: "text", size: 8, title: "Track name" });
    this.colorInput = el("input", { type: "color", title: "Track colour", style: "width:28px;height:20px;padding:0" });
    this.subjectSelect = select(SUBJECTS, "point");
    this.subjectSelect.title = "What rides on the path: one point, a spread, a cluster, or points inside the subject mask";
    this.pointsInput = el("input", { type: "number", min: 1, max: 1024, style: "width:44px", title: "Points on this track" });
    this.interpSelect = select(INTERPOLATIONS, "catmull_rom");
    this.anchorBox = el("input", { type: "checkbox", title: "Anchor: stays at its first keypoint, holding that region still" });
    this.canvas = el("canvas", { className: "worldkit-trajectory-canvas", style: "display:block;width:100%;cursor:crosshair;touch-action:none" });
    this.playBtn = el("button", { textContent: "▶", title: "Play the motion" });
    this.scrubber = el("input", { type: "range", min: 0, step: 1, value: 0, style: "flex:1", className: "worldkit-trajectory-scrubber" });
    this.timeLabel = el("span", { style: "min-width:110px;font-size:11px" });
    this.errorLabel = el("span", { className: "worldkit-trajectory-error", style: "font-size:11px;color:#ff8a80" });
    this.kpLabel = el("span", { style: "font-size:11px" });
    this.frameInput = el("input", { type: "number", min: 0, step: 1, style: "width:52px", title: "Keypoint frame" });
    this.secondsInput = el("input", { type: "number", min: 0, step: 0.05, style: "width:52px", title: "Keypoint time in seconds at fps" });
    this.autoBox = el("input", { type: "checkbox", title: "Auto: timed at constant speed between its neighbours" });
    this.holdInput = el("input", { type: "number", min: 0, step: 1, style: "width:44px", title: "Frames to hold at this keypoint" });
    this.easingSelect = select(EASINGS, "linear");
    this.easingSelect.title = "Easing of the move from this keypoint to the next";
    this.visibleBox = el("input", { type: "checkbox", title: "Visible from this keypoint to the next" });
    this.imageBtn = el("button", { textContent: "Image…", title: "Choose a background image for drawing" });
    this.fileInput = el("input", { type: "file", accept: "image/*", style: "display:none" });
    this.jsonBtn = el("button", { textContent: "JSON…", title: "Show or hide the drawing as JSON text, to read, edit or paste" });
    const label = (text, input) => el("label", { style: "font-size:11px;display:flex;gap:2px;align-items:center" }, [text, input]);
    this.root = el("div", { className: "worldkit-trajectory", style: "width:100%;font:12px sans-serif;color:#ddd" }, [
      row([this.trackSelect, this.addTrackBtn, this.delTrackBtn, this.nameInput, this.colorInput, this.subjectSelect,
        this.pointsInput, this.interpSelect, label("anchor", this.anchorBox)]),
      this.canvas,
      row([this.playBtn, this.scrubber, this.timeLabel, this.errorLabel]),
      row([this.kpLabel, label("frame", this.frameInput), label("s", this.secondsInput), label("auto", this.autoBox),
        label("hold", this.holdInput), this.easingSelect, label("visible", this.visibleBox), this.imageBtn, this.fileInput,
        this.jsonBtn]),
    ]);
    this.bindDom();
  }

  bindDom() {
    const stop = (e) => e.stopPropagation();
    for (const type of ["pointerdown", "pointermove", "pointerup", "wheel", "keydown"]) this.root.addEventListener(type, stop);
    this.canvas.addEventListener("pointerdown", (e) => this.onPointerDown(e));
    this.canvas.addEventListener("pointermove", (e) => this.onPointerMove(e));
    this.canvas.addEventListener("pointerup", (e) => this.onPointerUp(e));
    this.canvas.addEventListener("contextmenu", (e) => this.onContextMenu(e));
    this.trackSelect.addEventListener("change", () => { this.active = Number(this.trackSelect.value); this.selected = -1; this.syncControls(); this.render(); });
    this.addTrackBtn.addEventListener("click", () => { this.state.tracks.push(newTrack(this.state)); this.active = this.state.tracks.length - 1; this.selected = -1; this.commit(); });
    this.delTrackBtn.addEventListener("click", () => {
      if (!this.track) return;
      this.state.tracks.splice(this.active, 1);
      this.active = Math.max(0, this.active - 1);
      this.selected = -1;
      this.commit();
    });
    const trackField = (input, key, parse) => input.addEventListener("change", () => {
      if (!this.track) return;
      this.track[key] = parse(input);
      this.commit();
    });
    trackField(this.nameInput, "name", (i) => i.value.trim() || this.track.name);
    trackField(this.colorInput, "color", (i) => i.value);
    trackField(this.subjectSelect, "subject", (i) => i.value);
    trackField(this.pointsInput, "points", (i) => Math.max(1, Math.min(1024, Math.round(Number(i.value) || 1))));
    trackField(this.interpSelect, "interpolation", (i) => i.value);
    trackField(this.anchorBox, "anchor", (i) => i.checked);
    const kpField = (input, apply) => input.addEventListener("change", () => {
      const kp = this.track?.keypoints[this.selected];
      if (!kp) return;
      apply(kp, input);
      this.commit();
    });
    kpField(this.frameInput, (kp, i) => { kp.frame = Math.max(0, Math.round(Number(i.value) || 0)); });
    kpField(this.secondsInput, (kp, i) => { kp.frame = Math.max(0, Math.round((Number(i.value) || 0) * this.fps)); });
    kpField(this.autoBox, (kp, i) => { kp.frame = i.checked ? null : Math.round(this.resolvedFrame(this.selected)); });
    kpField(this.holdInput, (kp, i) => { kp.hold = Math.max(0, Math.round(Number(i.value) || 0)); });
    kpField(this.easingSelect, (kp, i) => { kp.easing = i.value; });
    kpField(this.visibleBox, (kp, i) => { kp.visible = i.checked; });
    this.scrubber.addEventListener("input", () => { this.frame = Number(this.scrubber.value); this.render(); });
    this.playBtn.addEventListener("click", () => this.togglePlay());
    this.imageBtn.addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => this.uploadImage(this.fileInput.files?.[0]));
    this.jsonBtn.addEventListener("click", () => this.showJson(!!this.stateWidget.hidden));
  }

  resolvedFrame(index) {
    const t = this.track;
    const w = this.frameWidth, h = this.frameHeight;
    return resolveFrames(t.keypoints.map((k) => [k.x * w, k.y * h]), t.keypoints, this.numFrames)[index];
  }

  // Canvas position (CSS pixels) of the event -> normalised frame coordinates.
  eventPoint(e) {
    const r = this.canvas.getBoundingClientRect();
    return [Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)), Math.min(1, Math.max(0, (e.clientY - r.top) / r.height))];
  }

  hit(e) {
    const r = this.canvas.getBoundingClientRect();
    const order = [this.active, ...this.state.tracks.keys()].filter((v, i, a) => a.indexOf(v) === i);
    for (const ti of order) {
      const kps = this.state.tracks[ti]?.keypoints || [];
      for (let k = kps.length - 1; k >= 0; k--) {
        const dx = kps[k].x * r.width - (e.clientX - r.left), dy = kps[k].y * r.height - (e.clientY - r.top);
        if (dx * dx + dy * dy <= HIT_RADIUS * HIT_RADIUS) return [ti, k];
      }
    }
    return null;
  }

  onPointerDown(e) {
    if (e.button !== 0) return;
    e.preventDefault();
    const found = this.hit(e);
    if (found) {
      [this.active, this.selected] = found;
    } else {
      if (!this.track) {
        this.state.tracks.push(newTrack(this.state));
        this.active = this.state.tracks.length - 1;
      }
      const [x, y] = this.eventPoint(e);
      this.track.keypoints.push(newKeypoint(x, y));
      this.selected = this.track.keypoints.length - 1;
    }
    this.dragging = true;
    this.canvas.setPointerCapture?.(e.pointerId);
    this.syncControls();
    this.render();
  }

  onPointerMove(e) {
    if (!this.dragging) return;
    const kp = this.track?.keypoints[this.selected];
    if (!kp) return;
    [kp.x, kp.y] = this.eventPoint(e);
    this.render();
  }

  onPointerUp(e) {
    if (!this.dragging) return;
    this.dragging = false;
    this.canvas.releasePointerCapture?.(e.pointerId);
    this.commit();
  }

  onContextMenu(e) {
    e.preventDefault();
    e.stopPropagation();
    const found = this.hit(e);
    if (!found) return;
    const [ti, k] = found;
    this.state.tracks[ti].keypoints.splice(k, 1);
    this.active = ti;
    this.selected = -1;
    this.commit();
  }

  // Write the drawing into the STRING widget: the one place it is stored.
  commit() {
    this.written = serialiseState(this.state);
    this.stateWidget.value = this.written;
    this.node.setDirtyCanvas?.(true, true);
    this.node.graph?.setDirtyCanvas?.(true, true);
    this.syncControls();
    this.render();
  }

  // The widget's text changed (typed, pasted, or a workflow loaded): show what it now says.
  reload() {
    if (this.stateWidget.value === this.written) return;
    const parsed = parseState(this.stateWidget.value);
    if (!parsed) {
      console.warn("[WorldKit] the trajectory state is not version-1 JSON; the canvas keeps its drawing until it is fixed.");
      return;
    }
    this.state = parsed;
    this.active = Math.min(this.active, Math.max(0, parsed.tracks.length - 1));
    this.selected = -1;
    this.syncControls();
    this.render();
  }

  syncControls() {
    this.trackSelect.replaceChildren(...this.state.tracks.map((t, i) => el("option", { value: i, textContent: t.name })));
    const t = this.track;
    if (t) this.trackSelect.value = String(this.active);
    for (const input of [this.nameInput, this.colorInput, this.subjectSelect, this.pointsInput, this.interpSelect, this.anchorBox, this.delTrackBtn]) {
      input.disabled = !t;
    }
    if (t) {
      this.nameInput.value = t.name;
      this.colorInput.value = t.color || COLORS[0];
      this.subjectSelect.value = t.subject || "point";
      this.pointsInput.value = t.points || 1;
      this.interpSelect.value = t.interpolation || "catmull_rom";
      this.anchorBox.checked = !!t.anchor;
    }
    const kp = t?.keypoints[this.selected];
    for (const input of [this.frameInput, this.secondsInput, this.autoBox, this.holdInput, this.easingSelect, this.visibleBox]) {
      input.disabled = !kp;
    }
    this.kpLabel.textContent = kp ? `keypoint ${this.selected + 1}` : "click to add a keypoint";
    if (kp) {
      const frame = kp.frame ?? this.resolvedFrame(this.selected);
      this.frameInput.value = Math.round(frame);
      this.secondsInput.value = (frame / this.fps).toFixed(2);
      this.autoBox.checked = kp.frame === null || kp.frame === undefined;
      this.holdInput.value = kp.hold || 0;
      this.easingSelect.value = kp.easing || "linear";
      this.visibleBox.checked = kp.visible !== false;
    }
  }

  setBackground(src) {
    if (!src || src === this.backgroundSrc) return;
    this.backgroundSrc = src;
    const img = new Image();
    img.onload = () => { this.background = img; this.render(); };
    img.src = src;
  }

  restoreChosenImage() {
    const chosen = this.node.properties?.worldkit_background;
    if (chosen?.filename) this.setBackground(viewUrl(chosen));
  }

  async uploadImage(file) {
    if (!file) return;
    const body = new FormData();
    body.append("image", file);
    const resp = await api.fetchApi("/upload/image", { method: "POST", body });
    if (resp.status !== 200) {
      console.error("[WorldKit] background upload failed", resp.status);
      return;
    }
    const saved = await resp.json();
    this.node.properties.worldkit_background = { filename: saved.name, subfolder: saved.subfolder || "", type: saved.type || "input" };
    this.setBackground(viewUrl(this.node.properties.worldkit_background));
  }

  // The connected start frame, when its source node has shown it already.
  followConnectedImage() {
    const slot = this.node.inputs?.findIndex((i) => i.name === "background");
    if (slot === undefined || slot < 0) return;
    const src = this.node.getInputNode?.(slot)?.imgs?.[0]?.src;
    if (src) this.setBackground(src);
  }

  togglePlay() {
    this.playing = !this.playing;
    this.playBtn.textContent = this.playing ? "❚❚" : "▶";
    let last = performance.now();
    const step = (now) => {
      if (!this.playing || !this.root.isConnected) return;
      if (now - last >= 1000 / this.fps) {
        last = now;
        this.frame = (this.frame + 1) % this.numFrames;
        this.render();
      }
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }

  render() {
    this.followConnectedImage();
    const [cw, ch] = this.canvasSize();
    const ratio = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(cw * ratio) || this.canvas.height !== Math.round(ch * ratio)) {
      this.canvas.width = Math.round(cw * ratio);
      this.canvas.height = Math.round(ch * ratio);
      this.canvas.style.height = `${ch}px`;
    }
    const n = this.numFrames;
    this.frame = Math.min(this.frame, n - 1);
    this.scrubber.max = String(n - 1);
    this.scrubber.value = String(this.frame);
    this.timeLabel.textContent = `frame ${this.frame} · ${(this.frame / this.fps).toFixed(2)} s`;
    const paths = this.state.tracks.map((t) => this.evaluator(t));
    this.errorLabel.textContent = this.state.tracks
      .map((t, i) => (t.keypoints.length && paths[i].error ? `${t.name}: ${paths[i].error}` : ""))
      .filter(Boolean).join("; ");
    this.fitNode();
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = "#222";
    ctx.fillRect(0, 0, cw, ch);
    if (this.background) ctx.drawImage(this.background, 0, 0, cw, ch);
    this.state.tracks.forEach((track, ti) => this.drawTrack(ctx, track, paths[ti], ti === this.active, cw, ch));
  }

  // Each track's evaluator at the frame size: the node's own maths, so the preview is what it will output.
  evaluator(track) {
    return trackPath(track, this.numFrames, this.frameWidth, this.frameHeight);
  }

  // Where track `index` is at `frame`, in frame fractions (0..1); null when the node would refuse the track.
  positionAt(index, frame) {
    const p = this.evaluator(this.state.tracks[index]).at?.(frame);
    return p ? { x: p.x / this.frameWidth, y: p.y / this.frameHeight, visible: p.visible } : null;
  }

  drawTrack(ctx, track, path, active, cw, ch) {
    const kps = track.keypoints;
    if (!kps.length) return;
    const color = track.color || COLORS[0];
    const [sx, sy] = [cw / this.frameWidth, ch / this.frameHeight];
    ctx.lineWidth = active ? 2 : 1;
    ctx.strokeStyle = color;
    ctx.globalAlpha = active ? 1 : 0.6;
    if (path.at) {
      ctx.beginPath();
      for (let f = 0; f < this.numFrames; f++) {
        const p = path.at(f);
        if (f === 0) ctx.moveTo(p.x * sx, p.y * sy); else ctx.lineTo(p.x * sx, p.y * sy);
      }
      ctx.stroke();
    }
    kps.forEach((kp, k) => {
      ctx.beginPath();
      ctx.arc(kp.x * cw, kp.y * ch, 6, 0, Math.PI * 2);
      ctx.fillStyle = active && k === this.selected ? "#fff" : color;
      ctx.fill();
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 1;
      ctx.stroke();
      ctx.fillStyle = "#fff";
      ctx.font = "10px sans-serif";
      const frame = kp.frame === null || kp.frame === undefined ? "auto" : `f${kp.frame}`;
      ctx.fillText(`${k + 1} ${frame}${kp.hold ? ` +${kp.hold}` : ""}`, kp.x * cw + 8, kp.y * ch - 8);
    });
    if (path.at) {
      const p = path.at(this.frame);
      ctx.beginPath();
      ctx.arc(p.x * sx, p.y * sy, 9, 0, Math.PI * 2);
      ctx.strokeStyle = color;
      ctx.lineWidth = 3;
      ctx.globalAlpha = p.visible ? 1 : 0.3;
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }

  destroy() {
    this.playing = false;
    this.resizeObserver.disconnect();
  }
}

export function viewUrl(ref) {
  const q = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder || "", type: ref.type || "temp" });
  return api.apiURL(`/view?${q.toString()}&rand=${Math.random()}`);
}

