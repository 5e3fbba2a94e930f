// Small DOM helpers for the trajectory editor's controls, and the URL of a picture ComfyUI serves.
import { api } from "../../../../scripts/api.js";

export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "style") node.style.cssText = v;
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

export function select(options, value) {
  const s = el("select");
  for (const o of options) s.append(el("option", { value: o, textContent: o }));
  s.value = value;
  return s;
}

export function viewUrl(ref) {
  const q = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder || "", type: ref.type || "temp" });
  return api.apiURL(`/view?${q.toString()}&rand=${Math.random()}`);
}

