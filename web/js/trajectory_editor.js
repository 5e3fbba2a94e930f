// Trajectory Keypoints: puts the trajectory canvas (trajectory/view.js) into the node and keeps it in step with
// the node's widgets and runs. The path maths (trajectory/path.js) and the state format (trajectory/state.js) are
// plain modules; ComfyUI loads every .js under web/ as an extension, so those only export and do nothing on import.
import { app } from "../../../scripts/app.js";
import { viewUrl } from "./trajectory/dom.js";
import { TrajectoryEditor } from "./trajectory/view.js";

const NODE_ID = "WorldKitTrajectoryKeypoints";
const FRAME_WIDGETS = ["width", "height", "num_frames", "fps"];

// A widget's default as the node's Python schema declares it (ComfyUI's object_info: [type, options]).
function schemaDefault(nodeData, name) {
  const spec = nodeData.input?.required?.[name] ?? nodeData.input?.optional?.[name];
  return spec?.[1]?.default;
}

app.registerExtension({
  name: "WorldKit.TrajectoryEditor",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData?.name !== NODE_ID) return;
    const defaults = Object.fromEntries(FRAME_WIDGETS.map((name) => [name, schemaDefault(nodeData, name)]));

    const onNodeCreated = nodeType.prototype.onNodeCreated;
    nodeType.prototype.onNodeCreated = function () {
      const result = onNodeCreated?.apply(this, arguments);
      const stateWidget = this.widgets?.find((w) => w.name === "editor_state");
      if (stateWidget) {
        this.properties ??= {};
        this.worldkitEditor = new TrajectoryEditor(this, stateWidget, defaults);
        this.setSize([Math.max(this.size[0], 520), this.size[1]]);
        this.worldkitEditor.fitNode();
        for (const name of FRAME_WIDGETS) {
          const w = this.widgets.find((x) => x.name === name);
          if (!w) continue;
          const cb = w.callback;
          w.callback = (...args) => { cb?.apply(w, args); this.worldkitEditor?.render(); };
        }
      }
      return result;
    };

    const onConfigure = nodeType.prototype.onConfigure;
    nodeType.prototype.onConfigure = function () {
      const result = onConfigure?.apply(this, arguments);
      this.worldkitEditor?.reload();
      this.worldkitEditor?.restoreChosenImage();
      this.worldkitEditor?.followStateLink();
      return result;
    };

    const onConnectionsChange = nodeType.prototype.onConnectionsChange;
    // Read the link itself: while a workflow loads this is called for every input as if connected.
    nodeType.prototype.onConnectionsChange = function (type, index, connected, link, slot) {
      const result = onConnectionsChange?.apply(this, arguments);
      if (slot?.name === "editor_state") this.worldkitEditor?.followStateLink();
      return result;
    };

    // A connected LoadImage shows its picture once loaded; pick it up on the next redraw.
    const onDrawBackground = nodeType.prototype.onDrawBackground;
    nodeType.prototype.onDrawBackground = function () {
      const result = onDrawBackground?.apply(this, arguments);
      this.worldkitEditor?.followConnectedImage();
      return result;
    };

    const onExecuted = nodeType.prototype.onExecuted;
    nodeType.prototype.onExecuted = function (message) {
      const result = onExecuted?.apply(this, arguments);
      const bg = message?.worldkit_background?.[0];
      if (bg && this.worldkitEditor) this.worldkitEditor.setBackground(viewUrl(bg));
      return result;
    };

    const onRemoved = nodeType.prototype.onRemoved;
    nodeType.prototype.onRemoved = function () {
      this.worldkitEditor?.destroy();
      return onRemoved?.apply(this, arguments);
    };
  },
});
