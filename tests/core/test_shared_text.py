"""Quoting a user's text in messages, and the JSON inputs' refusals, to the character."""

import pytest

from worldkit.models.shared.text import (
    MAX_JSON_DEPTH,
    QUOTE_CHARS,
    TextInputError,
    load_json_text,
    quote,
    require_text,
    text_problem,
)


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("abc", "'abc'"),
        (12, "'12'"),
        (None, "'None'"),
        ("x" * QUOTE_CHARS, "'" + "x" * QUOTE_CHARS + "'"),
        ("x" * (QUOTE_CHARS + 1), "'" + "x" * QUOTE_CHARS + f"'… ({QUOTE_CHARS + 1} characters)"),
        ("a\ud800b", "'a\\ud800b'"),
    ],
)
def test_quote_is_short_encodable_and_says_how_long_the_whole_was(value, quoted):
    assert quote(value) == quoted
    quote(value).encode("utf-8")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_that_are_not_numbers_are_named_in_the_refusal(constant):
    with pytest.raises(TextInputError) as caught:
        load_json_text(f"[{constant}]", "track JSON")
    assert (
        str(caught.value) == f"track JSON holds a value JSON cannot carry here: {constant} is not a number JSON allows."
    )


def test_no_text_and_text_within_the_limit_have_no_problem():
    assert text_problem(None, "prompt", 5) is None
    assert text_problem("abcde", "prompt", 5) is None
    assert require_text("abcde", "prompt", 5) == "abcde"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (7, "prompt must be text, got int."),
        ("abcdef", "prompt is 6 characters long; the limit is 5. Shorten it."),
        (
            "ab\ud800",
            "prompt holds a character that is not valid Unicode text (a lone surrogate) at position 3; delete it or "
            "retype the text.",
        ),
    ],
)
def test_each_text_problem_names_the_input_and_the_fix(value, problem):
    assert text_problem(value, "prompt", 5) == problem
    with pytest.raises(TextInputError) as caught:
        require_text(value, "prompt", 5)
    assert str(caught.value) == problem


@pytest.mark.parametrize(
    "text",
    [
        "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH,
        "[" * (MAX_JSON_DEPTH - 1) + '{"a": "[[[{{{"}' + "]" * (MAX_JSON_DEPTH - 1),  # brackets in a string
        "[" * (MAX_JSON_DEPTH - 1) + r'{"a": "\\"}' + "]" * (MAX_JSON_DEPTH - 1),  # an escaped backslash ends
        "[" * (MAX_JSON_DEPTH - 1) + r'{"a": "\"[[["}' + "]" * (MAX_JSON_DEPTH - 1),  # an escaped quote does not
        "[" + "[[[]]]," * 10 + "[]]",  # depth rises and falls, never past 4
    ],
)
def test_json_as_deep_as_the_limit_is_read(text):
    load_json_text(text, "state")


@pytest.mark.parametrize(
    "text",
    [
        "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
        '{"a": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}",
        "[" * 10 + "[]" + "[" * 7 + "]" * 17,  # a closed array lowers the depth by one, no more
    ],
)
def test_json_deeper_than_the_limit_is_refused_before_parsing(text):
    with pytest.raises(TextInputError) as caught:
        load_json_text(text, "state")
    assert str(caught.value) == f"state nests arrays or objects deeper than {MAX_JSON_DEPTH} levels; flatten it."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (12, "state must be text, got int."),
        ("[1, 2, 3]", "state is 9 characters long; the limit is 5. Shorten it."),
        ("[1,", "state is not valid JSON (Expecting value at line 1, column 4)."),
    ],
)
def test_a_json_input_that_is_not_usable_text_or_json_is_refused_word_for_word(text, message):
    with pytest.raises(TextInputError) as caught:
        load_json_text(text, "state", limit=5 if text == "[1, 2, 3]" else 100)
    assert str(caught.value) == message
