"""The consistency search in World Shot Sampler through a real ComfyUI server with tiny Wan models."""

from __future__ import annotations

import json

import pytest
import torch
from sampler_graph import CHAIN_SIZE, SamplerGraph

from worldkit.tools.prompt_graph import out

CANDIDATES, STEPS, SEED = 4, 5, 30
SCHEDULE = "2@0.2>1@0.4"  # with 5 steps: best 2 after step 1, best 1 after step 2


def count_calls(graph: SamplerGraph, model: str, name: str) -> str:
    return graph.graph.node("WorldKitTestCountCalls", model=out(model), name=name)


def read_calls(comfy, name: str) -> list[int]:
    return json.loads((comfy.output_dir / f"{name}.calls.json").read_text())


@pytest.mark.parametrize(
    ("sampler_name", "full_run"),
    [("dpmpp_2m", True), ("euler_ancestral", False)],  # multistep history; per-step noise from the seed
)
def test_the_winner_equals_a_lone_render_of_its_seed_and_pruned_candidates_stop_sampling(
    comfy, tiny_models, sampler_name, full_run
):
    graph = SamplerGraph(comfy, tiny_models)
    settings = dict(steps=STEPS, sampler_name=sampler_name)
    plain = graph.model
    graph.model = count_calls(graph, plain, f"search_{sampler_name}")
    node = graph.sampler("search", seed=SEED, candidates=CANDIDATES, search=SCHEDULE, **settings)
    if full_run:  # the negative control: the same model counted without the search
        graph.model = count_calls(graph, plain, f"full_{sampler_name}")
        graph.sampler("full", seed=SEED, candidates=CANDIDATES, search="off", **settings)
    graph.model = plain
    for offset in range(CANDIDATES):
        graph.sampler(f"lone{offset}", seed=SEED + offset, candidates=1, **settings)
    probes = graph.run()
    frames, report = probes["search"]
    shot = report["shots"][0]
    checks = shot["search"]["checks"]
    assert [(check["step"], check["keep"]) for check in checks] == [(1, 2), (2, 1)]
    assert all(isinstance(score, float) for score in checks[0]["early_scores"])
    assert sum(score is not None for score in checks[1]["early_scores"]) == 2
    assert set(checks[1]["survivors"]) <= set(checks[0]["survivors"])
    assert shot["chosen"] == checks[1]["survivors"][0] and shot["chosen_seed"] == SEED + shot["chosen"]
    pruned = {index: c["pruned_at_step"] for index, c in enumerate(shot["candidates"]) if "pruned_at_step" in c}
    assert len(pruned) == 3 and sorted(pruned.values()) == [1, 1, 2]

    lone = [probes[f"lone{offset}"][0] for offset in range(CANDIDATES)]
    assert not torch.equal(lone[0], lone[1])  # the seeds give different clips, so equality below means something
    assert torch.equal(frames, lone[shot["chosen"]])

    # cfg 1: one model call per step. Pruned candidates make no call after their check.
    assert len(read_calls(comfy, f"search_{sampler_name}")) == 4 * 1 + 2 * 1 + 1 * (STEPS - 2)
    if full_run:
        assert len(read_calls(comfy, f"full_{sampler_name}")) == CANDIDATES * STEPS
    progress = [(value, total) for node_id, value, total in graph.result.progress if node_id == node]
    assert progress[-1] == (9, 9)


@pytest.mark.parametrize(
    "search",
    [{"search": "custom", "search_custom": "1@0.5"}, {"search": "1@0.5"}],  # the second: saved before the presets
    ids=["custom", "saved_schedule_text"],
)
def test_a_long_shot_is_searched_on_its_first_segment_and_the_winner_continues(comfy, tiny_models, search):
    graph = SamplerGraph(comfy, tiny_models, frames=17, size=CHAIN_SIZE)
    chain = dict(steps=2, native_frames=9, overlap_frames=1)
    graph.sampler("search", seed=SEED, candidates=2, **search, **chain)
    for offset in range(2):
        graph.sampler(f"lone{offset}", seed=SEED + offset, candidates=1, **chain)
    probes = graph.run()
    frames, report = probes["search"]
    shot = report["shots"][0]
    assert report["search"] == "1@0.5"
    assert frames.shape == (17, CHAIN_SIZE, CHAIN_SIZE, 3)
    assert [check["step"] for check in shot["search"]["checks"]] == [1]
    winner = shot["candidates"][shot["chosen"]]
    assert [segment["start"] for segment in winner["segments"]] == [0, 8]
    assert not torch.equal(probes["lone0"][0], probes["lone1"][0])
    assert torch.equal(frames, probes[f"lone{shot['chosen']}"][0])


def test_interrupt_mid_search_stops_every_candidate_and_the_server_carries_on(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models)
    graph.model = graph.graph.node("WorldKitTestInterruptAtCall", model=out(graph.model), call=3)
    node = graph.sampler("interrupted", seed=SEED, steps=STEPS, candidates=CANDIDATES, search=SCHEDULE)
    result = comfy.run(graph.graph.prompt())
    reached = [value for node_id, value, _ in result.progress if node_id == node]
    assert reached and max(reached) == 2  # the third model call (second candidate, first step) saw the interrupt
    assert "interrupted" not in {graph.graph.nodes[n]["inputs"].get("name") for n in result.outputs}
    assert result.history.get("status", {}).get("status_str") != "success"

    again = SamplerGraph(comfy, tiny_models)
    again.sampler("after", seed=SEED + 100, steps=STEPS, candidates=CANDIDATES, search=SCHEDULE)
    frames, report = again.run()["after"]
    assert frames.shape[0] == 9 and report["shots"][0]["search"]["checks"]


def test_a_bad_schedule_is_refused_at_queue_time(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models)
    graph.sampler("never", candidates=3, search="4>2@0.2")
    result = comfy.run(graph.graph.prompt(), expect_error=True)
    assert "set candidates to 4" in json.dumps(result.error)
    assert not result.progress
    graph = SamplerGraph(comfy, tiny_models)
    graph.sampler("never", candidates=3, search="custom", search_custom="2-0.2")
    result = comfy.run(graph.graph.prompt(), expect_error=True)
    assert "search_custom: search check '2-0.2' is not 'keep@fraction'" in json.dumps(result.error)
    assert not result.progress
    # Naming candidates in validate_inputs switches off ComfyUI's own range check, so the node checks it.
    graph = SamplerGraph(comfy, tiny_models)
    graph.sampler("never", candidates=17, search="off")
    result = comfy.run(graph.graph.prompt(), expect_error=True)
    assert "candidates is 17; use 1 to 16" in json.dumps(result.error)
