"""GVFX step by step against the library a compositor would reach for instead: same frames, same threads.

Each step of the GVFX chain runs on the same 1280x720 frames through WorldKit's engine and through its library
counterpart: an OpenCV HSV key, pymatting's closed-form matte and multi-level foreground, color-matcher's MKL and
Reinhard transfers, scikit-image's noise estimate with numpy's Gaussian noise, OpenCV's Gaussian blur, warp and
filters, kornia's motion blur and linear-light conversion. Both sides get the same N cores: the engine spreads frames
over them, and the library side runs frames on N threads too, each library call single-threaded inside (OpenCV,
torch, numba and BLAS limited to one thread). Each step's inputs are the engine's outputs of the steps before, so
both sides see identical frames. Prints per step our ms per frame, the library's, the ratio, and how far the two
outputs agree (mean absolute difference and PSNR on the region stated); exits non-zero when a target is missed.

    python benchmarks/bench_gvfx.py [--frames 24] [--threads 2] [--repeats 2] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import cv2
import kornia
import numba
import numpy as np
import psutil
import pymatting
import torch
from color_matcher import ColorMatcher
from gvfx_scene import scene_frames
from skimage.restoration import estimate_sigma
from threadpoolctl import threadpool_limits

from worldkit.models.compositing.chroma_key import chroma_key
from worldkit.models.compositing.color_match import match_colors
from worldkit.models.compositing.composite import composite_over
from worldkit.models.compositing.defocus import defocus
from worldkit.models.compositing.grain import match_grain
from worldkit.models.compositing.light_wrap import light_wrap
from worldkit.models.compositing.matte import MatteSettings, refine_matte
from worldkit.models.compositing.motion_blur import motion_blur
from worldkit.models.compositing.shadow import cast_matrix, contact_shadow, solid_rows
from worldkit.models.compositing.trimap import trimap
from worldkit.models.compositing.unmix import unmix_foreground

numba.config.THREADING_LAYER = "omp"  # numba's default layer cannot be entered from several threads at once

HEIGHT, WIDTH = 720, 1280
RADIUS = 8  # the matte's edge band either side of the rough edge, as in the streamed chain
MATTE = MatteSettings(radius=RADIUS, eps=1e-3, clip_black=0.05, clip_white=0.95, temporal=0.0)
WRAP_RADIUS, WRAP_STRENGTH = 24.0, 0.6
SHADOW = {"angle": 120.0, "length": 0.35, "softness": 12.0, "opacity": 0.6}
DEFOCUS_SIGMA = 1.5
VELOCITY, SHUTTER = (6.0, 0.0), 0.5

Frames = tuple[np.ndarray, ...]  # one frame's outputs of a step


# ---------------------------------------------------------------- the library side, one frame at a time


def hsv_key(frame: np.ndarray) -> Frames:
    """The usual OpenCV key: screen hues selected in HSV, the selection softened by 1 px; green limited to the larger
    of red and blue."""
    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)  # float input: hue in degrees, saturation and value 0..1
    screen = cv2.inRange(hsv, (90.0, 0.4, 0.2), (150.0, 1.0, 1.0)).astype(np.float32) / 255
    despilled = frame.copy()
    np.minimum(despilled[..., 1], np.maximum(frame[..., 0], frame[..., 2]), out=despilled[..., 1])
    return despilled, 1 - cv2.GaussianBlur(screen, (0, 0), 1.0)


def pymatting_alpha(image: np.ndarray, rough: np.ndarray) -> Frames:
    """Closed-form matting given the trimap the engine draws from the rough mask: (the image, its matte), as Matte
    Refine's outputs."""
    subject, background = trimap(rough, RADIUS)
    known = np.full(rough.shape, 0.5)
    known[subject], known[background] = 1.0, 0.0
    return image, np.clip(pymatting.estimate_alpha_cf(image.astype(np.float64), known), 0, 1).astype(np.float32)


def pymatting_foreground(image: np.ndarray, alpha: np.ndarray) -> Frames:
    return (pymatting.estimate_foreground_ml(image.astype(np.float64), alpha.astype(np.float64)).astype(np.float32),)


def color_matcher(method: str) -> Callable[[np.ndarray, np.ndarray], Frames]:
    def transfer(element: np.ndarray, plate: np.ndarray) -> Frames:
        out = ColorMatcher().transfer(src=element.astype(np.float64), ref=plate.astype(np.float64), method=method)
        return (np.clip(out, 0, 1).astype(np.float32),)

    return transfer


def noise_grain(element: np.ndarray, plate: np.ndarray, index: int) -> Frames:
    """Gaussian noise of the level the plate has and the element lacks, per channel (wavelet noise estimates)."""
    plate_level, element_level = (np.asarray(estimate_sigma(x, channel_axis=-1)) for x in (plate, element))
    missing = np.sqrt(np.clip(plate_level**2 - element_level**2, 0, None))
    noise = np.random.default_rng(index).standard_normal(element.shape, np.float32) * missing.astype(np.float32)
    return (np.clip(element + noise, 0, 1),)


def blur_wrap(element: np.ndarray, matte: np.ndarray, plate: np.ndarray) -> Frames:
    glow = cv2.GaussianBlur(plate, (0, 0), WRAP_RADIUS, borderType=cv2.BORDER_REFLECT)
    seen = cv2.GaussianBlur(1 - matte, (0, 0), WRAP_RADIUS, borderType=cv2.BORDER_REFLECT)
    wrap = glow * (seen * matte * WRAP_STRENGTH)[..., None]
    return (element + wrap * (1 - element),)


def to_linear(frame: np.ndarray) -> torch.Tensor:
    return kornia.color.rgb_to_linear_rgb(torch.from_numpy(frame).permute(2, 0, 1))


def to_srgb(linear: torch.Tensor) -> np.ndarray:
    return kornia.color.linear_rgb_to_rgb(linear.clamp(0, 1)).permute(1, 2, 0).numpy()


def warp_shadow(plate: np.ndarray, matte: np.ndarray) -> Frames:
    """The matte warped onto the ground line (the engine's cast geometry), blurred from 1 px at contact to the
    softness at its far end, multiplied into the plate in linear light."""
    extent = solid_rows(matte)
    if extent is None:
        return plate, np.zeros_like(matte)
    top, ground = extent
    cast = cv2.warpAffine(matte, cast_matrix(ground, SHADOW["angle"], SHADOW["length"]), (WIDTH, HEIGHT))
    sharp = cv2.GaussianBlur(cast, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT)
    soft = cv2.GaussianBlur(cast, (0, 0), SHADOW["softness"], borderType=cv2.BORDER_REFLECT)
    reach = max(1.0, SHADOW["length"] * (ground - top))
    spread = np.clip(np.abs(ground - np.arange(HEIGHT, dtype=np.float32))[:, None] / reach, 0, 1)
    shadow = np.clip((sharp + (soft - sharp) * spread) * SHADOW["opacity"], 0, 1)
    return to_srgb(to_linear(plate) * torch.from_numpy(1 - shadow)), shadow


def unpremultiplied(blurred: np.ndarray) -> Frames:
    coverage = np.clip(blurred[..., 3], 0, 1)
    return np.clip(blurred[..., :3] / np.maximum(coverage, 1e-6)[..., None], 0, 1), coverage


def gaussian_defocus(element: np.ndarray, alpha: np.ndarray) -> Frames:
    premultiplied = cv2.merge([element * alpha[..., None], alpha])
    return unpremultiplied(cv2.GaussianBlur(premultiplied, (0, 0), DEFOCUS_SIGMA, borderType=cv2.BORDER_REFLECT))


def kornia_motion_blur(element: np.ndarray, alpha: np.ndarray) -> Frames:
    """kornia's line kernel as long as the shutter's streak (odd, as kornia's kernels are), over premultiplied RGBA."""
    length = math.hypot(*VELOCITY) * SHUTTER
    angle = math.degrees(math.atan2(VELOCITY[1], VELOCITY[0]))
    premultiplied = torch.from_numpy(cv2.merge([element * alpha[..., None], alpha])).permute(2, 0, 1)[None]
    blurred = kornia.filters.motion_blur(premultiplied, max(3, int(length) | 1), angle, 0.0, "constant")
    return unpremultiplied(blurred[0].permute(1, 2, 0).numpy())


def linear_over(plate: np.ndarray, element: np.ndarray, alpha: np.ndarray) -> Frames:
    a = torch.from_numpy(alpha)[None]
    return (to_srgb(to_linear(element) * a + to_linear(plate) * (1 - a)),)


# ---------------------------------------------------------------- agreement


def mad_psnr(ours: np.ndarray, theirs: np.ndarray, where: np.ndarray | None = None) -> tuple[float, float]:
    """Mean absolute difference and PSNR (peak 1) over `where` (the whole frame without it)."""
    difference = np.abs(ours - theirs)
    if where is not None:
        difference = difference[where]
    mse = float(np.mean(difference**2))
    return float(difference.mean()), 10 * math.log10(1 / mse) if mse > 0 else math.inf


def edge(*alphas: np.ndarray) -> np.ndarray:
    """Pixels within 2 px of where either matte is partial: where two mattes of the same picture can differ."""
    partial = np.zeros(alphas[0].shape, np.uint8)
    for alpha in alphas:
        partial |= ((alpha > 0.01) & (alpha < 0.99)).astype(np.uint8)
    return cv2.dilate(partial, np.ones((5, 5), np.uint8)) > 0


def premultiplied(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.dstack([colour * alpha[..., None], alpha])


# ---------------------------------------------------------------- the clips both sides work on

Outputs = tuple[torch.Tensor, ...]  # a step's outputs for the whole clip
Region = Callable[[int, np.ndarray, np.ndarray], np.ndarray]  # (frame index, ours, theirs) -> pixels compared
Agreement = Callable[[Outputs, list[Frames]], tuple[float, float]]  # -> (mean absolute difference, PSNR)


class Clip:
    """The clips by name (the scene's plate and element, then each step's engine outputs) and the agreement
    measures over them."""

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.clips = {
            "plate": torch.from_numpy(np.stack(list(scene_frames(WIDTH, HEIGHT, frames, element=False)))),
            "element": torch.from_numpy(np.stack(list(scene_frames(WIDTH, HEIGHT, frames, element=True)))),
        }

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.clips[name]

    def frame(self, name: str, index: int) -> np.ndarray:
        return self.clips[name][index].numpy()

    def kept(self, names: tuple[str, ...], ours: Callable[[], Outputs]) -> Callable[[], Outputs]:
        """`ours`, its outputs kept under `names` as the inputs of the steps after it."""

        def run() -> Outputs:
            outputs = ours()
            self.clips.update(zip(names, outputs, strict=True))
            return outputs

        return run

    def compare(self, output: int, region: Region | None = None) -> Agreement:
        """One output's mean absolute difference and PSNR over `region` (the whole frame without it), averaged over
        the frames."""

        def agreement(ours: Outputs, theirs: list[Frames]) -> tuple[float, float]:
            scores = []
            for index in range(self.frames):
                a, b = ours[output][index].numpy(), theirs[index][output]
                scores.append(mad_psnr(a, b, None if region is None else region(index, a, b)))
            difference, psnr = zip(*scores, strict=True)
            return float(np.mean(difference)), float(np.mean(psnr))

        return agreement

    def band(self, index: int, ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
        """The trimap's unknown band: where a matte is solved."""
        subject, background = trimap(self.frame("rough", index), RADIUS)
        return ~(subject | background)

    def alpha_edges(self, index: int, ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
        return edge(ours, theirs)

    def matte_edge(self, index: int, ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
        return edge(self.frame("matte", index))

    def covered(self, name: str) -> Region:
        """Where the engine's mask `name` is above 0.001: where the step changes anything."""
        return lambda index, ours, theirs: self.frame(name, index) > 1e-3

    def shown_foreground(self, ours: Outputs, theirs: list[Frames]) -> tuple[float, float]:
        """The foregrounds as a composite shows them: times the matte, on its edge (inside it both are the picture)."""
        matte = self.clips["matte"][..., None]
        scaled = [(f[0] * self.frame("matte", i)[..., None],) for i, f in enumerate(theirs)]
        return self.compare(0, self.matte_edge)((ours[0] * matte,), scaled)

    def grain_level(self, ours: Outputs, theirs: list[Frames]) -> tuple[float, float]:
        """How far apart the two outputs' noise levels are (wavelet estimate, mean of the channels), as a share of the
        plate's; no PSNR, since each side draws its own noise."""

        def level(frame: np.ndarray) -> float:
            return float(np.mean(estimate_sigma(frame, channel_axis=-1)))

        apart = [abs(level(ours[0][i].numpy()) - level(theirs[i][0])) for i in range(self.frames)]
        return float(np.mean(apart)) / np.mean([level(self.frame("plate", i)) for i in range(self.frames)]), math.nan

    def premultiplied_rgba(self, name: str) -> Agreement:
        """The (colour, alpha) outputs compared as premultiplied RGBA where the engine's alpha `name` covers."""

        def agreement(ours: Outputs, theirs: list[Frames]) -> tuple[float, float]:
            rgba = torch.cat([ours[0] * ours[1][..., None], ours[1][..., None]], -1)
            return self.compare(0, self.covered(name))((rgba,), [(premultiplied(*f),) for f in theirs])

        return agreement


# ---------------------------------------------------------------- the run


@dataclasses.dataclass
class Step:
    """One GVFX step and its library counterpart, with the targets it is held to."""

    name: str
    library_name: str
    ours: Callable[[], Outputs]  # the whole clip through the engine
    library: Callable[[int], Frames]  # one frame through the library
    agreement: Agreement
    region: str  # where agreement is measured, in words
    max_ratio: float  # ours' time over the library's
    max_difference: float  # mean absolute difference (for grain: noise levels apart, as a share of the plate's)


def steps(clip: Clip) -> list[Step]:
    """The chain's steps in order, each reading the engine's outputs of the steps before."""

    def alpha_cf(index: int) -> Frames:  # one function for both refine rows: the closed-form matte is run once
        return pymatting_alpha(clip.frame("keyed", index), clip.frame("rough", index))

    return [
        Step(
            "Chroma Key",
            "OpenCV HSV key",
            clip.kept(("keyed", "rough"), lambda: chroma_key(clip["element"], "green", 0.5, 0.1, 0.9, 1.0)),
            lambda i: hsv_key(clip.frame("element", i)),
            clip.compare(1, clip.alpha_edges),
            "alpha, on the edge",
            1.5,  # ours also models the screen per pixel, un-mixes the edge and limits spill
            0.1,  # a hard key softened by 1 px against a soft one: a sanity bound (quality: bench_compositing_quality)
        ),
        Step(
            "Matte Refine (fast)",
            "pymatting closed-form",
            clip.kept(("keyed", "matte"), lambda: refine_matte(clip["keyed"], clip["rough"], MATTE)),
            alpha_cf,
            clip.compare(1, clip.band),
            "alpha, in the trimap's band",
            0.1,
            0.05,
        ),
        Step(
            "Matte Refine (accurate)",
            "pymatting closed-form",
            lambda: refine_matte(clip["keyed"], clip["rough"], dataclasses.replace(MATTE, quality="accurate")),
            alpha_cf,
            clip.compare(1, clip.band),
            "alpha, in the trimap's band",
            1.0,
            0.02,
        ),
        Step(
            "Un-mixed foreground",
            "pymatting multi-level",
            clip.kept(("foreground",), lambda: (unmix_foreground(clip["keyed"], clip["matte"], RADIUS),)),
            lambda i: pymatting_foreground(clip.frame("keyed", i), clip.frame("matte", i)),
            clip.shown_foreground,
            "colour times alpha, on the edge",
            0.5,
            0.02,
        ),
        Step(
            "Color Match (mkl)",
            "color-matcher mkl",
            lambda: (match_colors(clip["foreground"], clip["plate"], "mkl"),),
            lambda i: color_matcher("mkl")(clip.frame("foreground", i), clip.frame("plate", i)),
            clip.compare(0),
            "whole frame",
            1.0,
            0.02,
        ),
        Step(
            "Color Match (reinhard_lab)",
            "color-matcher reinhard",
            clip.kept(("graded",), lambda: (match_colors(clip["foreground"], clip["plate"], "reinhard_lab"),)),
            lambda i: color_matcher("reinhard")(clip.frame("foreground", i), clip.frame("plate", i)),
            clip.compare(0),
            "whole frame (CIE LAB against l-alpha-beta)",
            1.0,
            0.05,
        ),
        Step(
            "Grain Match",
            "scikit-image sigma + numpy noise",
            clip.kept(("grained",), lambda: (match_grain(clip["graded"], clip["plate"]),)),
            lambda i: noise_grain(clip.frame("graded", i), clip.frame("plate", i), i),
            clip.grain_level,
            "noise level apart / the plate's",
            1.0,
            0.25,
        ),
        Step(
            "Light Wrap",
            "OpenCV Gaussian blurs",
            clip.kept(
                ("wrapped",),
                lambda: (light_wrap(clip["grained"], clip["matte"], clip["plate"], WRAP_RADIUS, WRAP_STRENGTH),),
            ),
            lambda i: blur_wrap(clip.frame("grained", i), clip.frame("matte", i), clip.frame("plate", i)),
            clip.compare(0, clip.covered("matte")),
            "under the matte",
            1.0,
            0.005,
        ),
        Step(
            "Contact Shadow",
            "OpenCV warp + blur, kornia linear light",
            clip.kept(("shadowed", "shadow"), lambda: contact_shadow(clip["plate"], clip["matte"], **SHADOW)),
            lambda i: warp_shadow(clip.frame("plate", i), clip.frame("matte", i)),
            clip.compare(0, clip.covered("shadow")),
            "under the shadow",
            1.0,
            0.005,
        ),
        Step(
            "Defocus Match",
            "OpenCV Gaussian blur",
            clip.kept(("soft", "soft_alpha"), lambda: defocus(clip["wrapped"], clip["matte"], DEFOCUS_SIGMA)),
            lambda i: gaussian_defocus(clip.frame("wrapped", i), clip.frame("matte", i)),
            clip.premultiplied_rgba("soft_alpha"),
            "premultiplied RGBA, under the alpha",
            1.0,
            0.002,
        ),
        Step(
            "Motion Blur",
            "kornia motion blur",
            clip.kept(
                ("streaked", "streak_alpha"),
                lambda: motion_blur(clip["soft"], clip["soft_alpha"], torch.tensor([VELOCITY]), SHUTTER),
            ),
            lambda i: kornia_motion_blur(clip.frame("soft", i), clip.frame("soft_alpha", i)),
            clip.premultiplied_rgba("streak_alpha"),
            "premultiplied RGBA, under the alpha",
            1.0,
            0.005,
        ),
        Step(
            "Composite Over",
            "kornia linear-light over",
            lambda: composite_over(clip["shadowed"], clip["streaked"], clip["streak_alpha"]),
            lambda i: linear_over(clip.frame("shadowed", i), clip.frame("streaked", i), clip.frame("streak_alpha", i)),
            clip.compare(0, clip.covered("streak_alpha")),
            "under the alpha",
            1.0,
            0.002,
        ),
    ]


def best(run: Callable[[], object], repeats: int) -> tuple[float, object]:
    """The best wall seconds of `repeats` runs, and the last run's result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def frame_spread(work: Callable[[int], Frames], frames: int, threads: int) -> list[Frames]:
    """`work` on every frame, frames spread over `threads` threads as the engine spreads them."""

    def single_threaded(index: int) -> Frames:
        numba.set_num_threads(1)  # per thread in numba
        return work(index)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(single_threaded, range(frames)))


def run_steps(clip: Clip, threads: int, repeats: int) -> list[str]:
    """Each step on both sides, a line each; the targets missed."""
    print(
        f"{'step':28} {'library':40} {'ours ms/f':>10} {'lib ms/f':>10} {'ratio':>7} {'target':>7}   "
        f"{'MAD':>7} {'target':>7} {'PSNR':>6}  region"
    )
    missed, library_runs = [], {}
    for step in steps(clip):
        ours_s, ours = best(step.ours, repeats)
        if step.library not in library_runs:
            library_runs[step.library] = best(
                lambda step=step: frame_spread(step.library, clip.frames, threads), repeats
            )
        library_s, theirs = library_runs[step.library]
        ratio = ours_s / library_s
        difference, psnr = step.agreement(ours, theirs)
        print(
            f"{step.name:28} {step.library_name:40} {ours_s / clip.frames * 1e3:10.1f} "
            f"{library_s / clip.frames * 1e3:10.1f} {ratio:7.2f} {step.max_ratio:7.2f}   {difference:7.4f} "
            f"{step.max_difference:7.4f} {psnr:6.1f}  {step.region}",
            flush=True,
        )
        if ratio > step.max_ratio:
            missed.append(f"{step.name} {ratio:.2f}x the library's time (target <= {step.max_ratio})")
        if not difference <= step.max_difference:
            missed.append(f"{step.name} differs by {difference:.4f} (target <= {step.max_difference})")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24, help="a second of clip: clip-wide measurements amortise")
    parser.add_argument("--threads", type=int, default=2, help="cores for each side (the process is pinned to them)")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs of each side; the best is reported")
    parser.add_argument("--quick", action="store_true", help="3 frames (the clip-wide measurements weigh more)")
    args = parser.parse_args()
    available = sorted(os.sched_getaffinity(0))
    if args.threads > len(available):
        raise SystemExit(f"--threads {args.threads}: only {len(available)} cores are available to this process")
    os.sched_setaffinity(0, available[: args.threads])  # the engine spreads frames over the cores it may use
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    clip = Clip(3 if args.quick else args.frames)
    print(
        f"{clip.frames} frames at {WIDTH}x{HEIGHT}, {args.threads} threads each side, best of {args.repeats}; "
        f"load average {psutil.getloadavg()[0]:.2f} (other work on the machine slows both sides)"
    )
    with threadpool_limits(1), torch.inference_mode():
        missed = run_steps(clip, args.threads, args.repeats)
    print(f"load average after: {psutil.getloadavg()[0]:.2f}")
    print("targets met" if not missed else "missed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
