"""Quoting a user's text in messages, and the JSON inputs' refusals, to the character."""

import pytest

from worldkit.models.shared.text import QUOTE_CHARS, TextInputError, load_json_text, quote


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
