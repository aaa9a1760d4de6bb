"""Hit spectra and Tarantula suspiciousness of neurons (seed 003, DeepCustom's suspicious_detection/).

For each neuron of the chosen layers and each class, the inputs of that class are split into
passing (classified correctly, S of them) and failing (misclassified, F of them) ones; a neuron
is *active* on an input when its activation (after ReLU) is above ``threshold`` (default 0). Its
hit spectrum is (a_s, a_f): the number of passing / failing inputs it is active on. Tarantula
(Jones, Harrold, Stasko 2002, as DeepCustom's ``Neuron.tarantula``):

    T = (a_f / F) / (a_f / F + a_s / S)

and T = 0 when F = 0, S = 0 or a_f = a_s = 0. A convolutional layer's neurons are the positions
of each feature map; a feature map's score is the mean of its neurons' (DeepCustom's
``FeatureMap.average_score``). The most suspicious units of a class are the top ``k`` feature
maps of each convolutional layer and the top ``k`` neurons over all dense layers together
(``find_suspicious_feature_maps`` / ``find_suspicious_neurons``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..training import resolve_device


def tarantula(a_f: np.ndarray, a_s: np.ndarray, n_fail: int, n_pass: int) -> np.ndarray:
    """Tarantula score of each neuron from its hit spectrum (float64; 0 where undefined)."""
    a_f = np.asarray(a_f, np.float64)
    a_s = np.asarray(a_s, np.float64)
    if n_fail == 0 or n_pass == 0:
        return np.zeros(np.broadcast(a_f, a_s).shape)
    fail, pas = a_f / n_fail, a_s / n_pass
    den = fail + pas
    return np.divide(fail, den, out=np.zeros_like(den), where=den > 0)


def hidden_layers(model: nn.Module) -> list[str]:
    """Names of the target's hidden layers with neurons: convolutions and dense layers but the logits."""
    return [n for n in dict(model.named_children()) if n.startswith(("conv", "dense"))]


@torch.no_grad()
def hit_spectra(model: nn.Module, x: np.ndarray, y: np.ndarray, n_classes: int, layers: list[str] | None = None,
                threshold: float = 0.0, batch_size: int = 512, device: str = "cpu") -> dict:
    """Hit spectra of every neuron of ``layers`` (default :func:`hidden_layers`), per class.

    Returns ``{"n_pass": (C,), "n_fail": (C,), "layers": [...], "a_s": {layer: (C, *unit_shape)},
    "a_f": {layer: ...}}`` with int64 counts; ``unit_shape`` is (units,) for dense layers and
    (maps, H, W) for convolutional ones.
    """
    dev = resolve_device(device)
    model.to(dev).eval()
    layers = layers or hidden_layers(model)
    modules = dict(model.named_children())
    captured: dict[str, torch.Tensor] = {}
    hooks = [modules[n].register_forward_hook(lambda _m, _i, out, n=n: captured.__setitem__(n, out)) for n in layers]
    n_pass = np.zeros(n_classes, np.int64)
    n_fail = np.zeros(n_classes, np.int64)
    a_s: dict[str, np.ndarray] = {}
    a_f: dict[str, np.ndarray] = {}
    try:
        for start in range(0, len(x), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(x[start:start + batch_size], np.float32)).to(dev)
            yb = torch.from_numpy(np.asarray(y[start:start + batch_size], np.int64)).to(dev)
            passed = model(xb).argmax(1) == yb
            onehot = nn.functional.one_hot(yb, n_classes).to(torch.float64)  # (B, C)
            n_pass += (onehot * passed[:, None]).sum(0).long().cpu().numpy()
            n_fail += (onehot * ~passed[:, None]).sum(0).long().cpu().numpy()
            for name in layers:
                active = (captured[name] > threshold).to(torch.float64).flatten(1)  # (B, units)
                shape = tuple(captured[name].shape[1:])
                s = (onehot * passed[:, None]).T @ active
                f = (onehot * ~passed[:, None]).T @ active
                a_s[name] = a_s.get(name, 0) + s.round().long().cpu().numpy().reshape(n_classes, *shape)
                a_f[name] = a_f.get(name, 0) + f.round().long().cpu().numpy().reshape(n_classes, *shape)
    finally:
        for h in hooks:
            h.remove()
    return {"n_pass": n_pass, "n_fail": n_fail, "layers": list(layers), "a_s": a_s, "a_f": a_f}


def unit_scores(spectra: dict) -> dict[str, np.ndarray]:
    """Tarantula per class and unit: (C, units) for dense layers, (C, maps) for convolutional ones
    (each map the mean of its neurons' scores)."""
    out = {}
    for name in spectra["layers"]:
        a_s, a_f = spectra["a_s"][name], spectra["a_f"][name]
        scores = np.stack([tarantula(a_f[c], a_s[c], int(spectra["n_fail"][c]), int(spectra["n_pass"][c]))
                           for c in range(len(spectra["n_pass"]))])
        out[name] = scores.reshape(scores.shape[0], scores.shape[1], -1).mean(axis=2) if scores.ndim == 4 else scores
    return out


def most_suspicious(scores: dict[str, np.ndarray], cls: int, k: int) -> list[tuple[str, int, float]]:
    """The most suspicious units of class ``cls``: (layer, unit, score), the top ``k`` maps of each
    convolutional layer and the top ``k`` neurons over all dense layers; ties go to the earlier unit."""
    picked: list[tuple[str, int, float]] = []
    dense: list[tuple[str, int, float]] = []
    for name, s in scores.items():
        units = [(name, int(j), float(s[cls, j])) for j in range(s.shape[1])]
        if name.startswith("conv"):
            picked += sorted(units, key=lambda u: -u[2])[:k]
        else:
            dense += units
    return picked + sorted(dense, key=lambda u: -u[2])[:k]


def suspicious_masks(scores: dict[str, np.ndarray], k: int) -> dict[str, np.ndarray]:
    """Per layer, a bool array (C, units) marking each class's most suspicious units (:func:`most_suspicious`)."""
    masks = {name: np.zeros(s.shape, bool) for name, s in scores.items()}
    n_classes = next(iter(scores.values())).shape[0]
    for c in range(n_classes):
        for name, j, _ in most_suspicious(scores, c, k):
            masks[name][c, j] = True
    return masks


def suspicious_table(scores: dict[str, np.ndarray], spectra: dict, k: int):
    """One row per class and most suspicious unit (:func:`most_suspicious`): class, rank, layer, unit,
    tarantula, and (dense units) the hit spectrum a_f, a_s with the class's F and S."""
    import pandas as pd

    rows = []
    for c in range(len(spectra["n_pass"])):
        for rank, (name, j, score) in enumerate(sorted(most_suspicious(scores, c, k), key=lambda u: -u[2]), 1):
            dense = spectra["a_f"][name].ndim == 2
            rows.append({"class": c, "rank": rank, "layer": name, "unit": j, "tarantula": score,
                         "a_f": int(spectra["a_f"][name][c, j]) if dense else None,
                         "a_s": int(spectra["a_s"][name][c, j]) if dense else None,
                         "F": int(spectra["n_fail"][c]), "S": int(spectra["n_pass"][c])})
    return pd.DataFrame(rows)
