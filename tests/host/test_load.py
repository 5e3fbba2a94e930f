"""The session's server under a queue and under /interrupt.

Load: benchmarks/bench_load.py's mix of 50 prompts (every node family, valid and invalid) plus World Shot
Sampler prompts on the tiny Wan model. Interrupt: a real POST /interrupt while the sampler renders two shots
of two candidates, and while Encode References encodes many views, stops within one step or one view.
"""

from __future__ import annotations

import io
import urllib.request

import numpy as np
from graphs import widget_defaults
from PIL import Image

from worldkit.benchmarks.bench_load import Expectation, Prompt, defaults, images_of, run_load
from worldkit.tools.prompt_graph import Graph, load_wan, out
from worldkit.tools.tiny_wan import exact_shot

SIZE = 32


def sampler_family(tiny_models: dict[str, str]):
    """Two 5-frame shots of two candidates each, one sampling step: a multi-shot, multi-candidate render."""

    def build(info: dict, seed: int) -> Expectation:
        p = Prompt()
        model = p.add("UNETLoader", unet_name=tiny_models["wan_t2v"], weight_dtype="default")
        clip = p.add("CLIPLoader", clip_name=tiny_models["umt5"], type="wan", device="default")
        vae = p.add("VAELoader", vae_name=tiny_models["vae"])
        image = p.add("EmptyImage", width=SIZE, height=SIZE, batch_size=1, color=0xC04020)
        ref = p.add(
            "WorldKitReference",
            **defaults(info, "WorldKitReference", image=[image, 0], name="toy", width=SIZE, height=SIZE),
        )
        world = p.add("WorldKitWorld", reference_1=[ref, 0])
        shot = dict(entities="toy", **exact_shot(5, SIZE, SIZE))
        first = p.add("WorldKitShot", **defaults(info, "WorldKitShot", prompt="the toy waits", **shot))
        second = p.add("WorldKitShot", **defaults(info, "WorldKitShot", prompt="the toy turns", **shot))
        shots = p.add("WorldKitShotList", shot_1=[first, 0], shot_2=[second, 0])
        sampler = p.add(
            "WorldKitWorldShotSampler",
            **defaults(
                info,
                "WorldKitWorldShotSampler",
                model=[model, 0],
                clip=[clip, 0],
                vae=[vae, 0],
                world=[world, 0],
                shots=[shots, 0],
                seed=seed,
                steps=1,
                cfg=1.0,
                sampler_name="euler",
                candidates=2,
                native_frames=5,
                overlap_frames=1,
            ),
        )
        shown = p.add("PreviewImage", images=[sampler, 0])
        return Expectation(p, lambda o: None if images_of(o, shown) == 10 else f"{images_of(o, shown)} frames")

    return build


def test_fifty_mixed_prompts_complete_or_are_refused_and_memory_stays_flat(comfy, tiny_models):
    report = run_load(comfy.base_url, comfy.pid, 50, extra=[sampler_family(tiny_models)], interrupt=True)
    assert not report.misses(), "\n".join(report.misses())
    assert report.prompts == 50 and report.completed + report.rejected == 50
    assert report.rejected >= 5 and report.completed >= 40


def interrupt_after(comfy, prompt: dict, node_id: str, ticks: int) -> tuple[int | None, list[int], object]:
    """Run, POSTing /interrupt once ``node_id`` reports ``ticks`` progress; (value then, values seen, result)."""
    at_interrupt = []

    def on_event(event: dict) -> None:
        data = event.get("data", {})
        reached = event["type"] == "progress" and str(data.get("node")) == node_id and data["value"] >= ticks
        if reached and not at_interrupt:
            at_interrupt.append(data["value"])
            request = urllib.request.Request(f"{comfy.base_url}/interrupt", data=b"{}", method="POST")
            urllib.request.urlopen(request, timeout=30).close()

    result = comfy.run(prompt, expect_error=None, on_event=on_event)
    seen = [value for node, value, _ in result.progress if node == node_id]
    return (at_interrupt or [None])[0], seen, result


def test_interrupt_stops_multi_shot_multi_candidate_sampling_within_one_step(comfy, tiny_models):
    info = comfy.object_info()
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models)
    image = graph.node("EmptyImage", width=SIZE, height=SIZE, batch_size=1, color=0x40C020)
    ref = graph.node(
        "WorldKitReference",
        **widget_defaults(info, "WorldKitReference") | dict(image=out(image), name="toy", width=SIZE, height=SIZE),
    )
    world = graph.node("WorldKitWorld", reference_1=out(ref))
    shot = dict(entities="toy", **exact_shot(9, SIZE, SIZE))
    shots = [graph.node("WorldKitShot", **widget_defaults(info, "WorldKitShot") | shot | {"seed": s}) for s in (1, 2)]
    listed = graph.node("WorldKitShotList", shot_1=out(shots[0]), shot_2=out(shots[1]))
    settings = dict(steps=40, cfg=1.0, sampler_name="euler", candidates=2, native_frames=5, overlap_frames=1, seed=5)
    sampler = graph.node(
        "WorldKitWorldShotSampler",
        **widget_defaults(info, "WorldKitWorldShotSampler")
        | settings
        | dict(model=out(model), clip=out(clip), vae=out(vae), world=out(world), shots=out(listed)),
    )
    graph.node("WorldKitTestSaveTensor", name="interrupted_sampler", images=out(sampler))
    at, seen, result = interrupt_after(comfy, graph.prompt(), sampler, 3)
    assert result.interrupted and not result.error, result.error
    assert at is not None and max(seen) <= at + 1, f"steps after the interrupt: {seen}"
    assert max(seen) < 2 * 2 * 2 * 40, "the render was nowhere near its end"


def test_interrupt_stops_reference_encoding_within_one_view(comfy, tiny_models):
    info = comfy.object_info()
    graph = Graph()
    _, _, vae = load_wan(graph, tiny_models)
    views = [Image.fromarray(np.random.default_rng().integers(0, 255, (64, 64, 3), dtype=np.uint8)) for _ in range(60)]
    buffer = io.BytesIO()
    views[0].save(buffer, format="GIF", save_all=True, append_images=views[1:], duration=40)
    image = graph.node("LoadImage", image=comfy.upload_image(buffer.getvalue(), "wk_sixty_views.gif"))
    ref = graph.node(
        "WorldKitReference",
        **widget_defaults(info, "WorldKitReference") | dict(image=out(image), name="many", width=64, height=64),
    )
    encode = graph.node("WorldKitEncodeReferences", references=out(ref), vae=out(vae), width=64, height=64)
    graph.node("WorldKitTestSaveTensor", name="interrupted_encoding", text=out(encode, 2))
    at, seen, result = interrupt_after(comfy, graph.prompt(), encode, 2)
    assert result.interrupted and not result.error, result.error
    assert at is not None and max(seen) <= at + 1, f"views after the interrupt: {seen}"
    assert max(seen) < 60
