// Drawing one track on the editor's canvas: its path over the clip, its numbered keypoints, and a ring where
// the node puts it on the current frame.
import { COLORS } from "./state.js";

export function drawTrack(ctx, track, path, view) {
  const { active, selected, frame, numFrames, frameWidth, frameHeight, cw, ch } = view;
  const kps = track.keypoints;
  if (!kps.length) return;
  const color = track.color || COLORS[0];
  const [sx, sy] = [cw / frameWidth, ch / frameHeight];
  ctx.lineWidth = active ? 2 : 1;
  ctx.strokeStyle = color;
  ctx.globalAlpha = active ? 1 : 0.6;
  if (path.at) {
    ctx.beginPath();
    for (let f = 0; f < numFrames; f++) {
      const p = path.at(f);
      if (f === 0) ctx.moveTo(p.x * sx, p.y * sy); else ctx.lineTo(p.x * sx, p.y * sy);
    }
    ctx.stroke();
  }
  kps.forEach((kp, k) => {
    ctx.beginPath();
    ctx.arc(kp.x * cw, kp.y * ch, 6, 0, Math.PI * 2);
    ctx.fillStyle = active && k === selected ? "#fff" : color;
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
    const p = path.at(frame);
    ctx.beginPath();
    ctx.arc(p.x * sx, p.y * sy, 9, 0, Math.PI * 2);
    ctx.strokeStyle = color;
    ctx.lineWidth = 3;
    ctx.globalAlpha = p.visible ? 1 : 0.3;
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
}
