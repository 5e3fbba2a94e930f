// Template browser: the pack's demos listed by the GPU they need: the fast variants first, then the Wan 2.2 5B
// ones, then the full and Wan 2.2 A14B ones. ComfyUI's server lists a custom node pack's
// templates in the order it finds the files (the filesystem's, not by name), and the browser's default sort
// ("newest") keeps that order for templates that carry no date; this gives them a fixed order instead.
// The browser shows each by its file name alone (title, and description with "_" as spaces), so the
// thumbnail (tools/authoring/thumbnails.py) says what the film is.
import { api } from "../../../scripts/api.js";

// tools/authoring/variants.py: FAST.suffix and WAN22_5B.suffix, the variants for small GPUs, in this order
const SMALL_GPU_SUFFIXES = ["_fast", "_wan22_5b"];
// This module is served at /extensions/<the pack's folder>/js/, the folder the server files its templates under.
const PACK = decodeURIComponent(new URL(import.meta.url).pathname.split("/")[2]);

function ordered(names) {
  const rank = (name) => {
    const small = SMALL_GPU_SUFFIXES.findIndex((suffix) => name.endsWith(suffix));
    return small === -1 ? SMALL_GPU_SUFFIXES.length : small;
  };
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const listTemplates = api.getWorkflowTemplates.bind(api);
api.getWorkflowTemplates = async () => {
  const templates = await listTemplates();
  if (Array.isArray(templates?.[PACK])) templates[PACK] = ordered(templates[PACK]);
  return templates;
};
