"""Text from users, made safe to check and to quote in error messages.

A lone UTF-16 surrogate (``"\\ud800"``, which JSON allows) cannot be encoded as UTF-8: ComfyUI's prompt
worker dies when it logs an error message holding one. So every message that quotes what a user typed
goes through ``quote``, and text inputs are checked with ``text_problem`` before a prompt runs.

Text inputs have documented length limits: a prompt of a megabyte would only exhaust memory downstream.
"""

from __future__ import annotations

import json
from typing import Any

MAX_PROMPT_CHARS = 20_000  # prompts, negative prompts, descriptions, entity lists
MAX_NAME_CHARS = 200  # entity, shot, world and track names
MAX_JSON_CHARS = 5_000_000  # track JSON, editor state, shot lengths
MAX_JSON_DEPTH = 16  # nesting of arrays and objects; the deepest WorldKit format needs 5
QUOTE_CHARS = 80


class TextInputError(ValueError):
    """Text that cannot be used: too long, not encodable, or JSON nested or sized beyond the limits."""


def printable(text: str) -> str:
    """``text`` with anything UTF-8 cannot carry (lone surrogates) written as a backslash escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def quote(value: Any, limit: int = QUOTE_CHARS) -> str:
    """A short, always-encodable quotation of a user's value for an error message."""
    text = value if isinstance(value, str) else repr(value)
    shown = printable(text[:limit])
    return f"'{shown}'" + (f"… ({len(text)} characters)" if len(text) > limit else "")


def text_problem(value: Any, name: str, limit: int) -> str | None:
    """Why a text input cannot be used (naming it and the fix), or None when it can."""
    if value is None:
        return None
    if not isinstance(value, str):
        return f"{name} must be text, got {type(value).__name__}."
    if len(value) > limit:
        return f"{name} is {len(value):,} characters long; the limit is {limit:,}. Shorten it."
    if printable(value) != value:
        position = next(i for i, char in enumerate(value) if printable(char) != char)
        return (
            f"{name} holds a character that is not valid Unicode text (a lone surrogate) at position "
            f"{position + 1}; delete it or retype the text."
        )
    return None


def require_text(value: Any, name: str, limit: int) -> str:
    """``value`` when it is usable text, else TextInputError saying why."""
    problem = text_problem(value, name, limit)
    if problem:
        raise TextInputError(problem)
    return value


def _depth(text: str) -> int:
    """Deepest nesting of [ and { outside JSON strings (a scan, so a hostile depth cannot recurse)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def load_json_text(text: Any, name: str, limit: int = MAX_JSON_CHARS) -> Any:
    """Parse a JSON text input; every failure is a TextInputError naming the input and the fix.

    Depth and size are bounded before parsing, and numbers too long for Python are refused, so nothing
    a user types raises RecursionError or runs out of memory here.
    """
    require_text(text, name, limit)
    if _depth(text) > MAX_JSON_DEPTH:
        raise TextInputError(f"{name} nests arrays or objects deeper than {MAX_JSON_DEPTH} levels; flatten it.")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise TextInputError(
            f"{name} is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})."
        ) from None
    except ValueError as error:  # integers beyond Python's digit limit, NaN/Infinity
        raise TextInputError(f"{name} holds a value JSON cannot carry here: {printable(str(error))}.") from None


def _refuse_constant(constant: str) -> float:
    raise ValueError(f"{constant} is not a number JSON allows")
