"""Defences against adversarial inputs: adversarial training and feature squeezing (median smoothing)."""

from __future__ import annotations

from .adversarial_training import AdversarialTraining, adversarial_fit, adversarial_train
from .feature_squeezing import MedianFilterModel, median_filter, train_squeezed

__all__ = ["AdversarialTraining", "MedianFilterModel", "adversarial_fit", "adversarial_train", "median_filter", "train_squeezed"]
