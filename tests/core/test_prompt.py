"""Golden compiled prompts for a table of vocabulary combinations, plus the negative prompt default."""

import pytest

from worldkit.models.shots.prompt import DEFAULT_NEGATIVE_PROMPT, compile_prompt, lens_term, negative_prompt
from worldkit.models.shots.shot import Shot, ShotEntity

DESCRIPTIONS = {
    "skunk": "a small black-and-white skunk with a bushy tail",
    "owl": "a tawny owl.",
    "forest": "a dark pine forest",
    "flame": "a tiny lonely flame",
    "ink": "hand-drawn ink wash",
}
SKUNK_IN_FOREST = (ShotEntity("skunk"), ShotEntity("forest", "location"))

GOLDEN = [
    (
        Shot(
            prompt="the skunk sniffs the air",
            entities=(*SKUNK_IN_FOREST, ShotEntity("flame", "prop")),
            shot_size="close-up",
            angle="low",
            camera_move="dolly in",
            lens_mm=85,
            lighting="firelight",
            mood="lonely",
        ),
        "Close-up, low angle looking up, camera dollies in, 85mm portrait telephoto lens. The skunk sniffs the air. "
        "Subject: skunk, a small black-and-white skunk with a bushy tail. Prop: flame, a tiny lonely flame. "
        "Location: forest, a dark pine forest. Firelight, warm flickering orange glow. Mood: lonely.",
    ),
    (
        Shot(
            prompt="Morning comes!",
            entities=SKUNK_IN_FOREST,
            shot_size="extreme wide",
            angle="high",
            camera_move="crane up",
            lens_mm=14,
            lighting="dawn",
        ),
        "Extreme wide shot, high angle looking down, camera cranes up, 14mm ultra-wide lens. Morning comes! "
        "Subject: skunk, a small black-and-white skunk with a bushy tail. Location: forest, a dark pine forest. "
        "Dawn, soft pale pink early light.",
    ),
    (
        Shot(
            entities=(ShotEntity("skunk"), ShotEntity("owl"), ShotEntity("forest", "location")),
            shot_size="over-the-shoulder",
            camera_move="handheld",
            lens_mm=50,
            lighting="moonlight",
            mood="tense.",
        ),
        "Over-the-shoulder shot over skunk's shoulder onto owl, eye-level angle, handheld camera with natural shake, "
        "50mm normal lens. Subjects: skunk, a small black-and-white skunk with a bushy tail; owl, a tawny owl. "
        "Location: forest, a dark pine forest. Moonlight, cool silver-blue light. Mood: tense.",
    ),
    (
        Shot(
            prompt="it flickers",
            entities=(ShotEntity("flame", "prop"), ShotEntity("ink", "style")),
            shot_size="insert",
            angle="overhead",
            camera_move="static",
            lens_mm=135,
            lighting="night",
        ),
        "Insert shot of flame, overhead top-down angle, static locked-off camera, 135mm long telephoto lens. "
        "It flickers. Prop: flame, a tiny lonely flame. Style: ink, hand-drawn ink wash. "
        "Night, dark scene lit by practical lights.",
    ),
    (
        Shot(
            prompt="a dancer spins",
            shot_size="medium wide",
            angle="dutch",
            camera_move="orbit",
            lens_mm=24,
            lighting="neon",
        ),
        "Medium wide shot (cowboy shot, framed from mid-thigh up), Dutch angle with a tilted horizon, camera orbits "
        "around the subject, 24mm wide-angle lens. A dancer spins. Neon lighting, saturated magenta and cyan glow.",
    ),
    (
        Shot(
            prompt="rain stops",
            entities=(ShotEntity("unknown"),),
            shot_size="medium close-up",
            camera_move="truck left",
            lens_mm=35,
            lighting="overcast",
        ),
        "Medium close-up, framed from the chest up, eye-level angle, camera trucks left, 35mm normal lens. Rain stops. "
        "Subject: unknown. Overcast sky, soft diffuse light.",
    ),
    (
        Shot(shot_size="full", angle="eye level", camera_move="pan right", lens_mm=40, lighting="golden hour"),
        "Full shot, head to toe, eye-level angle, camera pans right, 40mm normal lens. "
        "Golden hour light, warm low sun and long shadows.",
    ),
    (
        Shot(shot_size="extreme close-up", camera_move="tilt down", lens_mm=100, lighting="fog"),
        "Extreme close-up, eye-level angle, camera tilts down, 100mm portrait telephoto lens. "
        "Fog, hazy atmosphere with volumetric light.",
    ),
]


@pytest.mark.parametrize(("shot", "expected"), GOLDEN)
def test_golden_prompts(shot, expected):
    assert compile_prompt(shot, DESCRIPTIONS) == expected


def test_compilation_is_deterministic_and_depends_on_each_field():
    shot = GOLDEN[0][0]
    assert compile_prompt(shot, DESCRIPTIONS) == compile_prompt(shot.replace(), dict(DESCRIPTIONS))
    variants = [
        shot.replace(shot_size="wide"),
        shot.replace(angle="high"),
        shot.replace(camera_move="orbit"),
        shot.replace(lens_mm=24),
        shot.replace(lighting="neon"),
        shot.replace(mood="joyful"),
        shot.replace(prompt="it runs"),
    ]
    prompts = {compile_prompt(v, DESCRIPTIONS) for v in variants}
    assert len(prompts) == len(variants)
    assert compile_prompt(shot, DESCRIPTIONS) not in prompts


def test_without_descriptions_names_only():
    shot = Shot(entities=SKUNK_IN_FOREST)
    assert "Subject: skunk. Location: forest." in compile_prompt(shot)


@pytest.mark.parametrize(
    ("mm", "term"),
    [(14, "ultra-wide"), (24, "wide-angle"), (50, "normal"), (85, "portrait telephoto"), (135, "long telephoto")],
)
def test_lens_terms(mm, term):
    assert lens_term(mm) == f"{mm}mm {term} lens"


def test_negative_prompt_default_and_override():
    assert negative_prompt(Shot()) == DEFAULT_NEGATIVE_PROMPT
    assert DEFAULT_NEGATIVE_PROMPT.startswith("色调艳丽，过曝，静态")
    assert negative_prompt(Shot(negative_prompt="blurry")) == "blurry"
    assert negative_prompt(Shot(negative_prompt="")) == ""
