"""Monte-Carlo dropout variation ratio.

Gal & Ghahramani 2016 (MC dropout); variation ratio as used for test prioritisation by
Weiss & Tonella 2022, "Simple techniques work surprisingly well for neural network test
prioritization and active learning": with ``T`` stochastic forward passes (dropout on),

    VR(x) = 1 - (number of passes predicting the modal class) / T
"""

from __future__ import annotations

import numpy as np


def mc_dropout_variation_ratio(model, inputs, n_samples: int = 20, seed: int = 0,
                               batch_size: int = 256, device="cpu") -> np.ndarray:
    """Variation ratio of each input under ``n_samples`` dropout passes (float64, in [0, 1)).

    Only the project's ``SeededDropout`` layers are switched to training mode; their masks
    come from one ``torch.Generator`` seeded with ``seed`` (torch's global random state is
    never used, so concurrent jobs do not interfere). Every other module stays in eval
    mode; the model's modes and generators are restored afterwards. A model without
    dropout gives 0 for every input. Ties for the mode: any modal class (the count is the
    same). Masks are drawn batch by batch, so values depend on ``batch_size`` too. The model
    runs on ``device`` and is moved back to its own device afterwards.
    """
    import torch

    from ..models.layers import SeededDropout, set_generator
    from ._common import torch_device

    if int(n_samples) < 1:
        raise ValueError("n_samples must be at least 1")
    dev = torch_device(device)
    x_all = torch.as_tensor(np.asarray(inputs) if not isinstance(inputs, torch.Tensor) else inputs)
    home = next((t.device for t in model.parameters()), dev)
    modes = {m: m.training for m in model.modules()}
    old_gen = {m: m.generator for m in model.modules() if isinstance(m, SeededDropout)}
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    out = np.empty(x_all.shape[0])
    try:
        model.to(dev).eval()
        for m in old_gen:
            m.train()
        set_generator(model, gen)
        with torch.no_grad():
            for start in range(0, x_all.shape[0], int(batch_size)):
                x = x_all[start:start + int(batch_size)].to(dev, torch.float32)
                preds = torch.stack([model(x).argmax(dim=1) for _ in range(int(n_samples))], dim=1)
                n_classes = int(preds.max()) + 1
                counts = torch.zeros(preds.shape[0], n_classes, dtype=torch.int64, device=dev)
                counts.scatter_add_(1, preds, torch.ones_like(preds))
                out[start:start + x.shape[0]] = 1.0 - counts.max(dim=1).values.cpu().numpy() / int(n_samples)
    finally:
        for m, g in old_gen.items():
            m.generator = g
        for m, training in modes.items():
            m.train(training)
        model.to(home)
    return out
