"""Band-limited speech input (motion.models.layers.limit_bands): what a codec's low-pass does
to the top log-mel bands does not reach the speech encoder (the face decoder: test_face_decoder)."""

from __future__ import annotations

import pytest
import torch

from motion.models.layers import limit_bands
from motion.models.speech_encoder import SpeechDisentangler


def test_limit_bands_repeats_the_highest_band_read() -> None:
    x = torch.arange(2 * 3 * 6, dtype=torch.float32).reshape(2, 3, 6)
    y = limit_bands(x, 4)
    assert y.shape == x.shape and torch.equal(y[..., :4], x[..., :4])
    assert torch.equal(y[..., 4], x[..., 3]) and torch.equal(y[..., 5], x[..., 3])
    assert limit_bands(x, None) is x and torch.equal(limit_bands(x, 6), x)


def test_band_limited_speech_encoder_hears_the_same_emotion_after_a_low_pass() -> None:
    torch.manual_seed(0)
    full = SpeechDisentangler(in_dim=80, width=32, conv_layers=1, layers=1, heads=2).eval()
    limited = SpeechDisentangler(in_dim=80, width=32, conv_layers=1, layers=1, heads=2, bands=77).eval()
    limited.load_state_dict(full.state_dict())  # the limit is a setting, not a tensor
    x = torch.randn(1, 40, 80)
    cut = x.clone()
    cut[..., 77:] -= 8.0  # the top three bands lower, as after a 7.5 kHz low-pass
    a, b = limited.encode(x), limited.encode(cut)
    torch.testing.assert_close(a.emotion_logits, b.emotion_logits, rtol=0, atol=0)
    torch.testing.assert_close(a.content, b.content, rtol=0, atol=0)
    assert not torch.allclose(full.encode(x).emotion_logits, full.encode(cut).emotion_logits)
    with pytest.raises(ValueError, match="bands"):
        SpeechDisentangler(in_dim=80, bands=0)
