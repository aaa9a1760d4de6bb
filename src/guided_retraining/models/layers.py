"""Building blocks whose randomness comes from an explicit ``torch.Generator``.

Jobs may run as threads of one process, so nothing here touches torch's global
random state: dropout masks and initial weights are drawn from a generator that
the caller seeds from config.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Dense(nn.Module):
    """Fully connected layer with an optional ReLU (Keras ``Dense(units, activation=...)``)."""

    def __init__(self, in_features: int, out_features: int, relu: bool = True):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.linear(x)
        return torch.relu(x) if self.relu else x


class Conv(nn.Module):
    """3x3 convolution, padding 'same' (``padding=0``: 'valid'), ReLU (Keras ``Conv2D(filters, 3, activation='relu')``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, padding: int | None = None):
        super().__init__()
        pad = kernel_size // 2 if padding is None else padding
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x))


class SeededDropout(nn.Module):
    """Inverted dropout drawing its masks from ``self.generator`` (global RNG when unset)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = float(p)
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.empty_like(x).bernoulli_(keep, generator=self.generator)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


def set_generator(model: nn.Module, generator: torch.Generator | None) -> None:
    """Make every dropout layer of ``model`` draw from ``generator``."""
    for module in model.modules():
        if isinstance(module, SeededDropout):
            module.generator = generator


INITS = ("torch", "keras")


def init_weights(model: nn.Module, generator: torch.Generator, style: str = "torch") -> None:
    """Re-draw all weights from ``generator``.

    ``torch`` (default): PyTorch's initialisation, Kaiming-uniform weights with a = sqrt(5) and
    biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), exactly as ``nn.Linear.reset_parameters`` and
    ``nn.Conv2d.reset_parameters``. ``keras`` (replication switch): the study's Keras layers'
    defaults, Glorot-uniform weights U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot &
    Bengio 2010; fan = channels x kernel area for convolutions) and zero biases.
    """
    if style not in INITS:
        raise ValueError(f"init: expected one of {list(INITS)}, got {style!r}")
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                if style == "keras":
                    nn.init.xavier_uniform_(module.weight, generator=generator)
                    if module.bias is not None:
                        module.bias.zero_()
                    continue
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                if module.bias is not None:
                    fan_in = module.weight[0].numel()
                    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    module.bias.uniform_(-bound, bound, generator=generator)
