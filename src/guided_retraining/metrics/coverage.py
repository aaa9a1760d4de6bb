"""Coverage metrics, per input: neuron coverage (NC), KMNC and NBC.

NC follows Pei et al. 2017 ("DeepXplore: automated whitebox testing of deep learning
systems"); KMNC and NBC follow Ma et al. 2018 ("DeepGauge: multi-granularity testing
criteria for deep learning systems"), each applied to one input at a time.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, DataError
from ._common import DEFAULT_MEMORY_MB, as_ats, chunk_rows, chunks


def _layers(layer_activations) -> list[np.ndarray]:
    if isinstance(layer_activations, np.ndarray):
        layer_activations = [layer_activations]
    layers = [as_ats(f"layer_activations[{i}]", a, np.float32) for i, a in enumerate(layer_activations)]
    if not layers:
        raise DataError("layer_activations: give at least one layer")
    n = layers[0].shape[0]
    if any(a.shape[0] != n for a in layers):
        raise DataError("layer_activations: all layers must have the same number of inputs")
    return layers


def nc(layer_activations, threshold: float = 0.2, *, scaling: str = "input", train_ranges=None,
       memory_mb: float = DEFAULT_MEMORY_MB) -> np.ndarray:
    """Neuron coverage of each input (DeepXplore, Pei et al. 2017).

    ``NC(x) = |{neurons n : scaled(a_n(x)) > threshold}| / |neurons|`` over all given layers
    (each ``inputs x units``) together.

    scaling="input" (the study, DeepXplore's ``scale``): each layer's activations of one
    input are min-max scaled within that input and layer, ``(a - min) / (max - min)``;
    a layer whose activations are all equal for the input covers none of its neurons.
    scaling="train": neuron n is scaled by its training range, ``(a - lo_n) / (hi_n - lo_n)``
    with ``train_ranges = (lo, hi)`` over the concatenated neurons; a neuron with
    ``hi_n == lo_n`` is covered when ``a > lo_n``.
    """
    layers = _layers(layer_activations)
    n = layers[0].shape[0]
    total = sum(a.shape[1] for a in layers)
    covered = np.zeros(n, dtype=np.int64)
    if scaling == "input":
        for a in layers:
            rows = chunk_rows(memory_mb, a.shape[1] * 4 * 3, n)
            for start, stop in chunks(n, rows):
                x = a[start:stop]
                lo = x.min(axis=1, keepdims=True)
                span = x.max(axis=1, keepdims=True) - lo
                flat = span <= 0
                hit = (x - lo) / np.where(flat, 1, span) > threshold
                hit &= ~flat
                covered[start:stop] += hit.sum(axis=1)
    elif scaling == "train":
        if train_ranges is None:
            raise ConfigError("scaling: 'train' needs train_ranges=(lo, hi)")
        lo, hi = (np.asarray(v, dtype=np.float64).ravel() for v in train_ranges)
        if lo.shape != (total,) or hi.shape != (total,):
            raise DataError(f"train_ranges: expected two arrays of {total} values")
        span = hi - lo
        offset = 0
        for a in layers:
            w = a.shape[1]
            l, s = lo[offset:offset + w], span[offset:offset + w]
            offset += w
            rows = chunk_rows(memory_mb, w * 8 * 3, n)
            for start, stop in chunks(n, rows):
                x = a[start:stop].astype(np.float64) - l
                hit = np.where(s > 0, x / np.where(s > 0, s, 1) > threshold, x > 0)
                covered[start:stop] += hit.sum(axis=1)
    else:
        raise ConfigError(f"scaling: {scaling!r} is not one of 'input', 'train'")
    return covered / float(total)


def _ranges(train_ats, target_ats):
    train = as_ats("train_ats", train_ats)
    target = as_ats("target_ats", target_ats)
    if train.shape[1] != target.shape[1]:
        raise DataError(f"reference has {train.shape[1]} neurons but targets have {target.shape[1]}")
    if train.shape[0] == 0:
        raise DataError("train_ats: the reference set is empty")
    return train.min(axis=0), train.max(axis=0), target


def kmnc(train_ats, target_ats, k: int = 1000) -> np.ndarray:
    """k-multisection neuron coverage of each input (DeepGauge, Ma et al. 2018).

    Neuron n's training range ``[lo_n, hi_n]`` is cut into ``k`` equal sections; the input
    covers section ``min(floor(k (a - lo) / (hi - lo)), k - 1)`` of each neuron whose
    activation lies in the range (a neuron with ``hi == lo`` is covered by ``a == lo``).
    ``KMNC(x) = covered sections / (k * neurons)``. One input covers at most one section
    per neuron, so per input this is ``(neurons in range) / (k * neurons)``.
    """
    if int(k) < 1:
        raise ConfigError(f"k: must be a positive integer, got {k!r}")
    lo, hi, x = _ranges(train_ats, target_ats)
    inside = (x >= lo) & (x <= hi)
    return inside.sum(axis=1) / float(int(k) * x.shape[1])


def nbc(train_ats, target_ats) -> np.ndarray:
    """Neuron boundary coverage of each input (DeepGauge, Ma et al. 2018).

    ``NBC(x) = (|{n : a_n(x) < lo_n}| + |{n : a_n(x) > hi_n}|) / (2 * neurons)`` with
    ``[lo_n, hi_n]`` neuron n's range on the reference (training) inputs.
    """
    lo, hi, x = _ranges(train_ats, target_ats)
    return ((x < lo).sum(axis=1) + (x > hi).sum(axis=1)) / float(2 * x.shape[1])
