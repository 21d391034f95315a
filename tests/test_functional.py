"""Shared tensor functions (functional.complex, functional.conv): polyphase strided convolution, safe magnitude."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from nnaudio_core.functional import magnitude, strided_conv1d


@pytest.mark.parametrize(
    ("length", "width", "stride"),
    [(4096, 2048, 512), (5000, 2048, 500), (3001, 256, 441), (1000, 64, 1), (700, 100, 300), (640, 640, 7),
     (50, 3, 64)],
)
def test_strided_conv1d_equals_conv1d_and_its_gradient(length, width, stride):
    x = torch.randn(3, 1, length, dtype=torch.float64)
    channels = max(10, -(-512 * stride // width))  # enough work for the polyphase form
    w1 = torch.randn(channels, 1, width, dtype=torch.float64, requires_grad=True)
    w2 = w1.detach().clone().requires_grad_()
    expected = F.conv1d(x, w1, stride=stride)
    actual = strided_conv1d(x, w2, stride)
    assert actual.shape == expected.shape
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)
    grad_out = torch.randn_like(expected)
    expected.backward(grad_out)
    actual.backward(grad_out)
    torch.testing.assert_close(w2.grad, w1.grad, rtol=1e-12, atol=1e-12)


def test_strided_conv1d_takes_the_plain_convolution_for_little_work(monkeypatch):
    calls = []
    real_conv1d = F.conv1d
    monkeypatch.setattr(F, "conv1d", lambda inp, w, *a, **k: calls.append((inp.shape[1], k.get("stride"))) or
                        real_conv1d(inp, w, *a, **k))
    x = torch.randn(2, 1, 5000)
    strided_conv1d(x, torch.randn(24, 1, 365), 512)  # 24 * 365 < 512 * 512: memory-bound
    strided_conv1d(x, torch.randn(600, 1, 1024), 512)  # polyphase: 512 input channels, no stride
    assert calls == [(1, 512), (512, None)]


def test_strided_conv1d_rejects_an_input_shorter_than_the_kernels():
    with pytest.raises(ValueError, match="shorter than the kernels"):
        strided_conv1d(torch.randn(1, 1, 10), torch.randn(2, 1, 11), 2)


def test_magnitude_has_finite_gradients_at_zero():
    re = torch.tensor([0.0, 3.0], requires_grad=True)
    im = torch.tensor([0.0, 4.0], requires_grad=True)
    magnitude(re, im).sum().backward()
    assert torch.isfinite(re.grad).all() and torch.isfinite(im.grad).all()
    torch.testing.assert_close(re.grad, torch.tensor([0.0, 0.6]))
