"""The model files WorldKit's workflows load: one catalog for the workflow builder, `models` and `run`.

Names, folders and sources are those ComfyUI's own Wan templates use. `size` is the download size as the host
(Hugging Face) lists it, in decimal units to three figures; where the file page did not show it, it is the byte
count that Hugging Face's file listing (`/api/models/<repo>/tree/main`: size and LFS hash) reports, as copied
into public model catalogs, rounded the same way (noted at each file). `sha256` is the hash the host publishes,
only where its file page shows it (None otherwise: the download is then checked against the length the server
declares).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

REPACKAGED = "https://huggingface.co/Comfy-Org/Wan_2.1_ComfyUI_repackaged/resolve/main/split_files"
REPACKAGED_2_2 = "https://huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/split_files"
KIJAI = "https://huggingface.co/Kijai"


@dataclass(frozen=True)
class ModelFile:
    name: str
    directory: str
    url: str
    what: str
    size: str | None = None
    sha256: str | None = None
    dit: str | None = None  # a diffusion model's size class: "1.3B", "5B" or "14B" (an A14B expert is "14B")
    family: str | None = None  # the binding family a diffusion model renders shots as (models/shots/binding)

    @property
    def title(self) -> str:
        """The model's name before the colon of `what`: "Wan 2.1 VACE 14B"."""
        return self.what.split(":")[0]

    def entry(self) -> dict[str, str]:
        """ComfyUI's `properties.models` entry, which the editor's missing-models dialog offers to download."""
        return {"name": self.name, "url": self.url, "directory": self.directory}


VACE_14B = ModelFile(
    "wan2.1_vace_14B_fp16.safetensors",
    "diffusion_models",
    f"{REPACKAGED}/diffusion_models/wan2.1_vace_14B_fp16.safetensors",
    "Wan 2.1 VACE 14B: reference-to-video, keeps the world's entities (480p and 720p)",
    size="34.7 GB",
    dit="14B",
    family="vace",
)
VACE_1_3B = ModelFile(
    "wan2.1_vace_1.3B_fp16.safetensors",
    "diffusion_models",
    f"{REPACKAGED}/diffusion_models/wan2.1_vace_1.3B_fp16.safetensors",
    "Wan 2.1 VACE 1.3B: reference-to-video at 480p on a small GPU",
    size="4.31 GB",  # 4_309_519_800 bytes: Hugging Face's Content-Length and file listing, in several catalogs
    dit="1.3B",
    family="vace",
)
ATI_14B = ModelFile(
    "Wan2_1-I2V-ATI-14B_fp8_e4m3fn.safetensors",
    "diffusion_models",
    f"{KIJAI}/WanVideo_comfy/resolve/main/Wan2_1-I2V-ATI-14B_fp8_e4m3fn.safetensors",
    "Wan 2.1 ATI 14B: image-to-video that follows drawn trajectories",
    size="17.1 GB",  # 17_135_435_696 bytes: Hugging Face's file listing of Kijai/WanVideo_comfy
    dit="14B",
    family="ati",
)
WAN_MOVE_14B = ModelFile(
    "Wan21-WanMove_fp8_scaled_e4m3fn_KJ.safetensors",
    "diffusion_models",
    f"{KIJAI}/WanVideo_comfy_fp8_scaled/resolve/main/WanMove/Wan21-WanMove_fp8_scaled_e4m3fn_KJ.safetensors",
    "Wan-Move 14B: image-to-video driven by dense point tracks",
    size="16.4 GB",  # 16_402_832_658 bytes: Hugging Face's file listing of Kijai/WanVideo_comfy_fp8_scaled
    dit="14B",
    family="wan_move",
)


def wan22_expert(kind: str, noise: str, what: str, size: str, family: str) -> ModelFile:
    """One expert of a Wan 2.2 A14B pair, named and placed as ComfyUI's own 2.2 templates load it."""
    name = f"wan2.2_{kind}_{noise}_noise_14B_fp8_scaled.safetensors"
    return ModelFile(
        name, "diffusion_models", f"{REPACKAGED_2_2}/diffusion_models/{name}", what, size=size, dit="14B", family=family
    )


# The A14B pairs: the high-noise expert samples the first steps, the low-noise one the rest. Sizes: the byte
# counts of the files' Git LFS pointers in public mirrors of Comfy-Org/Wan_2.2_ComfyUI_Repackaged (14_293_923_632
# for T2V high, 14_294_742_832 for I2V high; each pair's experts are one size; Fun VACE 17_346_056_104 each).
FUN_VACE_22_HIGH = wan22_expert(
    "fun_vace", "high", "Wan 2.2 Fun VACE A14B, high-noise expert: reference-to-video", "17.3 GB", "vace"
)
FUN_VACE_22_LOW = wan22_expert(
    "fun_vace", "low", "Wan 2.2 Fun VACE A14B, low-noise expert: reference-to-video", "17.3 GB", "vace"
)
T2V_22_HIGH = wan22_expert("t2v", "high", "Wan 2.2 T2V A14B, high-noise expert: text-to-video", "14.3 GB", "t2v")
T2V_22_LOW = wan22_expert("t2v", "low", "Wan 2.2 T2V A14B, low-noise expert: text-to-video", "14.3 GB", "t2v")
I2V_22_HIGH = wan22_expert("i2v", "high", "Wan 2.2 I2V A14B, high-noise expert: image-to-video", "14.3 GB", "i2v")
I2V_22_LOW = wan22_expert("i2v", "low", "Wan 2.2 I2V A14B, low-noise expert: image-to-video", "14.3 GB", "i2v")
TI2V_5B = ModelFile(
    "wan2.2_ti2v_5B_fp16.safetensors",
    "diffusion_models",
    f"{REPACKAGED_2_2}/diffusion_models/wan2.2_ti2v_5B_fp16.safetensors",
    "Wan 2.2 TI2V 5B: text- and image-to-video at 1280x704, 24 fps, on a 12-16 GB GPU",
    size="10.0 GB",  # "10 GB" on the file's page (Comfy-Org's Wan 2.2 repository, the same file)
    dit="5B",
    family="ti2v",
)
LIGHTX2V_14B = ModelFile(
    "Wan21_T2V_14B_lightx2v_cfg_step_distill_lora_rank32.safetensors",
    "loras",
    f"{KIJAI}/WanVideo_comfy/resolve/main/Wan21_T2V_14B_lightx2v_cfg_step_distill_lora_rank32.safetensors",
    "lightx2v step and CFG distillation LoRA for Wan 2.1 14B: 4 steps without CFG",
    size="317 MB",
    sha256="914fafa5dded72e6c470d6f764b97fe4d71567dae7cc01d1181b310efd5c37a6",
)
UMT5 = ModelFile(
    "umt5_xxl_fp8_e4m3fn_scaled.safetensors",
    "text_encoders",
    f"{REPACKAGED}/text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors",
    "UMT5-XXL text encoder",
    size="6.74 GB",
)
WAN_VAE = ModelFile(
    "wan_2.1_vae.safetensors",
    "vae",
    f"{REPACKAGED}/vae/wan_2.1_vae.safetensors",
    "Wan 2.1 VAE",
    size="254 MB",
    sha256="2fc39d31359a4b0a64f55876d8ff7fa8d780956ae2cb13463b0223e15148976b",
)
WAN22_VAE = ModelFile(
    "wan2.2_vae.safetensors",
    "vae",
    f"{REPACKAGED_2_2}/vae/wan2.2_vae.safetensors",
    "Wan 2.2 VAE: the 48-channel 16x VAE TI2V-5B takes (the A14B experts take the Wan 2.1 VAE)",
    size="1.41 GB",  # the file's page (Comfy-Org's Wan 2.2 repository, the same file)
)
CLIP_VISION_H = ModelFile(
    "clip_vision_h.safetensors",
    "clip_vision",
    f"{REPACKAGED}/clip_vision/clip_vision_h.safetensors",
    "CLIP ViT-H vision encoder: scores consistency, conditions image-to-video",
    size="1.26 GB",  # 1_264_219_396 bytes: Hugging Face's file listing, in several catalogs
)
# Wan 2.2 Animate, as ComfyUI's Animate template (video_wan2_2_14B_animate) loads it: the bf16 file its notes link,
# the fp8 one it loads, and the relighting LoRA it applies. Sizes: the byte counts Hugging Face's file listings
# report, as copied into public download scripts (34_481_176_192 and 18_337_202_176); the LoRA's from its folder page.
ANIMATE_14B = ModelFile(
    "wan2.2_animate_14B_bf16.safetensors",
    "diffusion_models",
    f"{REPACKAGED_2_2}/diffusion_models/wan2.2_animate_14B_bf16.safetensors",
    "Wan 2.2 Animate 14B: a character from one picture performs a driving clip, or replaces a person in a plate",
    size="34.5 GB",
    dit="14B",
    family="animate",
)
ANIMATE_14B_FP8 = ModelFile(
    "Wan2_2-Animate-14B_fp8_e4m3fn_scaled_KJ.safetensors",
    "diffusion_models",
    f"{KIJAI}/WanVideo_comfy_fp8_scaled/resolve/main/Wan22Animate/Wan2_2-Animate-14B_fp8_e4m3fn_scaled_KJ.safetensors",
    "Wan 2.2 Animate 14B fp8: the same model, scaled to fp8, in half the memory",
    size="18.3 GB",
    dit="14B",
    family="animate",
)
ANIMATE_RELIGHT_LORA = ModelFile(
    "WanAnimate_relight_lora_fp16.safetensors",
    "loras",
    f"{KIJAI}/WanVideo_comfy/resolve/main/LoRAs/Wan22_relight/WanAnimate_relight_lora_fp16.safetensors",
    "Wan Animate relighting LoRA: a character put into a plate takes the plate's light and colour",
    size="1.44 GB",
)

CATALOG: dict[str, ModelFile] = {
    model.name: model
    for model in (
        *(VACE_14B, VACE_1_3B, ATI_14B, WAN_MOVE_14B, LIGHTX2V_14B, UMT5, WAN_VAE, CLIP_VISION_H),
        *(ANIMATE_14B, ANIMATE_14B_FP8, ANIMATE_RELIGHT_LORA),
        *(FUN_VACE_22_HIGH, FUN_VACE_22_LOW, T2V_22_HIGH, T2V_22_LOW, I2V_22_HIGH, I2V_22_LOW, TI2V_5B, WAN22_VAE),
    )
}
WEIGHT_DTYPES = {ATI_14B.name: "fp8_e4m3fn"}

UNITS = {"kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}


def size_bytes(size: str) -> float:
    """A listed size ("34.7 GB") in bytes; the host lists decimal units."""
    number, unit = size.split()
    return float(number) * UNITS[unit]


def format_size(count: float) -> str:
    """Bytes as the host lists them: decimal units, three significant figures."""
    unit = next((u for u in ("TB", "GB", "MB") if count >= UNITS[u]), "kB")
    value = count / UNITS[unit]
    decimals = max(0, 3 - len(str(int(value))))
    return f"{value:.{decimals}f} {unit}"


def total_download(sizes: Iterable[str | None]) -> str:
    """The sum of the listed sizes; files whose size is unknown are named as not counted."""
    listed = list(sizes)
    known = [size_bytes(size) for size in listed if size]
    unknown = len(listed) - len(known)
    total = format_size(sum(known)) if known else "0 GB"
    return f"{total} + {unknown} file(s) of unknown size" if unknown else total
