"""World Shot Sampler on Wan 2.2's two experts, through a real ComfyUI server with tiny expert pairs: equal to
ComfyUI's own two-KSamplerAdvanced template, and everything the sampler does carried across the switch."""

from __future__ import annotations

import json

import pytest
import torch
from client import PromptRefused
from sampler_graph import CHAIN_SIZE, SamplerGraph

from worldkit.tools.prompt_graph import out
from worldkit.tools.tiny_wan import QUICK_SAMPLING

STEPS = 4
# KSampler's timesteps for euler/simple over 4 steps at the tiny Wan's shift of 8: 1000, 960, 888.9, 727.3.
# The rule's step: the first below 875 (T2V, Fun VACE) is step 3, the first below 900 (I2V) is step 2.
RULE_STEPS = {"t2v": 3, "i2v": 2, "vace": 3}


class ExpertGraph(SamplerGraph):
    """SamplerGraph on a tiny expert pair: ``model`` is the high-noise expert, ``low`` the low-noise one."""

    def __init__(self, comfy, tiny_models, family: str = "t2v", **options) -> None:
        super().__init__(comfy, tiny_models, dit=f"wan22_{family}_high", **options)
        self.low = self.graph.node("UNETLoader", unet_name=tiny_models[f"wan22_{family}_low"], weight_dtype="default")

    def experts(self, name: str, **inputs) -> str:
        """World Shot Sampler on the pair (switch_step 0, Wan 2.2's rule, unless ``inputs`` say)."""
        inputs = {"low_noise_model": out(self.low), "steps": STEPS, **inputs}
        return self.sampler(name, **inputs)

    def template(self, name: str, bind: str, seed: int, switch: int, steps: int = STEPS, skipped: int = 0) -> None:
        """ComfyUI's two-expert template on Bind Shot's outputs, trimmed and decoded, probed as ``name``: ``steps``
        on both KSamplerAdvanced nodes, the first ``skipped`` of them left out (what denoise < 1 does)."""
        common = dict(noise_seed=seed, steps=steps, cfg=1.0, **QUICK_SAMPLING)
        common.pop("denoise")
        conditioning = dict(positive=out(bind, 0), negative=out(bind, 1))
        first = self.graph.node(
            "KSamplerAdvanced",
            model=out(self.model),
            add_noise="enable",
            latent_image=out(bind, 2),
            start_at_step=skipped,
            end_at_step=skipped + switch,
            return_with_leftover_noise="enable",
            **conditioning,
            **common,
        )
        second = self.graph.node(
            "KSamplerAdvanced",
            model=out(self.low),
            add_noise="disable",
            latent_image=out(first),
            start_at_step=skipped + switch,
            end_at_step=10000,
            return_with_leftover_noise="disable",
            **conditioning,
            **common,
        )
        trimmed = self.graph.node("TrimVideoLatent", samples=out(second), trim_amount=out(bind, 3))
        self.probe(name, images=out(self.graph.node("VAEDecode", samples=out(trimmed), vae=out(self.vae))))


def count_calls(graph: SamplerGraph, model: str, name: str) -> str:
    return graph.graph.node("WorldKitTestCountCalls", model=out(model), name=name)


def read_calls(comfy, name: str) -> int:
    return len(json.loads((comfy.output_dir / f"{name}.calls.json").read_text()))


@pytest.mark.parametrize("family", ["t2v", "i2v", "vace"])
def test_two_experts_equal_comfyuis_template_at_the_rules_step_and_the_users(comfy, tiny_models, family):
    graph = ExpertGraph(comfy, tiny_models, family)
    graph.experts("rule", seed=5)
    graph.experts("user", seed=5, switch_step=1)
    bind = graph.bind()
    graph.template("template_rule", bind, 5, RULE_STEPS[family])
    graph.template("template_user", bind, 5, 1)
    graph.template("template_off_by_one", bind, 5, RULE_STEPS[family] - 1)
    probes = graph.run()
    rule, report = probes["rule"]
    assert report["shots"][0]["family"] == family
    assert report["experts"] == {
        "switch_step": RULE_STEPS[family],
        "steps": STEPS,
        "switched_by": "rule",
        "boundary": 0.9 if family == "i2v" else 0.875,
        "boundary_timestep": 900.0 if family == "i2v" else 875.0,
        "first_low_noise_timestep": pytest.approx(888.889 if family == "i2v" else 727.273, abs=1e-2),
    }
    assert torch.equal(rule, probes["template_rule"][0])
    assert not torch.equal(rule, probes["template_off_by_one"][0])  # a switch one step early shows
    user, user_report = probes["user"]
    assert user_report["experts"] == {"switch_step": 1, "steps": STEPS, "switched_by": "user"}
    assert torch.equal(user, probes["template_user"][0])


def test_with_denoise_below_one_the_switch_counts_within_the_steps_sampled(comfy, tiny_models):
    """denoise 0.5 over 4 steps samples steps 4..7 of an 8-step schedule (timesteps 888.9, 827.6, …): the rule
    switches at the second of them, and the template is KSamplerAdvanced over 8 steps starting at step 4."""
    graph = ExpertGraph(comfy, tiny_models)
    graph.experts("rule", seed=9, denoise=0.5)
    bind = graph.bind()
    graph.template("template", bind, 9, 1, steps=2 * STEPS, skipped=STEPS)
    graph.template("template_late", bind, 9, 2, steps=2 * STEPS, skipped=STEPS)
    probes = graph.run()
    frames, report = probes["rule"]
    assert report["experts"]["switch_step"] == 1
    assert report["experts"]["first_low_noise_timestep"] == pytest.approx(827.586, abs=1e-2)
    assert torch.equal(frames, probes["template"][0])
    assert not torch.equal(frames, probes["template_late"][0])  # a switch one step late shows


def test_a_lora_on_the_high_noise_expert_reaches_that_expert_only(comfy, tiny_models):
    graph = ExpertGraph(comfy, tiny_models)
    plain = graph.model
    graph.model = graph.graph.node(
        "LoraLoaderModelOnly", model=out(plain), lora_name=tiny_models["lora"], strength_model=1.0
    )
    graph.experts("lora", seed=6, switch_step=2)
    graph.template("template_lora", graph.bind(), 6, 2)
    graph.model = plain
    graph.experts("plain", seed=6, switch_step=2)
    probes = graph.run()
    assert not torch.equal(probes["lora"][0], probes["plain"][0])
    assert torch.equal(probes["lora"][0], probes["template_lora"][0])


def test_the_search_judges_before_and_after_the_switch_and_its_winner_equals_a_lone_render(comfy, tiny_models):
    graph = ExpertGraph(comfy, tiny_models)
    high, low = graph.model, graph.low
    graph.model, graph.low = count_calls(graph, high, "search_high"), count_calls(graph, low, "search_low")
    node = graph.experts("search", seed=30, candidates=3, search="2@0.25>1@0.75", switch_step=2)
    graph.model, graph.low = high, low
    for offset in range(3):
        graph.experts(f"lone{offset}", seed=30 + offset, switch_step=2)
    probes = graph.run()
    frames, report = probes["search"]
    shot = report["shots"][0]
    assert [(check["step"], check["keep"]) for check in shot["search"]["checks"]] == [(1, 2), (3, 1)]
    lone = [probes[f"lone{offset}"][0] for offset in range(3)]
    assert not torch.equal(lone[0], lone[1])
    assert torch.equal(frames, lone[shot["chosen"]])
    # cfg 1, one call a step: 3 candidates to step 1, 2 to step 3, 1 to the end; steps 0-1 high, 2-3 low.
    assert read_calls(comfy, "search_high") == 3 * 1 + 2 * 1
    assert read_calls(comfy, "search_low") == 2 * 1 + 1 * 1
    progress = [(value, total) for node_id, value, total in graph.result.progress if node_id == node]
    assert progress[-1] == (8, 8)


def test_reference_attention_patches_both_experts(comfy, tiny_models):
    graph = ExpertGraph(comfy, tiny_models)
    graph.experts("attended", seed=3, reference_attention=1.0, switch_step=1)
    graph.experts("plain", seed=3, reference_attention=0.0, switch_step=1)
    probes = graph.run()
    attention = probes["attended"][1]["shots"][0]["reference_attention"]
    assert attention["extended_calls"] == 2 * STEPS  # two blocks, every step of either expert
    assert not torch.equal(probes["attended"][0], probes["plain"][0])


def test_each_segment_of_a_chained_shot_switches_experts(comfy, tiny_models):
    graph = ExpertGraph(comfy, tiny_models, frames=33, size=CHAIN_SIZE)
    high, low = graph.model, graph.low
    graph.model, graph.low = count_calls(graph, high, "chain_high"), count_calls(graph, low, "chain_low")
    node = graph.experts("long", seed=11, native_frames=17, overlap_frames=1, switch_step=1)
    frames, report = graph.run()["long"]
    assert frames.shape == (33, CHAIN_SIZE, CHAIN_SIZE, 3)
    assert len(report["shots"][0]["candidates"][0]["segments"]) == 2
    assert read_calls(comfy, "chain_high") == 2 * 1 and read_calls(comfy, "chain_low") == 2 * (STEPS - 1)
    progress = [(value, total) for node_id, value, total in graph.result.progress if node_id == node]
    assert progress[-1] == (2 * STEPS, 2 * STEPS)


def test_an_interrupt_in_the_low_noise_expert_stops_the_sampler_within_the_step(comfy, tiny_models):
    graph = ExpertGraph(comfy, tiny_models)
    graph.low = graph.graph.node("WorldKitTestInterruptAtCall", model=out(graph.low), call=2)
    node = graph.experts("interrupted", seed=1, switch_step=2)
    result = comfy.run(graph.graph.prompt())
    reached = [value for node_id, value, _ in result.progress if node_id == node]
    assert reached and max(reached) == 2 + 1  # two high-noise steps and one low-noise step ended
    assert result.history.get("status", {}).get("status_str") != "success"


@pytest.mark.parametrize(
    ("low", "message"),
    [
        ("same", "model and low_noise_model are the same loaded model"),
        (
            "wan22_vace_low",
            "model is Wan t2v, width 128, 2 blocks, 16 input / 16 output channels but low_noise_model is "
            "Wan vace, width 128, 2 blocks, VACE (1 side blocks)",
        ),
        ("wan22_i2v_low", "(they differ in kind, in_channels)"),
    ],
)
def test_wrong_expert_pairs_are_refused_naming_what_was_found(comfy, tiny_models, low, message):
    """One loader linked to both inputs, Fun VACE's low-noise expert beside T2V's high-noise one, I2V beside T2V."""
    graph = ExpertGraph(comfy, tiny_models)
    if low == "same":
        graph.low = graph.model
    else:
        graph.low = graph.graph.node("UNETLoader", unet_name=tiny_models[low], weight_dtype="default")
    graph.experts("never", seed=0)
    result = comfy.run(graph.graph.prompt(), expect_error=True)
    assert result.error["node_type"] == "WorldKitWorldShotSampler"
    assert message in result.error["exception_message"]
    assert "connect the high-noise file to model" in result.error["exception_message"]


def test_a_switch_step_past_the_steps_is_refused_at_queue_time(comfy, tiny_models):
    graph = ExpertGraph(comfy, tiny_models)
    graph.experts("never", seed=0, switch_step=STEPS)
    with pytest.raises(PromptRefused) as refused:
        comfy.queue(graph.graph.prompt())
    assert f"switch_step is {STEPS} but the sampler runs {STEPS} steps" in json.dumps(refused.value.detail)


def test_a_switch_step_without_a_low_noise_expert_is_refused(comfy, tiny_models):
    graph = SamplerGraph(comfy, tiny_models)
    graph.sampler("never", seed=0, steps=STEPS, switch_step=2)
    result = comfy.run(graph.graph.prompt(), expect_error=True)
    assert "switch_step is 2 but no low_noise_model is connected" in result.error["exception_message"]
