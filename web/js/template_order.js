// Template browser: the pack's demos listed fast variants first. ComfyUI's server lists a custom node pack's
// templates in the order it finds the files (the filesystem's, not by name), and the browser's default sort
// ("newest") keeps that order for templates that carry no date; this gives them a fixed order instead.
// The browser shows each by its file name alone (title, and description with "_" as spaces), so the
// thumbnail (tools/authoring/thumbnails.py) says what the film is.
import { api } from "../../../scripts/api.js";

const FAST_SUFFIX = "_fast"; // tools/authoring/variants.py: FAST.suffix
// This module is served at /extensions/<the pack's folder>/js/, the folder the server files its templates under.
const PACK = decodeURIComponent(new URL(import.meta.url).pathname.split("/")[2]);

function ordered(names) {
  const rank = (name) => (name.endsWith(FAST_SUFFIX) ? 0 : 1);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const listTemplates = api.getWorkflowTemplates.bind(api);
api.getWorkflowTemplates = async () => {
  const templates = await listTemplates();
  if (Array.isArray(templates?.[PACK])) templates[PACK] = ordered(templates[PACK]);
  return templates;
};
