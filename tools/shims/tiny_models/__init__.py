"""A node package mounted beside the pack into the host tests' and benchmarks' ComfyUI servers, never shipped.

It shrinks the fixed UMT5-XXL and CLIP-vision-H configs, and the Wan 2.2 VAE's fixed widths, that ComfyUI builds,
so the tiny random-weight files written by ``tools/tiny_models.py`` load through ComfyUI's own loaders on the CPU
(a tiny Wan 2.2 VAE is still recognised by its keys as the real one is, then built at the width its marker gives).
"""

import os

import comfy.clip_vision
import comfy.ldm.wan.vae2_2
import comfy.sd
import comfy.text_encoders.wan

HERE = os.path.dirname(os.path.abspath(__file__))
TINY_UMT5_CONFIG = os.path.join(HERE, "tiny_umt5_config.json")
TINY_CLIP_VISION_CONFIG = os.path.join(HERE, "tiny_clip_vision_config.json")
TINY_CLIP_VISION_MARKER = "worldkit_tiny_clip_vision"
TINY_WAN22_VAE_MARKER = "worldkit_tiny_wan22_vae_dim"


class TinyUMT5Model(comfy.text_encoders.wan.UMT5XXlModel):
    def __init__(self, device="cpu", layer="last", layer_idx=None, dtype=None, model_options={}):  # noqa: B006
        comfy.sd1_clip.SDClipModel.__init__(
            self,
            device=device,
            layer=layer,
            layer_idx=layer_idx,
            textmodel_json_config=TINY_UMT5_CONFIG,
            dtype=dtype,
            special_tokens={"end": 1, "pad": 0},
            model_class=comfy.text_encoders.t5.T5,
            enable_attention_masks=True,
            zero_out_masked=True,
            model_options=model_options,
        )


_load_clipvision_from_sd = comfy.clip_vision.load_clipvision_from_sd


def load_tiny_clipvision_from_sd(sd, prefix="", convert_keys=False):
    if TINY_CLIP_VISION_MARKER in sd:
        sd.pop(TINY_CLIP_VISION_MARKER)
        clip = comfy.clip_vision.ClipVisionModel(TINY_CLIP_VISION_CONFIG)
        clip.load_sd(sd)
        return clip
    return _load_clipvision_from_sd(sd, prefix, convert_keys)


_Wan22VAE = comfy.ldm.wan.vae2_2.WanVAE
_vae_init = comfy.sd.VAE.__init__
_tiny_wan22_width = []  # the width of the marked Wan 2.2 VAE being built, while comfy.sd.VAE builds it


def tiny_wan22_vae(**config):
    if _tiny_wan22_width:
        config.update(dim=_tiny_wan22_width[0], dec_dim=_tiny_wan22_width[0])
    return _Wan22VAE(**config)


def tiny_vae_init(self, sd=None, *args, **kwargs):
    marker = None if sd is None else sd.pop(TINY_WAN22_VAE_MARKER, None)
    if marker is not None:
        _tiny_wan22_width.append(int(marker.item()))
    try:
        _vae_init(self, sd, *args, **kwargs)
    finally:
        _tiny_wan22_width.clear()


comfy.text_encoders.wan.UMT5XXlModel = TinyUMT5Model
comfy.ldm.wan.vae2_2.WanVAE = tiny_wan22_vae
comfy.sd.VAE.__init__ = tiny_vae_init
comfy.clip_vision.load_clipvision_from_sd = load_tiny_clipvision_from_sd

NODE_CLASS_MAPPINGS = {}
