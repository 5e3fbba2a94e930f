"""Training-free reference attention for Wan-family DiTs.

While a shot is sampled, every self-attention of the video tokens also attends to keys and values that
the same block computed for the bound entities' reference latents at the same step. The references run
through the model in a separate capture pass (see :class:`ReferenceAttentionSession`); their keys and
values are then appended to the video's own in the main pass.

Strength is a logit bias: every reference key's attention logit gets ``log(strength)`` added, so its
unnormalised weight is scaled by ``strength``. At 1 the references take part in attention like any video
token; towards 0 their share vanishes smoothly; at exactly 0 the extended attention is skipped and the
plain attention function runs on the plain tensors, so the output is bit for bit that of plain sampling.

Tensors follow ComfyUI's attention layout: ``[batch, tokens, heads * head_dim]``, or
``[batch, heads, tokens, head_dim]`` when the caller passes ``skip_reshape`` (then ``token_dim=2``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

from ..world.entities import Reference, World

AttentionFn = Callable[..., torch.Tensor]
"""``attention(q, k, v, heads, mask=None) -> out``: the model's own attention kernel."""

CAPTURE = "capture"
ATTEND = "attend"
IDLE = "idle"


def reference_logit_bias(
    video_tokens: int, reference_tokens: int, strength: float, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """Additive attention mask ``[1, video_tokens + reference_tokens]``: 0 for video keys, log(strength) for
    references."""
    bias = torch.zeros(1, video_tokens + reference_tokens, dtype=dtype, device=device)
    bias[:, video_tokens:] = math.log(strength)
    return bias


def _match_batch(reference: torch.Tensor, batch: int) -> torch.Tensor:
    if reference.shape[0] == batch:
        return reference
    if batch % reference.shape[0] != 0:
        raise ValueError(
            f"reference keys were captured for a batch of {reference.shape[0]} but the video batch is {batch}; "
            "the capture pass must use the same batch (or a batch of 1)."
        )
    return reference.repeat_interleave(batch // reference.shape[0], dim=0)


def extended_self_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    reference_k: torch.Tensor | None,
    reference_v: torch.Tensor | None,
    heads: int,
    strength: float,
    attention: AttentionFn,
    token_dim: int = 1,
) -> torch.Tensor:
    """Self-attention of the video tokens over their own keys plus the references' keys.

    ``strength`` 0 (or no reference tokens) calls ``attention`` on the unchanged tensors; 1 attends over the
    concatenation without a mask; in between, reference logits are biased by ``log(strength)``.
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"reference attention strength must be within 0..1; got {strength}.")
    if strength == 0.0 or reference_k is None or reference_k.shape[token_dim] == 0:
        return attention(q, k, v, heads)
    if reference_v is None or reference_v.shape != reference_k.shape:
        raise ValueError("reference keys and values must be captured together and have one shape.")
    batch = q.shape[0]
    reference_k = _match_batch(reference_k, batch).to(device=k.device, dtype=k.dtype)
    reference_v = _match_batch(reference_v, batch).to(device=v.device, dtype=v.dtype)
    keys = torch.cat([k, reference_k], dim=token_dim)
    values = torch.cat([v, reference_v], dim=token_dim)
    if strength == 1.0:
        return attention(q, keys, values, heads)
    bias = reference_logit_bias(k.shape[token_dim], reference_k.shape[token_dim], strength, q.dtype, q.device)
    return attention(q, keys, values, heads, mask=bias)


class CaptureComplete(Exception):
    """Raised once the last block's reference keys and values are stored: the rest of that pass is not needed."""


@dataclass
class AttentionStats:
    """What the extended attention did, for reports and tests: calls and token counts seen."""

    extended_calls: int = 0
    captured_blocks: int = 0
    reference_tokens: int = 0
    video_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class ReferenceAttentionSession:
    """Routes attention calls of one model forward: capture reference K/V per block, or attend with them.

    A Wan block calls self-attention first and cross-attention after it, and tags the call with its block
    index, so the first call seen for a block index whose queries and keys have one length is that block's
    self-attention. Every other call (cross-attention, VACE side blocks) runs plain.
    """

    strength: float
    mode: str = IDLE
    keys: dict[int, torch.Tensor] = field(default_factory=dict)
    values: dict[int, torch.Tensor] = field(default_factory=dict)
    stats: AttentionStats = field(default_factory=AttentionStats)
    _seen_blocks: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"reference attention strength must be within 0..1; got {self.strength}.")

    def begin_capture(self) -> None:
        """Start a reference pass: previous keys and values are dropped (they belong to another step)."""
        self.keys.clear()
        self.values.clear()
        self._seen_blocks.clear()
        self.mode = CAPTURE

    def continue_capture(self) -> None:
        """Capture another reference clip in the same step: its keys and values are appended to the stored ones."""
        self._seen_blocks.clear()

    def begin_attend(self) -> None:
        self._seen_blocks.clear()
        self.mode = ATTEND

    def end(self) -> None:
        """Release the captured tensors once the forward they were made for has run."""
        self.keys.clear()
        self.values.clear()
        self._seen_blocks.clear()
        self.mode = IDLE

    def _is_self_attention(self, q: torch.Tensor, k: torch.Tensor, block_index: int | None, token_dim: int) -> bool:
        if block_index is None or block_index in self._seen_blocks:
            return False
        self._seen_blocks.add(block_index)
        return q.shape[token_dim] == k.shape[token_dim]

    def __call__(
        self,
        attention: AttentionFn,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        heads: int,
        block_index: int | None,
        token_dim: int = 1,
        last_block: bool = False,
    ) -> torch.Tensor:
        """Route one attention call; in capture mode, ``last_block`` ends the pass with CaptureComplete once stored."""
        if self.mode == IDLE or not self._is_self_attention(q, k, block_index, token_dim):
            return attention(q, k, v, heads)
        if self.mode == CAPTURE:
            if block_index in self.keys:
                k_all = torch.cat([self.keys[block_index], k], dim=token_dim)
                v_all = torch.cat([self.values[block_index], v], dim=token_dim)
            else:
                k_all, v_all = k, v
            self.keys[block_index], self.values[block_index] = k_all, v_all
            self.stats.captured_blocks += 1
            if last_block:
                raise CaptureComplete
            return attention(q, k, v, heads)
        reference_k = self.keys.get(block_index)
        if reference_k is not None and self.strength > 0.0:
            self.stats.extended_calls += 1
            self.stats.reference_tokens = reference_k.shape[token_dim]
            self.stats.video_tokens = k.shape[token_dim]
        return extended_self_attention(
            q, k, v, reference_k, self.values.get(block_index), heads, self.strength, attention, token_dim
        )


def stack_reference_latents(latents: list[torch.Tensor]) -> list[torch.Tensor]:
    """Group reference latent frames ``[C, 1, h, w]`` by size into clips ``[1, C, views, h, w]``.

    Views of one size run through the model as one clip (one capture pass per size), in the order given.
    """
    groups: dict[tuple[int, ...], list[torch.Tensor]] = {}
    for latent in latents:
        if latent.ndim != 4 or latent.shape[1] != 1:
            raise ValueError(
                f"a reference latent must be one frame [channels, 1, height, width]; got {tuple(latent.shape)}."
            )
        groups.setdefault(tuple(latent.shape), []).append(latent)
    return [torch.cat(group, dim=1).unsqueeze(0) for group in groups.values()]


def reference_model_input(
    clean: torch.Tensor,
    sigma: torch.Tensor,
    noise: torch.Tensor,
    batch: int,
    channels: int,
    noise_scaling: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
    calculate_input: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """A reference clip as the DiT sees it at ``sigma``: noised like the video, scaled, padded to the input channels.

    ``clean`` is ``[1, C, views, h, w]`` in the model's latent space; ``noise`` has its shape (fixed per
    sampling run so the reference follows one noise path across steps). Channels the model takes beyond the
    latent's (image-to-video concat channels) are zero: the reference carries no frame conditioning.
    """
    sigma = sigma.reshape(-1)[:1].to(clean)
    noised = calculate_input(sigma, noise_scaling(sigma, noise.to(clean), clean))
    if channels < noised.shape[1]:
        raise ValueError(
            f"the model takes {channels} input channels but the reference latents have {noised.shape[1]}; "
            "encode the references with the VAE that belongs to this model."
        )
    if channels > noised.shape[1]:
        padding = noised.new_zeros((1, channels - noised.shape[1], *noised.shape[2:]))
        noised = torch.cat([noised, padding], dim=1)
    return noised.expand(batch, *noised.shape[1:])


def entity_reference_latents(
    world: World, names: list[str], latent_channels: int, encode: Callable[[Reference], torch.Tensor] | None = None
) -> list[torch.Tensor]:
    """Every view latent ``[C, 1, h, w]`` of the named entities (an empty list means every entity).

    Each entity's newest encoding with the model's latent channel count is used; an entity without one is
    encoded by ``encode(reference) -> [V, C, 1, h, w]`` when given, else it is an error.
    """
    names = names or list(world.references)
    world.require(names, "Reference attention")
    latents = []
    for name in names:
        reference = world.references[name]
        encodings = [e for e in reference.encodings if e.latents.shape[1] == latent_channels]
        if encodings:
            latents.extend(encodings[-1].latents.unbind(0))
        elif encode is not None:
            latents.extend(encode(reference).unbind(0))
        else:
            raise ValueError(
                f"entity '{name}' has no VAE encoding with {latent_channels} latent channels; "
                "run Encode References with the VAE that belongs to this model (or connect that VAE)."
            )
    return latents
