// The Trajectory Keypoints canvas: a DOM widget that draws, edits and previews the tracks of the node's
// `editor_state` STRING widget. That widget is the one place the drawing is stored (saved with the workflow in
// UI and API format); it is hidden behind the canvas, and the JSON… button shows it for editing as text.
import { api } from "../../../../scripts/api.js";
import { buildControls } from "./controls.js";
import { el, viewUrl } from "./dom.js";
import { drawTrack } from "./drawing.js";
import { resolveFrames, trackPath } from "./path.js";
import { COLORS, emptyState, newKeypoint, newTrack, parseState, serialiseState } from "./state.js";

const HIT_RADIUS = 9;
const CONTROLS_HEIGHT = 150;
const JSON_HEIGHT = 160; // room for the editor_state text while JSON… shows it

export class TrajectoryEditor {
  // `defaults`: the frame widgets' defaults from the node's Python schema (width, height, num_frames, fps), used
  // while a widget holds no usable value, so the editor never keeps its own copy of the engine's numbers.
  constructor(node, stateWidget, defaults) {
    this.defaults = defaults;
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

  widgetValue(name) {
    const w = this.node.widgets?.find((x) => x.name === name);
    const v = Number(w?.value);
    return Number.isFinite(v) && v > 0 ? v : this.defaults[name];
  }
  get frameWidth() { return this.widgetValue("width"); }
  get frameHeight() { return this.widgetValue("height"); }
  get numFrames() { return this.widgetValue("num_frames"); }
  get fps() { return this.widgetValue("fps"); }
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
    buildControls(this);
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
    const view = {
      selected: this.selected, frame: this.frame, numFrames: this.numFrames,
      frameWidth: this.frameWidth, frameHeight: this.frameHeight, cw, ch,
    };
    this.state.tracks.forEach((track, ti) => drawTrack(ctx, track, paths[ti], { ...view, active: ti === this.active }));
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

  destroy() {
    this.playing = false;
    this.resizeObserver.disconnect();
  }
}
