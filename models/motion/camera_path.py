"""A shot's camera move as a camera path for Wan Fun Camera: per-frame poses and focal lengths, and their Plücker
embedding packed as ComfyUI's WanCameraEmbedding packs it (comfy_extras/nodes_camera_trajectory.py, after
CameraCtrl).

The native node has nine presets, named by what the picture does: its "Pan" presets slide the camera (a truck or
a crane) and its "Zoom" presets move it forward or back (a dolly). The moves it has no preset for are built from
the same camera model (OpenCV axes: x right, y down, z forward; rotations Rz·Ry·Rx): a pan or tilt turns the
camera, an orbit turns it about a point in front while circling that point, a zoom lengthens or shortens the
focal length without moving the camera, and handheld adds a small smooth shake.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..shared.wan import FRAME_STEP

BASE_TRANSLATION = 1.5  # the native CAMERA_DICT's base_T_norm: scene units a preset travels at speed 1
BASE_ANGLE = math.pi / 3  # the native CAMERA_DICT's base_angle: radians a preset turns at speed 1
REFERENCE_SECONDS = 5.0  # a shot's move covers one preset's travel (its speed 1) in this many seconds
FOCAL = (0.5, 0.5, 0.5, 0.5)  # fx, fy, cx, cy as shares of the frame: the native node's defaults
POSE_SIZE = (1280, 720)  # the frame size the native node's intrinsics are given for (its original_pose_*)
ZOOM_BASE = 2.0  # a zoom at speed 1 doubles (or halves) the focal length
SHAKE_CYCLES = (2.3, 3.1, 1.7)  # handheld: shake cycles per reference move, about x, y and z
SHAKE_PHASES = (0.0, 1.3, 2.1)


@dataclass(frozen=True)
class CameraMotion:
    """One move at speed 1: turn and travel as fractions of the native base angle and distance, plus the moves
    the native presets lack. ``preset`` names the WanCameraEmbedding pose it equals, if any."""

    angle: tuple[float, float, float] = (0.0, 0.0, 0.0)  # about x (tilt up +), y (pan right +), z (roll)
    travel: tuple[float, float, float] = (0.0, 0.0, 0.0)  # along x (right), y (down), z (forward)
    pivot: float = 0.0  # orbit: how far in front (in base distances) the camera turns about
    zoom: float = 0.0  # focal length scales by ZOOM_BASE ** (zoom * speed) over the move
    shake: float = 0.0  # handheld: shake amplitude in radians
    preset: str | None = None


NATIVE_PRESETS = {
    "Static": CameraMotion(preset="Static"),
    "Pan Up": CameraMotion(travel=(0.0, -1.0, 0.0), preset="Pan Up"),
    "Pan Down": CameraMotion(travel=(0.0, 1.0, 0.0), preset="Pan Down"),
    "Pan Left": CameraMotion(travel=(-1.0, 0.0, 0.0), preset="Pan Left"),
    "Pan Right": CameraMotion(travel=(1.0, 0.0, 0.0), preset="Pan Right"),
    "Zoom In": CameraMotion(travel=(0.0, 0.0, 2.0), preset="Zoom In"),
    "Zoom Out": CameraMotion(travel=(0.0, 0.0, -2.0), preset="Zoom Out"),
    "Anti Clockwise (ACW)": CameraMotion(angle=(0.0, 0.0, -1.0), preset="Anti Clockwise (ACW)"),
    "ClockWise (CW)": CameraMotion(angle=(0.0, 0.0, 1.0), preset="ClockWise (CW)"),
}
TURN = 0.5  # pans, tilts and orbits turn half the base angle (30 degrees) at speed 1
SHOT_MOTIONS = {
    "static": NATIVE_PRESETS["Static"],
    "truck left": NATIVE_PRESETS["Pan Left"],
    "truck right": NATIVE_PRESETS["Pan Right"],
    "crane up": NATIVE_PRESETS["Pan Up"],
    "crane down": NATIVE_PRESETS["Pan Down"],
    "dolly in": NATIVE_PRESETS["Zoom In"],
    "dolly out": NATIVE_PRESETS["Zoom Out"],
    "pan left": CameraMotion(angle=(0.0, -TURN, 0.0)),
    "pan right": CameraMotion(angle=(0.0, TURN, 0.0)),
    "tilt up": CameraMotion(angle=(TURN, 0.0, 0.0)),
    "tilt down": CameraMotion(angle=(-TURN, 0.0, 0.0)),
    "orbit": CameraMotion(angle=(0.0, -TURN, 0.0), pivot=2.0),  # circles right, turning left to keep the subject
    "zoom in": CameraMotion(zoom=1.0),
    "zoom out": CameraMotion(zoom=-1.0),
    "handheld": CameraMotion(shake=0.01),
}


class CameraPathError(ValueError):
    """A camera move or speed that no path can be built for; the message lists what works."""


@dataclass(frozen=True)
class CameraPath:
    """Per-frame camera-to-world poses [N, 4, 4] (float64) and intrinsics [N, 4] (fx, fy, cx, cy shares)."""

    move: str
    speed: float
    poses: np.ndarray
    intrinsics: np.ndarray
    preset: str | None
    start: int = 0  # the shot frame the path's first pose is (a long shot's later segment continues the move)

    def from_frame(self, start: int) -> CameraPath:
        """The path from frame ``start`` on: a later segment of a long shot carries on the move, its zoom and its
        shake where the segment before left them (the embedding reads poses relative to the segment's first)."""
        return replace(self, poses=self.poses[start:], intrinsics=self.intrinsics[start:], start=self.start + start)

    def report(self, samples: int = 5) -> dict:
        """The path at a few frames: where the camera is, how it is turned (degrees) and its focal scale."""
        count = len(self.poses)
        frames = sorted({round(i * (count - 1) / (samples - 1)) for i in range(samples)})
        return {
            "move": self.move,
            "native_preset": self.preset,
            "speed": round(self.speed, 6),
            "frames": count,
            "from_frame": self.start,
            "path": [
                {
                    "frame": frame,
                    "position": [round(float(v), 4) for v in self.poses[frame, :3, 3]],
                    "pan_tilt_roll_deg": [round(v, 3) + 0.0 for v in _pan_tilt_roll(self.poses[frame, :3, :3])],
                    "focal_scale": round(float(self.intrinsics[frame, 0] / self.intrinsics[0, 0]), 4),
                }
                for frame in frames
            ],
        }


def _pan_tilt_roll(rotation: np.ndarray) -> tuple[float, float, float]:
    forward = rotation[:, 2]
    pan = math.degrees(math.atan2(forward[0], forward[2]))
    tilt = math.degrees(math.atan2(-forward[1], math.hypot(forward[0], forward[2])))
    roll = math.degrees(math.atan2(rotation[1, 0], rotation[0, 0]))
    return pan, tilt, roll


def move_speed(frames: int, fps: int) -> float:
    """The speed at which frame i of a clip is i / fps seconds into the move, so a move keeps its pace whatever the
    clip's length: a longer shot, or a later segment of one, travels further (81 frames at 16 fps: 1.0125, the
    last frame REFERENCE_SECONDS in)."""
    return frames / (fps * REFERENCE_SECONDS)


def rotation(angles: np.ndarray) -> np.ndarray:
    """Rz·Ry·Rx of (x, y, z) radians, as the native camera model composes them."""
    theta_x, theta_y, theta_z = angles
    rx = np.array([[1, 0, 0], [0, np.cos(theta_x), -np.sin(theta_x)], [0, np.sin(theta_x), np.cos(theta_x)]])
    ry = np.array([[np.cos(theta_y), 0, np.sin(theta_y)], [0, 1, 0], [-np.sin(theta_y), 0, np.cos(theta_y)]])
    rz = np.array([[np.cos(theta_z), -np.sin(theta_z), 0], [np.sin(theta_z), np.cos(theta_z), 0], [0, 0, 1]])
    return np.dot(rz, np.dot(ry, rx))


def camera_path(move: str, frames: int, speed: float) -> CameraPath:
    """The path of a shot's camera move over ``frames`` frames at ``speed`` (see move_speed)."""
    if move not in SHOT_MOTIONS:
        raise CameraPathError(f"Camera move {move!r} has no camera path; use one of {', '.join(SHOT_MOTIONS)}.")
    if not (math.isfinite(speed) and speed >= 0.0):
        raise CameraPathError(f"Camera speed {speed} must be a finite number of 0 or more.")
    motion = SHOT_MOTIONS[move]
    angle, travel = np.array(motion.angle), np.array(motion.travel)
    pivot = np.array([0.0, 0.0, motion.pivot * BASE_TRANSLATION])
    poses, intrinsics = [], []
    for i in range(frames):
        progress = (i / frames) * speed  # the native i / n: frame n would complete the move
        turned = progress * BASE_ANGLE * angle
        if motion.shake:
            turned = turned + _shake(motion.shake, progress)
        turn = rotation(turned)
        offset = progress * BASE_TRANSLATION * travel.reshape(3, 1)
        if motion.pivot:
            offset = offset + (pivot - turn @ pivot).reshape(3, 1)
        pose = np.eye(4)
        pose[:3] = np.concatenate([turn, offset], axis=1)
        poses.append(pose)
        scale = ZOOM_BASE ** (motion.zoom * progress)
        fx, fy, cx, cy = FOCAL
        intrinsics.append([fx * scale, fy * scale, cx, cy])
    return CameraPath(move, speed, np.stack(poses), np.array(intrinsics), motion.preset)


def _shake(amplitude: float, progress: float) -> np.ndarray:
    return amplitude * np.sin([2 * math.pi * c * progress + p for c, p in zip(SHAKE_CYCLES, SHAKE_PHASES, strict=True)])


def _pixel_intrinsics(intrinsics: np.ndarray, width: int, height: int) -> torch.Tensor:
    """[1, N, 4] focal lengths and centres in pixels, the focal corrected from POSE_SIZE's aspect to the frame's."""
    fx, fy, cx, cy = (intrinsics[:, k].copy() for k in range(4))
    frame_aspect, pose_aspect = width / height, POSE_SIZE[0] / POSE_SIZE[1]
    if pose_aspect > frame_aspect:
        fx = height * pose_aspect * fx / width
    else:
        fy = width / pose_aspect * fy / height
    pixels = np.stack([fx * width, fy * height, cx * width, cy * height], axis=1)
    return torch.as_tensor(pixels.astype(np.float32))[None]


def _relative_poses(poses: np.ndarray) -> torch.Tensor:
    """[1, N, 4, 4]: every pose relative to the first (the first is the identity)."""
    to_first = np.linalg.inv(poses[0])
    relative = [np.eye(4)] + [to_first @ pose for pose in poses[1:]]
    return torch.as_tensor(np.array(relative, dtype=np.float32))[None]


def plucker_rays(intrinsics: torch.Tensor, poses: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """[N, H, W, 6] Plücker coordinates (o x d, d) of every pixel's ray, from [1, N, 4] intrinsics and
    [1, N, 4, 4] camera-to-world poses (CameraCtrl's ray_condition)."""
    j, i = torch.meshgrid(
        torch.linspace(0, height - 1, height, dtype=poses.dtype),
        torch.linspace(0, width - 1, width, dtype=poses.dtype),
        indexing="ij",
    )
    i = i.reshape([1, 1, height * width]) + 0.5
    j = j.reshape([1, 1, height * width]) + 0.5
    fx, fy, cx, cy = intrinsics.chunk(4, dim=-1)
    zs = torch.ones_like(i)
    xs = (i - cx) / fx * zs
    ys = (j - cy) / fy * zs
    directions = torch.stack((xs, ys, zs.expand_as(ys)), dim=-1)
    directions = directions / directions.norm(dim=-1, keepdim=True)
    rays_d = directions @ poses[..., :3, :3].transpose(-1, -2)
    rays_o = poses[..., :3, 3][:, :, None].expand_as(rays_d)
    plucker = torch.cat([torch.linalg.cross(rays_o, rays_d, dim=-1), rays_d], dim=-1)
    return plucker.reshape(poses.shape[1], height, width, 6)


def camera_embedding(path: CameraPath, width: int, height: int) -> torch.Tensor:
    """[1, 24, latent frames, H, W]: the path's rays, the first frame repeated to fill its latent frame and every
    four frames stacked on the channels, as WanCameraEmbedding outputs them."""
    rays = plucker_rays(_pixel_intrinsics(path.intrinsics, width, height), _relative_poses(path.poses), height, width)
    video = rays.permute(3, 0, 1, 2).unsqueeze(0)
    video = torch.cat([video[:, :, :1].repeat_interleave(FRAME_STEP, dim=2), video[:, :, 1:]], dim=2)
    video = video.transpose(1, 2)
    b, f, c, h, w = video.shape
    video = video.contiguous().view(b, f // FRAME_STEP, FRAME_STEP, c, h, w).transpose(2, 3)
    return video.contiguous().view(b, f // FRAME_STEP, c * FRAME_STEP, h, w).transpose(1, 2)
