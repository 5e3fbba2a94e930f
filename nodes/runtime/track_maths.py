"""ATI and Wan-Move track conditioning, computed by ComfyUI's own functions (the engine's TrackMaths)."""

from __future__ import annotations

from collections.abc import Mapping

import comfy.utils
import numpy as np
import torch
from comfy_extras import nodes_wan, nodes_wanmove

from ...models.motion.tracks import read_tracks

TRACK_LATENT_CHANNELS = (4, 16)
WAN_MOVE_EMBEDDING_STRIDES = [4, 8, 8]


class ComfyTrackMaths:
    """What WanTrackToVideo and WanMoveTrackToVideo do with their tracks, on the engine's track samples."""

    def ati(
        self,
        points: np.ndarray,
        start_latent: torch.Tensor,
        width: int,
        height: int,
        length: int,
        temperature: float,
        topk: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        processed = [nodes_wan.process_tracks(points, (width, height), length - 1).unsqueeze(0)]
        processed = comfy.utils.resize_list_to_batch_size(processed, start_latent.shape[0])
        return nodes_wan.patch_motion(
            processed, start_latent, temperature=temperature, topk=topk, vae_divide=TRACK_LATENT_CHANNELS
        )

    def wan_move(
        self,
        tracks: Mapping[str, torch.Tensor],
        start_latent: torch.Tensor,
        width: int,
        height: int,
        length: int,
        strength: float,
    ) -> torch.Tensor:
        path, visibility = (part[:length] for part in read_tracks(tracks))
        count = path.shape[-2]
        positions = nodes_wanmove.create_pos_embeddings(
            path, visibility, WAN_MOVE_EMBEDDING_STRIDES, height, width, track_num=count
        )
        positions = comfy.utils.resize_to_batch_size(positions.unsqueeze(0), start_latent.shape[0])
        return nodes_wanmove.replace_feature(start_latent, positions, strength)
