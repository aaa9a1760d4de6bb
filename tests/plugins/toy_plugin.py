"""A plugin of the tests' own (tests/test_plugins.py, docs/plugins.md): one loader, one attack kind, one metric
and one result table, each registered with one declaration from outside the package.

- loader ``digits3``: scikit-learn's digits of classes 0, 1 and 2 only (537 real 8x8 images, 3 classes);
- attack kind ``uniform_noise``: each pixel moved by seeded uniform noise in [-eps, eps], clipped to [0, 1]
  (L-inf <= eps; a random perturbation, the baseline an adversarial attack should beat);
- metric ``activation_norm``: the L2 norm of each input's activations of the configured layers
  (Euclidean norm over the flattened traces), higher first;
- table ``toy_accuracy``: per dataset, attack and metric, the number of retrained models and their mean Test*
  accuracy (``acc_test_star``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from guided_retraining import attacks, datasets, metrics, table_registry
from guided_retraining.attacks.base import Attack
from guided_retraining.datasets.base import RawDataset, Size
from guided_retraining.metrics.registry import Metric, Option

CLASSES = (0, 1, 2)


# ---- a loader ---------------------------------------------------------------------------------------------

def load_digits3(root=None, download: bool = False) -> RawDataset:
    """scikit-learn's digits of classes 0, 1, 2, pixels scaled to [0, 1] (``root`` unused: embedded data)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    keep = np.isin(bunch.target, CLASSES)
    x = (bunch.images[keep].astype(np.float32) / 16.0)[:, None, :, :]
    return RawDataset("digits3", x, bunch.target[keep].astype(np.int64), None, None, len(CLASSES))


def check_digits3(root=None) -> None:
    """Nothing to check: the images ship with scikit-learn."""


datasets.register(datasets.Loader("digits3", "scikit-learn's digits 0, 1 and 2 (537 images)", load_digits3,
                                  check_digits3, Size(train=537, test=0, shape=(1, 8, 8)), len(CLASSES)))


# ---- an attack kind ---------------------------------------------------------------------------------------

class UniformNoise(Attack):
    """x_adv = clip_[0,1](x + u), u ~ U(-eps, eps) per pixel, drawn from the run's seeded generator."""

    name = "uniform_noise"
    randomized = True
    RANGES = {"eps": "> 0"}

    def __init__(self, eps: float = 0.1, seed: int = 0):
        super().__init__(eps=float(eps), seed=int(seed))
        self.eps = float(eps)

    def perturb(self, model, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None):
        noise = torch.rand(x.shape, generator=generator, dtype=x.dtype) * 2 - 1
        return (x + self.eps * noise.to(x.device)).clamp(0.0, 1.0)


attacks.register(attacks.AttackKind("uniform_noise", UniformNoise, "seeded uniform noise in [-eps, eps] per pixel",
                                    "a random baseline"))


# ---- a metric ---------------------------------------------------------------------------------------------

def activation_norm(inputs, options, seed, log):
    """The L2 norm of each scored input's traces of the configured layers."""
    return np.linalg.norm(inputs.ats(options["layers"]).astype(np.float64), axis=1), {}


metrics.register(Metric("activation_norm", "L2 norm of the layers' activations", "a toy metric",
                        activation_norm, frozenset({"layers"}), {"layers": Option(None, "layers")}))


# ---- a result table ---------------------------------------------------------------------------------------

def retrained_accuracy(results):
    """Retrained models and their mean Test* accuracy per dataset, attack and metric."""
    points = results.points
    return (points.groupby(["dataset", "attack", "metric"])["acc_test_star"].agg(models="size", mean_acc="mean")
            .reset_index())


table_registry.register(table_registry.Table(
    "toy_accuracy", "aggregate", "Toy: retrained models and mean Test* accuracy", "dataset, attack, metric",
    "`models`, `mean_acc`", retrained_accuracy, "Retrained models and mean Test* accuracy ({chosen})",
    str(Path(__file__).with_name("toy_accuracy.rst")), order=100))
