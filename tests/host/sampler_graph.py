"""A tiny one-entity world and shot with World Shot Sampler, Bind Shot and probes, shared by the sampler tests."""

from __future__ import annotations

import json

from graphs import ksampler
from safetensors.torch import load_file

from worldkit.tools.prompt_graph import Graph, load_wan, out, with_defaults
from worldkit.tools.tiny_wan import QUICK_SAMPLING, exact_shot

SIZE = 64
CHAIN_SIZE = 32
SAMPLER_SETTINGS = dict(
    seed=7,
    steps=2,
    cfg=1.0,
    **QUICK_SAMPLING,
    candidates=1,
    reference_attention=0.0,
)


class SamplerGraph:
    """Tiny Wan T2V, a one-entity world (a flat-coloured toy) and one short shot, ready for sampler nodes."""

    def __init__(
        self, comfy, tiny_models, frames: int = 9, size: int = SIZE, color: int = 0xC04020, dit: str = "wan_t2v"
    ) -> None:
        self.comfy, self.info, self.graph = comfy, comfy.object_info(), Graph()
        self.model, self.clip, self.vae = load_wan(self.graph, tiny_models, dit)
        self.size = size
        image = self.graph.node("EmptyImage", width=size, height=size, batch_size=1, color=color)
        reference = self.add(
            "WorldKitReference",
            image=out(image),
            name="toy",
            kind="object",
            description="a wooden toy",
            width=size,
            height=size,
        )
        self.views = reference
        world = self.add("WorldKitWorld", reference_1=out(reference))
        self.world = self.add(
            "WorldKitEncodeReferences", references=out(world), vae=out(self.vae), width=size, height=size
        )
        self.shot = self.add_shot("the toy leans against the curb", frames)

    def add(self, class_type: str, **inputs) -> str:
        return self.graph.node(class_type, **with_defaults(self.info, class_type, **inputs))

    def add_shot(self, prompt: str, frames: int, **widgets) -> str:
        """A Shot of the toy: ``frames`` frames at the graph's square size, 16 fps unless ``widgets`` say."""
        settings = dict(entities="toy", **exact_shot(frames, self.size, self.size))
        return self.add("WorldKitShot", prompt=prompt, **{**settings, **widgets})

    def sampler(self, name: str, **inputs) -> str:
        """World Shot Sampler over the graph's shot (or ``shots``), probed as ``name`` (frames and report)."""
        shots = {"shots": inputs.pop("shots")} if "shots" in inputs else {"shot": out(self.shot)}
        node = self.add(
            "WorldKitWorldShotSampler",
            model=out(self.model),
            vae=out(self.vae),
            clip=out(self.clip),
            world=out(self.world),
            **shots,
            **{**SAMPLER_SETTINGS, **inputs},
        )
        self.probe(name, images=out(node, 0), text=out(node, 3))
        return node

    def bind(self, **inputs) -> str:
        """Bind Shot of the graph's shot at its defaults, with any further ``inputs`` (a performance, say)."""
        return self.add(
            "WorldKitBindShot",
            model=out(self.model),
            vae=out(self.vae),
            clip=out(self.clip),
            world=out(self.world),
            shot=out(self.shot),
            **inputs,
        )

    def reference_attention(self, model: str, strength: float) -> str:
        return self.add(
            "WorldKitReferenceAttention", model=out(model), world=out(self.world), entities="toy", strength=strength
        )

    def sample_bound(self, model: str, bind: str, seed: int, trim: bool = False) -> str:
        """KSampler (2 steps) on Bind Shot's conditioning and latent, trimmed of the binder's frames if ``trim``,
        decoded."""
        sampled = ksampler(self.graph, out(model), out(bind, 0), out(bind, 1), out(bind, 2), seed=seed, steps=2)
        if trim:
            sampled = self.graph.node("TrimVideoLatent", samples=out(sampled), trim_amount=out(bind, 3))
        return self.graph.node("VAEDecode", samples=out(sampled), vae=out(self.vae))

    def probe(self, name: str, **inputs) -> str:
        return self.graph.node("WorldKitTestSaveTensor", name=name, **inputs)

    def run(self) -> dict:
        result = self.result = self.comfy.run(self.graph.prompt())
        probes = {}
        for node_id, output in result.outputs.items():
            node = self.graph.nodes[node_id]
            if node["class_type"] != "WorldKitTestSaveTensor":
                continue
            name = node["inputs"]["name"]
            files = output.get("files", [])
            images = load_file(str(self.comfy.output_dir / files[0]))["images"] if files else None
            text = output.get("text", [""])[0]
            probes[name] = (images, json.loads(text) if text else None)
        return probes
