"""ComfyUI adapters, one module per node family. Each module exports NODES."""

from comfy_api.latest import ComfyExtension, io
from typing_extensions import override

from . import gvfx, motion, references, sampling, shots
from .inputs import checked
from .runtime.errors import guard_messages

ALL_NODES: list[type[io.ComfyNode]] = [
    guard_messages(checked(node))
    for node in (
        *references.NODES,
        *shots.NODES,
        *motion.NODES,
        *sampling.NODES,
        *gvfx.NODES,
    )
]


class WorldKitExtension(ComfyExtension):
    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return list(ALL_NODES)
