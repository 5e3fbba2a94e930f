// World Shot Sampler: a workflow saved while `search` was a text box holds its schedule there. On load, a text
// that spells a preset's schedule becomes that preset; any other text becomes "custom", kept in search_custom.
// The presets come from the node's Python schema (object_info), their one home.
import { app } from "../../../scripts/app.js";

const NODE_ID = "WorldKitWorldShotSampler";

app.registerExtension({
  name: "WorldKit.SearchPresets",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData?.name !== NODE_ID) return;
    const presets = nodeData.input?.optional?.search?.[1]?.presets ?? {};

    const onConfigure = nodeType.prototype.onConfigure;
    nodeType.prototype.onConfigure = function () {
      const result = onConfigure?.apply(this, arguments);
      const search = this.widgets?.find((w) => w.name === "search");
      const custom = this.widgets?.find((w) => w.name === "search_custom");
      if (search && custom && !(search.options?.values ?? []).includes(search.value)) {
        const text = String(search.value ?? "");
        const preset = Object.keys(presets).find((name) => presets[name] === text.trim().toLowerCase());
        if (preset) {
          search.value = preset;
        } else {
          search.value = "custom";
          custom.value = text;
        }
      }
      return result;
    };
  },
});
