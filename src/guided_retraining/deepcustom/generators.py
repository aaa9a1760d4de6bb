"""Data generator networks (DGN) of seed 003, DeepCustom: per-class convolutional autoencoders
trained against a fixed target model with a customisable loss ("Improving robustness of deep
learning systems with fast and customizable adversarial data generation"; public code
FastCustomizableCAE/DeepCustom, ``DataGeneratorNetwork.py`` and ``CustomLosses.py``; this is a
PyTorch re-implementation, not a port).

Networks (TensorFlow shapes of the seed, NCHW here):

- MNIST (1x28x28): 3x3 conv 32 ('same') + ReLU, 2x2 max pool; 3x3 conv 64 ('same') + ReLU, pool;
  3x3 conv 128 ('valid') + ReLU, pool (ceil) -> code 128x3x3; transposed convs 64 (k3 s2) -> 7x7,
  32 (k2 s2) -> 14x14, each ReLU then batch norm, 1 (k2 s2) -> 28x28 and a sigmoid.
- CIFAR-10 (3x32x32): 'valid' 3x3 convs 32, 64 (stride 2), 128, 128 (stride 2) with ReLU -> code
  128x5x5; transposed convs 128 (k3 s2) -> 11, 64 (k4 s1) -> 14, 32 (k4 s2) -> 30, each ReLU then
  batch norm, 3 (k3 s1) -> 32x32 and a sigmoid.

One generator per class c, trained on the training inputs of class c with Adam and a staircase
exponential learning-rate decay lr_t = lr * decay_rate^floor(t / decay_step) (the seed: lr 1e-4,
0.9 every 1,000 steps, batch 100, 150 epochs). Losses (x the input, x' = G_c(x), f the target
model with logits, z_j its pre-activations, c = ``custom_loss_constant``, MSE the mean squared
difference over pixels and batch, CE the cross-entropy of f(x') against the label):

- ``original``: MSE(x', x) - CE (the seed's OriginalLoss; c unused).
- ``lrp``: c * mean_{i in R_c} ((x_i - eps) - x'_i)^2 + (1 - c) * mean_{i not in R_c} ((x_i + eps) - x'_i)^2,
  R_c the k pixels most relevant to class c (:mod:`.relevance`, Captum's LRP): relevant pixels are
  pushed down by eps, the others up (the seed's LRP CustomLosses; f enters only through R_c).
- ``nce`` (neuron coverage enhancement): the seed's public NCE code computes MSE - CE, identical to
  ``original`` (c unused), and so does this loss by default. The project's extension,
  ``coverage_weight`` w > 0 (default 0): MSE - CE - w * mean_j sigmoid(z_j(x')) over the hidden units
  (convolutional maps averaged over space), which rewards inputs that switch the target's hidden
  neurons on.
- ``suspiciousness``: c * [theta * L_susp + gamma * L_normal] + (1 - c) * MSE, S_c the most suspicious
  units of class c (:mod:`.suspiciousness`, Tarantula), d = z(x) - z(x') (pre-activations, before ReLU):
  drive the suspicious units up and keep the others where they were (theta = ``suspicious_weight``,
  gamma = ``normal_weight``: 0.5 / 0.5 for MNIST, 0.5 / 0.01 for CIFAR). ``suspicious_reduction``
  says how the terms are reduced over units and the batch:

  * ``seed`` (default), as the seed's public ``CustomLosses.py``: dense units (all dense hidden
    layers together) L_susp += R_b sum_{j in S} d_bj and L_normal += mean_b sum_{j not in S} |d_bj|,
    with R_b the mean over the batch for a target without convolutions (the MNIST code) and the sum
    for one with convolutions (the CIFAR code); each convolutional layer l adds
    sum_b mean_{m in S_l} mean_{h,w} d_bmhw to L_susp and sum_b mean_{m not in S_l} mean_{h,w} |d_bmhw|
    to L_normal (the CIFAR code; its alpha / beta for the maps equal its theta / gamma).
  * ``mean`` (the project's earlier reading): every layer's maps averaged over space first, then
    L_susp = mean_b sum_{j in S} d_bj and L_normal = mean_b sum_{j not in S} |d_bj| over all units.

After training, batch norm's running statistics are recomputed over the class's inputs (see
:func:`recalibrate_batch_norm`). Generation: x' = G_y(x) with the generator of the input's label, then (``clipping``) projected
onto the L-inf ball of radius eps around x (the seed's ``clip_pixels``) and into [0, 1].
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..progress import Progress
from ..ranges import check_ranges
from ..training import resolve_device, shuffled_batches

LOSSES = ("original", "lrp", "nce", "suspiciousness")
SUSPICIOUS_REDUCTIONS = ("seed", "mean")


@dataclass(frozen=True)
class DGNSettings:
    """A dgn attack's settings: its config entry (``attacks.NAME: {kind: dgn, ...}``) less ``kind``, passed whole
    to the attack, the loss and the training. The seed's values are the defaults (module docstring); each value
    is checked and converted to its field's type when the object is made (a ValueError names the setting)."""

    loss: str = "original"
    epsilon: float = 0.3
    custom_loss_constant: float = 0.5
    clipping: bool = True
    mis_classification_check: bool = False
    k: int = 20
    epochs: int = 150
    batch_size: int = 100
    lr: float = 1e-4
    decay_step: int = 1000
    decay_rate: float = 0.9
    suspicious_weight: float = 0.5
    normal_weight: float = 0.5
    suspicious_reduction: str = "seed"
    coverage_weight: float = 0.0
    seed: int = 0
    #: the settings' ranges (not fields: no annotation), also the dgn attack kind's (docs/attacks.md)
    RANGES = {k: "> 0" for k in ("epsilon", "k", "epochs", "batch_size", "lr", "decay_step", "decay_rate")} | {
        "coverage_weight": ">= 0"}

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.suspicious_reduction not in SUSPICIOUS_REDUCTIONS:
            raise ValueError(f"suspicious_reduction must be one of {', '.join(SUSPICIOUS_REDUCTIONS)}, "
                             f"got {self.suspicious_reduction!r}")
        check_ranges(self.RANGES, {key: getattr(self, key) for key in self.RANGES})
        if self.coverage_weight and self.loss != "nce":
            raise ValueError("coverage_weight applies to loss nce only (the project's coverage term), "
                             f"got loss {self.loss!r}")
        if not 0.0 <= self.custom_loss_constant <= 1.0:
            raise ValueError(f"custom_loss_constant must be in [0, 1], got {self.custom_loss_constant!r}")
        for f in fields(self):  # ints as int, floats as float, flags as bool (the config may give 1 for 1.0)
            convert = {"int": int, "float": float, "bool": bool}.get(f.type)
            if convert is not None:
                object.__setattr__(self, f.name, convert(getattr(self, f.name)))


def _up(cin: int, cout: int, kernel: int, stride: int) -> nn.Sequential:
    """Transposed convolution ('valid'), ReLU, batch norm (the seed's decoder block)."""
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, kernel, stride), nn.ReLU(), nn.BatchNorm2d(cout))


class MnistDGN(nn.Module):
    """Seed 003's MNIST autoencoder: 1x28x28 -> 128x3x3 -> 1x28x28 in (0, 1)."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
        )
        self.decoder = nn.Sequential(_up(128, 64, 3, 2), _up(64, 32, 2, 2), nn.ConvTranspose2d(32, 1, 2, 2), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class CifarDGN(nn.Module):
    """Seed 003's CIFAR-10 autoencoder: 3x32x32 -> 128x5x5 -> 3x32x32 in (0, 1)."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3, stride=2), nn.ReLU(),
            nn.Conv2d(64, 128, 3), nn.ReLU(), nn.Conv2d(128, 128, 3, stride=2), nn.ReLU(),
        )
        self.decoder = nn.Sequential(_up(128, 128, 3, 2), _up(128, 64, 4, 1), _up(64, 32, 4, 2),
                                     nn.ConvTranspose2d(32, 3, 3, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


GENERATORS = {(1, 28, 28): MnistDGN, (3, 32, 32): CifarDGN}


@torch.no_grad()
def layer_shapes(shape) -> list[dict]:
    """The (transposed) convolutions and poolings of the generator for inputs of ``shape``, in order: kind,
    channels in and out, kernel, stride and the output shape (C, H, W) of one input (docs/deepcustom.md's table)."""
    net = build_generator(shape).eval()
    rows = []
    hooks = [m.register_forward_hook(lambda m, _i, out: rows.append((m, tuple(out.shape[1:]))))
             for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d))]
    try:
        net(torch.zeros((1, *shape)))
    finally:
        for h in hooks:
            h.remove()
    out = []
    for m, shp in rows:
        if isinstance(m, nn.MaxPool2d):
            out.append({"layer": "max pool (ceil)", "in": shp[0], "out": shp[0], "kernel": m.kernel_size,
                        "stride": m.stride, "output": shp})
        else:
            kind = "conv" if isinstance(m, nn.Conv2d) else "transposed conv"
            pad = " 'same'" if isinstance(m, nn.Conv2d) and m.padding != (0, 0) else ""
            out.append({"layer": kind + pad, "in": m.in_channels, "out": m.out_channels, "kernel": m.kernel_size[0],
                        "stride": m.stride[0], "output": shp})
    return out


def build_generator(shape, seed: int | None = None) -> nn.Module:
    """The DGN for inputs of ``shape`` (C, H, W); with ``seed``, weights drawn from a generator seeded with it
    (Kaiming-uniform as PyTorch's default, biases uniform in +-1/sqrt(fan_in))."""
    shape = tuple(int(s) for s in shape)
    if shape not in GENERATORS:
        raise ConfigError(f"dgn: no generator network for inputs of shape {shape}; "
                          f"supported: {', '.join(map(str, GENERATORS))} (MNIST, CIFAR-10)")
    net = GENERATORS[shape]()
    if seed is not None:
        gen = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                    nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=gen)
                    fan_in = m.weight.shape[1] * m.weight[0, 0].numel()
                    m.bias.uniform_(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), generator=gen)
    return net


def preactivations(model: nn.Module, x: torch.Tensor, layers: list[str],
                   spatial_mean: bool = True) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Logits of ``model`` on ``x`` and the pre-activations (before ReLU) of ``layers``: {layer: (B, units)},
    convolutional maps averaged over space (``spatial_mean``) or kept whole (B, maps, H, W)."""
    modules = dict(model.named_children())
    captured: dict[str, torch.Tensor] = {}
    hooks = []
    for name in layers:
        inner = getattr(modules[name], "conv", None) or modules[name].linear
        hooks.append(inner.register_forward_hook(lambda _m, _i, out, n=name: captured.__setitem__(n, out)))
    try:
        logits = model(x)
    finally:
        for h in hooks:
            h.remove()
    return logits, {n: (z.mean(dim=(2, 3)) if z.ndim == 4 and spatial_mean else z) for n, z in captured.items()}


class DGNLoss:
    """The loss of the generator of class ``cls`` (see the module docstring) with the attack's ``settings``
    (loss, epsilon, custom_loss_constant, the suspiciousness weights and reduction, coverage_weight);
    ``masks`` are the relevant pixels (lrp: (C, H, W)) or the suspicious units (suspiciousness: {layer: (C, units)})."""

    def __init__(self, settings: DGNSettings, target: nn.Module, cls: int, layers: list[str], masks=None):
        kind = settings.loss
        self.coverage_weight, self.reduction = settings.coverage_weight, settings.suspicious_reduction
        self.kind, self.target, self.cls = kind, target, int(cls)
        self.eps, self.c = settings.epsilon, settings.custom_loss_constant
        self.layers = layers
        self.theta, self.gamma = settings.suspicious_weight, settings.normal_weight
        if kind == "lrp":
            self.relevant = torch.from_numpy(np.asarray(masks[cls], bool))
        if kind == "suspiciousness":
            self.suspicious = {n: torch.from_numpy(np.asarray(m[cls], bool)) for n, m in masks.items()}

    def __call__(self, x: torch.Tensor, x_gen: torch.Tensor) -> torch.Tensor:
        mse = ((x_gen - x) ** 2).mean()
        if self.kind == "lrp":
            rel = self.relevant.to(x.device).expand_as(x[0]).expand_as(x)  # channels share a pixel's relevance
            up, down = (x + self.eps - x_gen) ** 2, (x - self.eps - x_gen) ** 2
            return self.c * down[rel].mean() + (1 - self.c) * up[~rel].mean()
        y = torch.full((len(x),), self.cls, dtype=torch.long, device=x.device)
        logits, z_gen = preactivations(self.target, x_gen, self.layers, spatial_mean=False)
        ce = nn.functional.cross_entropy(logits, y)
        if self.kind == "original":
            return mse - ce
        if self.kind == "nce":
            if not self.coverage_weight:
                return mse - ce  # the seed's NCE code
            coverage = torch.cat([torch.sigmoid(z.mean(dim=(2, 3)) if z.ndim == 4 else z)
                                  for z in z_gen.values()], dim=1).mean()
            return mse - ce - self.coverage_weight * coverage
        with torch.no_grad():
            _, z_org = preactivations(self.target, x, self.layers, spatial_mean=False)
        susp, normal = self._suspicious_terms(z_org, z_gen)
        return self.c * (self.theta * susp + self.gamma * normal) + (1 - self.c) * mse

    def _suspicious_terms(self, z_org: dict, z_gen: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """L_susp and L_normal of the suspiciousness loss (module docstring; ``suspicious_reduction``)."""
        susp, normal = 0.0, 0.0
        dense_s, dense_n = [], []
        has_conv = any(z.ndim == 4 for z in z_org.values())
        for name in self.layers:
            s = self.suspicious[name].to(z_org[name].device)
            diff = z_org[name] - z_gen[name]
            if self.reduction == "mean":
                diff = diff.mean(dim=(2, 3)) if diff.ndim == 4 else diff
                susp = susp + diff[:, s].sum(1).mean()
                normal = normal + diff[:, ~s].abs().sum(1).mean()
            elif diff.ndim == 4:  # the seed's CIFAR code: mean over the chosen maps and space, sum over the batch
                if s.any():
                    susp = susp + diff[:, s].mean(dim=(1, 2, 3)).sum()
                if (~s).any():
                    normal = normal + diff[:, ~s].abs().mean(dim=(1, 2, 3)).sum()
            else:
                dense_s.append(diff[:, s])
                dense_n.append(diff[:, ~s])
        if dense_s:  # the seed: all dense units together; suspicious summed over the batch only in its CIFAR code
            per_input = torch.cat(dense_s, dim=1).sum(1)
            susp = susp + (per_input.sum() if has_conv else per_input.mean())
            normal = normal + torch.cat(dense_n, dim=1).abs().sum(1).mean()
        return susp, normal


def train_generator(net: nn.Module, x: np.ndarray, loss: DGNLoss, settings: DGNSettings, seed: int,
                    device: str = "cpu", progress: Progress | None = None) -> list[float]:
    """Train one generator in place on ``x`` (inputs of one class) with the settings' epochs, batch size,
    learning rate and its decay; return each epoch's mean loss.
    Batch order from ``torch.Generator(seed)``; the target model is frozen (no gradient to its weights)."""
    epochs, batch_size, lr = settings.epochs, settings.batch_size, settings.lr
    decay_step, decay_rate = settings.decay_step, settings.decay_rate
    dev = resolve_device(device)
    net.to(dev).train()
    loss.target.to(dev).eval()
    for p in loss.target.parameters():
        p.requires_grad_(False)
    optim = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda t: decay_rate ** (t // decay_step))
    gen = torch.Generator().manual_seed(int(seed))
    xt = torch.from_numpy(np.ascontiguousarray(x, np.float32))
    losses = []
    try:
        for _ in range(epochs):
            total = 0.0
            for idx in shuffled_batches(len(xt), batch_size, gen):
                if len(idx) < 2:  # batch norm needs two inputs
                    continue
                xb = xt[idx].to(dev)
                optim.zero_grad(set_to_none=True)
                value = loss(xb, net(xb))
                value.backward()
                optim.step()
                sched.step()
                total += float(value.detach()) * len(idx)
                if progress is not None:
                    progress.update()
            losses.append(total / max(len(xt), 1))
    finally:
        for p in loss.target.parameters():
            p.requires_grad_(True)
    recalibrate_batch_norm(net, xt, batch_size, dev)
    return losses


@torch.no_grad()
def recalibrate_batch_norm(net: nn.Module, x: torch.Tensor, batch_size: int, device) -> None:
    """Set batch norm's running statistics to their average over ``x`` (one pass, train mode, no update of
    weights), then put ``net`` in eval mode. The seed feeds ``is_train: True`` (batch statistics) when it
    runs its generators; precise statistics instead make an input's output independent of its batch."""
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average
    net.train()
    for start in range(0, len(x), batch_size):
        net(x[start:start + batch_size].to(device))
    for bn in bns:
        bn.momentum = 0.1
    net.eval()


def project(x: torch.Tensor, x_gen: torch.Tensor, epsilon: float, clipping: bool = True) -> torch.Tensor:
    """The seed's clip_pixels: x' kept within ``epsilon`` of x in L-inf (``clipping``), then in [0, 1]."""
    if clipping:
        x_gen = torch.max(torch.min(x_gen, x + epsilon), x - epsilon)
    return x_gen.clamp(0.0, 1.0)


@torch.no_grad()
def generate(generators: list[nn.Module], x: torch.Tensor, y: torch.Tensor, epsilon: float,
             clipping: bool = True) -> torch.Tensor:
    """x' = project(G_y(x)) with each input's own class generator (eval mode: batch norm's running statistics)."""
    out = torch.empty_like(x)
    for c in torch.unique(y).tolist():
        sel = y == c
        net = generators[c].to(x.device).eval()
        out[sel] = net(x[sel])
    return project(x, out, epsilon, clipping)


def save_generators(path, generators: list[nn.Module]) -> None:
    """All class generators in one file of tensors (``class{c}.{name}``), loadable with ``weights_only=True``."""
    from ..io import save_tensors

    state = {f"class{c}.{k}": v.detach().cpu() for c, net in enumerate(generators) for k, v in net.state_dict().items()}
    save_tensors(path, state)


def load_generators(path, shape, n_classes: int) -> list[nn.Module]:
    """The class generators saved by :func:`save_generators` (``weights_only=True``; a mismatch is a DataError)."""
    from ..errors import DataError

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise DataError(f"{path}: refused or unreadable generators file: {str(exc).splitlines()[0] if str(exc) else exc}") from None
    nets = []
    for c in range(n_classes):
        net = build_generator(shape)
        prefix = f"class{c}."
        part = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if set(part) != set(net.state_dict()):
            raise DataError(f"{path}: no generator for class {c} of inputs {tuple(shape)} in the file")
        net.load_state_dict(part)
        nets.append(net.eval())
    return nets


def fit_generators(target: nn.Module, x: np.ndarray, y: np.ndarray, n_classes: int, settings: DGNSettings,
                   masks=None, device: str = "cpu", log: logging.Logger | None = None) -> tuple[list[nn.Module], list[list[float]]]:
    """Train one generator per class on the inputs of that class (``settings``: the dgn attack's; class c's
    generator starts from seed ``settings.seed + c`` and draws its batches with ``settings.seed + 1000 + c``)."""
    from .suspiciousness import hidden_layers

    layers = hidden_layers(target)
    seed = settings.seed
    steps = sum(settings.epochs * -(-int((y == c).sum()) // settings.batch_size) for c in range(n_classes))
    progress = Progress(steps, f"DGN generators ({settings.loss} loss)", log)
    nets, losses = [], []
    for c in range(n_classes):
        net = build_generator(x.shape[1:], seed=seed + c)
        loss = DGNLoss(settings, target, c, layers, masks)
        losses.append(train_generator(net, x[y == c], loss, settings, seed + 1000 + c, device, progress))
        nets.append(net.cpu().eval())
        if log:
            log.info("class %d: %d inputs, loss %.4f -> %.4f", c, int((y == c).sum()), losses[-1][0] if losses[-1] else float("nan"),
                     losses[-1][-1] if losses[-1] else float("nan"))
    return nets, losses
