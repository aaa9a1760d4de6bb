"""The study's CNNs (REPLICATION.md, "Models"), in PyTorch, with logits as output.

Each architecture is a list of named layers; ``Dense`` and ``Conv`` layers include
their ReLU so their outputs are the activations the guidance metrics read (as in
Keras). The last layer outputs logits (the softmax is applied by the callers that
need probabilities): attacks need logits, which fixes the study's softmax-output flaw.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .layers import Conv, Dense, SeededDropout
from ..architectures import C, D, F, L, P, SPECS


class SequentialCNN(nn.Sequential):
    """``nn.Sequential`` with named layers and the name of its last hidden dense layer."""

    def __init__(self, arch: str, layers: "OrderedDict[str, nn.Module]", last_hidden: str):
        super().__init__(layers)
        self.arch = arch
        self.last_hidden = last_hidden

    def layer_names(self) -> list[str]:
        return [name for name, _ in self.named_children()]


def build(arch: str, in_shape: tuple[int, int, int], n_classes: int) -> SequentialCNN:
    """Build architecture ``arch`` for inputs of shape (C, H, W) and ``n_classes`` outputs."""
    channels, height, width = in_shape
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    counts: dict[str, int] = {}
    features = None
    last_hidden = None

    def name(kind: str) -> str:
        counts[kind] = counts.get(kind, 0) + 1
        return f"{kind}{counts[kind]}"

    for spec in SPECS[arch]:
        kind = spec[0]
        if kind == C:
            layers[name("conv")] = Conv(channels, spec[1])
            channels = spec[1]
        elif kind == P:
            layers[name("pool")] = nn.MaxPool2d(2)
            height, width = height // 2, width // 2
        elif kind == D:
            layers[name("dropout")] = SeededDropout(spec[1])
        elif kind == F:
            layers["flatten"] = nn.Flatten()
            features = channels * height * width
        elif kind == L:
            last_hidden = name("dense")
            layers[last_hidden] = Dense(features, spec[1])
            features = spec[1]
    if features is None or last_hidden is None:
        raise ValueError(f"architecture {arch!r} needs a flatten and a dense layer")
    layers["logits"] = Dense(features, n_classes, relu=False)
    return SequentialCNN(arch, layers, last_hidden)


def softmax(logits: torch.Tensor) -> torch.Tensor:
    return torch.softmax(logits, dim=1)
