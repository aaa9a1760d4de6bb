"""Relevant pixels of each class by layer-wise relevance propagation, with Captum's LRP.

Seed 003's LRP loss needs, for each class c, the k pixels most relevant to the target model's
decision for c (DeepCustom's ``relevant_pixels_{k}.pkl``). Here: the LRP relevance (Bach et al.
2015; Captum's ``captum.attr.LRP``, epsilon rule on linear and convolutional layers, max pooling
passed through as Captum does) of the logit of c, averaged over the given inputs of class c;
the k pixels (positions summed over channels) with the largest mean relevance.

Captum's LRP cannot pass relevance through an ``nn.Flatten`` module (its identity rule keeps the
tensor's shape), so :class:`LRPView` re-expresses the target model with the same weights as
convolution/ReLU/pooling/linear modules and a functional flatten; its outputs equal the model's.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..models.layers import Conv, Dense


class LRPView(nn.Module):
    """The target model (a SequentialCNN) as modules Captum's LRP has rules for; shares its weights."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.parts = nn.ModuleList()
        self.flatten_at: int | None = None
        for layer in model.children():
            if isinstance(layer, Conv):
                self.parts.extend([layer.conv, nn.ReLU()])
            elif isinstance(layer, Dense):
                self.parts.append(layer.linear)
                if layer.relu:
                    self.parts.append(nn.ReLU())
            elif isinstance(layer, nn.MaxPool2d):
                self.parts.append(layer)
            elif isinstance(layer, nn.Flatten):
                self.flatten_at = len(self.parts)
            # dropout: the identity at inference

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, part in enumerate(self.parts):
            if i == self.flatten_at:
                x = x.flatten(1)
            x = part(x)
        return x


def class_relevance(model: nn.Module, x: np.ndarray, y: np.ndarray, n_classes: int,
                    batch_size: int = 256) -> np.ndarray:
    """Mean LRP relevance map (C, H, W) of each class's logit over that class's inputs (channels summed)."""
    from captum.attr import LRP

    view = LRPView(model.cpu().eval()).eval()
    lrp = LRP(view)
    total = np.zeros((n_classes, *x.shape[2:]), np.float64)
    count = np.zeros(n_classes, np.int64)
    for start in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(x[start:start + batch_size], np.float32)).requires_grad_(True)
        yb = torch.from_numpy(np.asarray(y[start:start + batch_size], np.int64))
        rel = lrp.attribute(xb, target=yb).detach().sum(1).double().numpy()  # (B, H, W)
        np.add.at(total, yb.numpy(), rel)
        count += np.bincount(yb.numpy(), minlength=n_classes)
    return total / np.maximum(count, 1)[:, None, None]


def relevant_pixels(relevance: np.ndarray, k: int) -> np.ndarray:
    """Bool mask (C, H, W): the ``k`` positions with the largest relevance of each class (stable order)."""
    flat = relevance.reshape(len(relevance), -1)
    mask = np.zeros(flat.shape, bool)
    top = np.argsort(-flat, axis=1, kind="stable")[:, :k]
    np.put_along_axis(mask, top, True, axis=1)
    return mask.reshape(relevance.shape)
