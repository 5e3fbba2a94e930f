"""The README's render-time table: steps and segments from each workflow's graph, and each cost term a step
carries (reference frames, VACE's blocks, reference attention) derived from measured figures."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from worldkit.headless.catalog import VACE_1_3B, VACE_14B, size_bytes
from worldkit.headless.convert import api_path_for
from worldkit.tools.authoring import render_costs
from worldkit.tools.authoring.render_costs import WAN_DITS

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"
MEASURED = json.loads(render_costs.DIT_STEPS.read_text())
SAMPLER_RUNS = json.loads(render_costs.SAMPLER_RUNS.read_text())
T2V_14B_FILE = "28.6 GB"  # wan2.1_t2v_14B_fp16.safetensors as Hugging Face lists it: the 14B without VACE


def segments(name: str) -> list[render_costs.Segment]:
    return render_costs.segments(json.loads(api_path_for(WORKFLOWS_DIR / f"{name}.json").read_text()))


def test_the_readme_shows_the_render_table_the_measurements_give():
    readme = (WORKFLOWS_DIR.parent / "README.md").read_text()
    assert render_costs.table() in readme, "paste `python -m worldkit.tools.authoring.render_costs` into the README"


def test_the_render_table_counts_steps_from_the_graph_and_scales_without_cfg():
    full = segments("lonely_little_flame")
    # three shots (5 s, 5 s and 10 s = 3 segments) x 2 candidates x 20 steps, plus the ATI shot's 20
    assert sum(seg.steps for seg in full) == (1 + 1 + 3) * 2 * 20 + 20
    ati = [seg for seg in segments("lonely_little_flame_fast") if seg.model == "14B"]
    assert [(seg.steps, seg.cfg, seg.resolution) for seg in ati] == [(4, False, "480p")]


def test_each_segment_carries_its_shots_reference_frames_vace_blocks_and_reference_attention():
    full = segments("lonely_little_flame")
    vace = [seg for seg in full if seg.vace]
    # every VACE shot binds the skunk (subject) and the forest (location, as a reference frame)
    assert len(vace) == 10 and {(seg.reference_frames, seg.reference_attention) for seg in vace} == {(2, True)}
    (ati,) = [seg for seg in full if not seg.vace]
    assert (ati.reference_frames, ati.reference_attention) == (0, False)  # image-to-video prepends none
    fire = [seg for seg in segments("the_herd") if not seg.reference_attention]
    assert len(fire) == 1 and fire[0].vace, "the fire element is rendered with reference_attention 0"


def test_the_animate_film_chunks_its_10_s_dance_and_leads_every_segment_with_the_character():
    full, fast = segments("street_performer"), segments("street_performer_fast")
    # the 10 s dance in three chunks of World Shot Sampler, the replacement shot through Bind Shot and KSampler
    assert [seg.frames for seg in full] == [81, 81, 17, 81] == [seg.frames for seg in fast]
    assert {(seg.model, seg.resolution, seg.steps, seg.cfg, seg.vace) for seg in full} == {
        ("14B", "720p", 20, True, False)
    }
    assert {(seg.resolution, seg.steps, seg.cfg) for seg in fast} == {("480p", 4, False)}
    assert {seg.reference_frames for seg in full + fast} == {1}


def test_the_block_flops_reproduce_the_measured_flops_per_forward():
    for model in ("1.3B", "14B"):  # the DiTs measured (the 5B is scaled from them)
        dit = WAN_DITS[model]
        for resolution in ("480p", "720p"):
            point = MEASURED[f"{model}_{resolution}"]
            flops = dit.forward_flops(point["tokens"], vace=False)
            assert flops / 1e12 == pytest.approx(point["tflop_per_forward"], rel=1e-3)


@pytest.mark.parametrize(
    ("vace_file", "model", "without_vace_bytes"),
    [
        (VACE_14B, "14B", size_bytes(T2V_14B_FILE)),
        (VACE_1_3B, "1.3B", SAMPLER_RUNS["model"]["params_M"] * 1e6 * 2),  # the measured 1.3B T2V, fp16
    ],
)
def test_the_vace_block_counts_account_for_the_vace_files_extra_bytes(vace_file, model, without_vace_bytes):
    extra = size_bytes(vace_file.size) - without_vace_bytes
    assert WAN_DITS[model].vace_parameters * render_costs.VACE_WEIGHT_BYTES == pytest.approx(extra, rel=0.01)


def test_every_term_adds_to_a_steps_time():
    attention = render_costs.reference_attention_ratio(SAMPLER_RUNS)
    assert attention == pytest.approx(1.075, abs=0.001)
    seg = next(seg for seg in segments("lonely_little_flame") if seg.vace)
    full = render_costs.step_seconds(seg, MEASURED, attention)
    vace_alone = render_costs.step_seconds(replace(seg, reference_frames=0, reference_attention=False), MEASURED, 1)
    plain = render_costs.step_seconds(
        replace(seg, reference_frames=0, reference_attention=False, vace=False), MEASURED, 1
    )
    assert plain == pytest.approx(MEASURED["14B_720p"]["step_with_cfg_s"])
    assert vace_alone / plain == pytest.approx(1.21, abs=0.01)  # 8 VACE blocks beside 40
    for term in ({"reference_frames": 0}, {"reference_attention": False}, {"vace": False}):
        assert render_costs.step_seconds(replace(seg, **term), MEASURED, attention) < full, term
    small = replace(seg, model="1.3B", resolution="480p", reference_frames=0, reference_attention=False)
    ratio = render_costs.step_seconds(small, MEASURED, 1) / render_costs.step_seconds(
        replace(small, vace=False), MEASURED, 1
    )
    assert ratio == pytest.approx(1.51, abs=0.01)  # 15 VACE blocks beside 30


def test_the_first_render_section_quotes_the_fast_demos_row_of_the_table():
    readme = " ".join((WORKFLOWS_DIR.parent / "README.md").read_text().split())
    first_render = readme[readme.index("## First render") : readme.index("## Test")]
    row = next(line for line in render_costs.table().splitlines() if line.startswith("| monkey_music_video | fast |"))
    download, time = (cell.strip() for cell in row.split("|")[4:8:3])
    assert f"({download} to download)" in first_render and f"about {time} of sampling" in first_render


def test_an_a14b_expert_pair_costs_the_14b_steps_once_and_the_5b_is_scaled_by_its_flops():
    # the KSamplerAdvanced pair after Bind Shot is one shot's 20 steps, as its KSampler in the full variant
    assert [seg.steps for seg in segments("wooden_toy_nyc_wan22")] == [seg.steps for seg in segments("wooden_toy_nyc")]
    expert = next(seg for seg in segments("the_herd_wan22") if seg.vace)
    full = next(seg for seg in segments("the_herd") if seg.vace)
    assert expert == replace(full, cfg=True)  # CFG 3.5 in place of 5: the same forwards
    small = segments("the_herd_wan22_5b")[0]
    assert (small.model, small.frames, small.latent_frames, small.frame_tokens) == ("5B", 121, 31, 44 * 80 // 4)
    assert small.reference_frames == 0  # TI2V holds its start frame inside the latent
    flops = WAN_DITS["5B"].forward_flops(31 * 880, vace=False)
    measured = MEASURED["14B_720p"]
    expected = measured["step_with_cfg_s"] * flops / WAN_DITS["14B"].forward_flops(measured["tokens"], vace=False)
    attention = render_costs.reference_attention_ratio(SAMPLER_RUNS)
    assert render_costs.step_seconds(small, MEASURED, 1) == pytest.approx(expected)
    assert render_costs.step_seconds(small, MEASURED, attention) > render_costs.step_seconds(small, MEASURED, 1)
    assert WAN_DITS["5B"].parameters / 1e9 == pytest.approx(4.91, abs=0.01)  # the 5B's 10.0 GB fp16 file
    assert 10 < render_costs.peak_gib(small, MEASURED) < 12
