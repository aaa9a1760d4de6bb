"""The study's CNN architectures as plain data (the Keras models of its replication notebooks); no torch import.

Layer spec: ("conv", filters) | ("conv", filters, "valid") (no padding) | ("pool",) | ("drop", p) | ("flatten",) | ("dense", units).
The network ends with a dense layer of one unit per class producing logits.
"""

from __future__ import annotations

C, P, D, F, L = "conv", "pool", "drop", "flatten", "dense"

SPECS: dict[str, list[tuple]] = {
    # scikit-learn digits (8x8): the MNIST network at a quarter of its widths.
    "digits_cnn": [(C, 8), (C, 16), (P,), (D, 0.25), (F,), (L, 64), (D, 0.5)],
    "mnist_cnn": [(C, 32), (C, 64), (P,), (D, 0.25), (F,), (L, 128), (D, 0.5)],
    "fashion_cnn": [(C, 64), (P,), (C, 64), (P,), (D, 0.25), (F,), (L, 128), (D, 0.5), (L, 64), (D, 0.5)],
    "cifar_cnn": [
        (C, 16), (C, 32), (P,), (C, 64), (C, 64), (P,), (D, 0.25), (C, 128), (P,), (D, 0.25),
        (F,), (D, 0.3), (L, 256), (D, 0.3), (L, 64),
    ],
    "gtsrb_cnn": [
        (C, 32), (C, 32), (P,), (D, 0.2), (C, 64), (C, 64), (P,), (D, 0.2), (C, 128), (C, 128), (P,), (D, 0.2),
        (F,), (L, 512), (D, 0.5), (L, 256), (D, 0.5),
    ],
    # run 004's CIFAR-10 colour model: three blocks of two 3x3 convolutions (padding 1) with ReLU and a
    # 2x2 max pool, then a dense hidden layer (its last hidden layer) and the class logits.
    "cifar_color_cnn": [
        (C, 32), (C, 32), (P,), (C, 64), (C, 64), (P,), (C, 128), (C, 128), (P,), (F,), (D, 0.5), (L, 256),
        (D, 0.5),
    ],
    # Seed 003 (DeepCustom, FastCustomizableCAE/DeepCustom mnist_5x30 and cifar_keras): MNIST's dense 5x30
    # (784-30-30-30-30-30-10, ReLU: 27,580 parameters) and CIFAR-10's CNN (three unpadded 3x3 convolutions,
    # max pooling after the first two, dense 64: 122,570 parameters). Trained with Adam, lr 1e-3.
    "mnist_dense5x30": [(F,), (L, 30), (L, 30), (L, 30), (L, 30), (L, 30)],
    "cifar_deepcustom": [(C, 32, "valid"), (P,), (C, 64, "valid"), (P,), (C, 64, "valid"), (F,), (L, 64)],
    "intel_cnn": [
        (C, 32), (P,), (C, 64), (P,), (C, 128), (P,), (D, 0.3), (C, 128), (P,), (D, 0.3),
        (F,), (D, 0.5), (L, 512), (D, 0.5), (L, 100),
    ],
}


def layer_names(arch: str) -> list[str]:
    """Names of the layers of ``arch`` in order (conv1, pool1, dropout1, flatten, dense1, ..., logits).

    A built-in architecture's; a user's model too: :func:`guided_retraining.model_layers.layer_names`.
    """
    if arch not in SPECS:
        raise KeyError(f"unknown architecture {arch!r}; choose one of {sorted(SPECS)}")
    kinds = {C: "conv", P: "pool", D: "dropout", L: "dense"}
    counts: dict[str, int] = {}
    names = []
    for spec in SPECS[arch]:
        if spec[0] == F:
            names.append("flatten")
            continue
        kind = kinds[spec[0]]
        counts[kind] = counts.get(kind, 0) + 1
        names.append(f"{kind}{counts[kind]}")
    return names + ["logits"]


def last_hidden(arch: str) -> str:
    """The last hidden dense layer of ``arch`` (the layer the study's LSA, DSA and NC read).

    A built-in architecture's; a user's model too: :func:`guided_retraining.model_layers.last_hidden`.
    """
    return [n for n in layer_names(arch) if n.startswith("dense")][-1]
