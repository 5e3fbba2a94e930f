"""Errors leaving a WorldKit node always carry encodable text.

ComfyUI's prompt worker logs a failing node's message; a lone surrogate quoted from a user's text makes
that logging raise and the worker thread die, after which the server accepts prompts but never runs them.
Messages are built with ``models.shared.text.quote``; this guard catches whatever still slips through
(a library's message quoting the input, say) at the one place every node's work passes.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from comfy_api.latest import io

from ...models.shared.text import printable


def encodable(error: BaseException) -> BaseException:
    """``error`` itself when its message is encodable, else a ValueError with the message escaped."""
    message = str(error)
    if printable(message) == message:
        return error
    return ValueError(printable(message))


def _guarded(execute: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(execute):

        @functools.wraps(execute)
        async def run_async(cls, *args, **kwargs):
            try:
                return await execute(cls, *args, **kwargs)
            except Exception as error:
                safe = encodable(error)
                if safe is error:
                    raise
                raise safe from None

        return run_async

    @functools.wraps(execute)
    def run(cls, *args, **kwargs):
        try:
            return execute(cls, *args, **kwargs)
        except Exception as error:
            safe = encodable(error)
            if safe is error:
                raise
            raise safe from None

    return run


def guard_messages(node: type[io.ComfyNode]) -> type[io.ComfyNode]:
    """Wrap ``node.execute`` so an exception it raises has a message ComfyUI can log."""
    if "execute" in vars(node) and not getattr(node.execute, "__wrapped__", None):
        node.execute = classmethod(_guarded(node.execute.__func__))
    return node
