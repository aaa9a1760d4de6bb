"""The study's CNNs (the Keras models of its replication notebooks), in PyTorch, with logits as output.

Each architecture is a list of named layers; ``Dense`` and ``Conv`` layers include
their ReLU so their outputs are the activations the guidance metrics read (as in
Keras). The last layer outputs logits (the softmax is applied by the callers that
need probabilities): attacks need logits, which fixes the study's softmax-output flaw.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from .layers import Conv, Dense, SeededDropout
from ..architectures import C, D, F, L, P, SPECS, last_hidden, layer_names


class SequentialCNN(nn.Sequential):
    """``nn.Sequential`` with named layers and the name of its last hidden dense layer."""

    def __init__(self, arch: str, layers: "OrderedDict[str, nn.Module]"):
        super().__init__(layers)
        self.arch = arch
        self.last_hidden = last_hidden(arch)


def build(arch: str, in_shape: tuple[int, int, int], n_classes: int) -> SequentialCNN:
    """Build architecture ``arch`` for inputs of shape (C, H, W) and ``n_classes`` outputs.

    Layer names come from :func:`guided_retraining.architectures.layer_names`, the names
    the config check accepts.
    """
    channels, height, width = in_shape
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    features = None
    for name, spec in zip(layer_names(arch), SPECS[arch]):  # zip stops before "logits"
        kind = spec[0]
        if kind == C:
            valid = len(spec) > 2 and spec[2] == "valid"
            layers[name] = Conv(channels, spec[1], padding=0 if valid else None)
            channels = spec[1]
            if valid:
                height, width = height - 2, width - 2
        elif kind == P:
            layers[name] = nn.MaxPool2d(2)
            height, width = height // 2, width // 2
        elif kind == D:
            layers[name] = SeededDropout(spec[1])
        elif kind == F:
            layers[name] = nn.Flatten()
            features = channels * height * width
        elif kind == L:
            layers[name] = Dense(features, spec[1])
            features = spec[1]
    if features is None or not any(spec[0] == L for spec in SPECS[arch]):
        raise ValueError(f"architecture {arch!r} needs a flatten and a dense layer")
    layers["logits"] = Dense(features, n_classes, relu=False)
    return SequentialCNN(arch, layers)
