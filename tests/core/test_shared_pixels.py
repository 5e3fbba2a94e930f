"""Pixels from other nodes: an empty batch, NaN or infinity, or something that is not a tensor is refused, naming
the input, what is wrong and the fix."""

import pytest
import torch

from worldkit.models.shared.pixels import PixelError, require_pixels


def test_usable_pixels_are_passed_on_as_they_are():
    image = torch.rand(2, 4, 4, 3)
    assert require_pixels(image, "image") is image
    whole = torch.zeros(1, 4, 4, dtype=torch.uint8)
    assert require_pixels(whole, "mask") is whole


def test_something_that_is_not_a_tensor_is_named():
    with pytest.raises(PixelError, match=r"^reference must be an image tensor, got list\.$"):
        require_pixels([[0.5]], "reference")


@pytest.mark.parametrize("shape", [(0, 4, 4, 3), (2, 0, 4, 3)])
def test_an_empty_batch_is_refused_with_its_shape(shape):
    with pytest.raises(PixelError) as caught:
        require_pixels(torch.rand(shape), "image")
    assert str(caught.value).startswith(f"image is an empty batch (shape {shape}); connect a node that gives")


def test_a_one_value_batch_is_not_empty():
    assert require_pixels(torch.ones(1), "mask").numel() == 1


def test_nan_and_infinity_are_counted_and_the_first_is_located():
    image = torch.rand(3, 4, 5, 3)
    image[1, 2, 3, 0] = float("nan")
    image[2, 0, 0, 1] = float("inf")
    expected = (
        "image holds 2 NaN or infinite values (the first at index [1, 2, 3, 0]); fix the node that made it, or "
        "clamp it (e.g. with an image-adjust node) before connecting it."
    )
    with pytest.raises(PixelError) as caught:
        require_pixels(image, "image")
    assert str(caught.value) == expected
