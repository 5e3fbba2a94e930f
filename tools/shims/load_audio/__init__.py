"""A stand-in for ComfyUI's LoadAudio where the host lacks torchaudio (ComfyUI then skips its audio nodes), mounted
into the host tests' and benchmarks' servers.

It registers only when torchaudio cannot be imported, keeps LoadAudio's name, input and AUDIO output, and
decodes with PyAV, so the shipped workflows run unchanged on such a host.
"""

import importlib.util
import os

import av
import folder_paths
import numpy as np
import torch

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus")


def channels_first(frame: av.AudioFrame) -> np.ndarray:
    samples = frame.to_ndarray()
    return samples if frame.format.is_planar else samples.reshape(-1, len(frame.layout.channels)).T


def decode(path: str) -> dict:
    with av.open(path) as container:
        stream = container.streams.audio[0]
        chunks = [channels_first(frame) for frame in container.decode(stream)]
        rate = stream.rate
    samples = np.concatenate(chunks, axis=1)
    if samples.dtype.kind == "i":
        samples = samples.astype(np.float32) / float(np.iinfo(samples.dtype).max)
    return {"waveform": torch.from_numpy(samples.astype(np.float32))[None], "sample_rate": int(rate)}


class LoadAudio:
    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI node API)
        folder = folder_paths.get_input_directory()
        files = sorted(f for f in os.listdir(folder) if f.lower().endswith(AUDIO_EXTENSIONS))
        return {"required": {"audio": (files, {"audio_upload": True})}}

    RETURN_TYPES = ("AUDIO",)
    FUNCTION = "load"
    CATEGORY = "audio"

    @classmethod
    def VALIDATE_INPUTS(cls, audio):  # noqa: N802 (ComfyUI node API)
        if not folder_paths.exists_annotated_filepath(audio):
            return f"Invalid audio file: {audio}"
        return True

    def load(self, audio):
        return (decode(folder_paths.get_annotated_filepath(audio)),)


NODE_CLASS_MAPPINGS = {} if importlib.util.find_spec("torchaudio") else {"LoadAudio": LoadAudio}
NODE_DISPLAY_NAME_MAPPINGS = {name: "Load Audio" for name in NODE_CLASS_MAPPINGS}
