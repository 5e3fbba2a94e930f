"""WorldKit/Sampling: World Reference Attention, the attention patch for any sampler node."""

from comfy_api.latest import io

from ...models.sampling.reference_attention import entity_reference_latents
from ...models.shots.shot import split_names
from .. import categories
from ..inputs import entities_problem, recheck, verdict
from ..runtime.attention_patch import apply_reference_attention
from ..runtime.shot_sampling import encode_views, loaded_rules, model_latent_channels
from ..types import World


class WorldKitReferenceAttention(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="WorldKitReferenceAttention",
            display_name="World Reference Attention",
            category=categories.SAMPLING,
            description="Patch a Wan model so every self-attention also attends to the named entities' reference "
            "latents at the same step (training-free). Works with any sampler node; strength 0 returns the model "
            "unchanged.",
            inputs=[
                io.Model.Input("model", tooltip="The Wan model to patch."),
                World.Input("world", tooltip="The encoded world whose references the video attends to."),
                io.String.Input(
                    "entities",
                    default="",
                    multiline=False,
                    tooltip="Entity names, comma separated; empty uses every entity of the world.",
                ),
                io.Float.Input(
                    "strength",
                    default=0.5,
                    min=0.0,
                    max=1.0,
                    step=0.05,
                    tooltip="0 leaves the model unchanged; 1 treats reference tokens like the video's own.",
                ),
                io.Vae.Input(
                    "vae", optional=True, tooltip="Encodes references that have no encoding for this model yet."
                ),
            ],
            outputs=[io.Model.Output(display_name="model", tooltip="The patched model, for any sampler node.")],
        )

    @classmethod
    def validate_inputs(cls, entities=None) -> bool | str:
        return verdict(entities_problem(entities))

    @classmethod
    def execute(cls, model, world, entities, strength, vae=None) -> io.NodeOutput:
        recheck(cls.validate_inputs(entities))
        if strength == 0.0:
            return io.NodeOutput(model)
        encode = None if vae is None else encode_views(vae, loaded_rules(model, vae))
        latents = entity_reference_latents(world, split_names(entities), model_latent_channels(model), encode)
        return io.NodeOutput(apply_reference_attention(model, latents, strength))


NODES: list[type[io.ComfyNode]] = [WorldKitReferenceAttention]
