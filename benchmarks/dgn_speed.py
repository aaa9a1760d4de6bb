"""Generation speed of seed 003's DGN generators against PGD on the same inputs (the seed's "fast" claim).

    python benchmarks/dgn_speed.py [--n 2000] [--threads 1] [--repeats 3]

For MNIST (1x28x28) and CIFAR-10 (3x32x32) inputs (uniform noise: the cost of a forward pass does not
depend on the pixel values or on how well a network is trained), time the making of adversarial
inputs for ``--n`` inputs by

- DGN: one forward pass of each input's class generator + the eps projection (the seed's generators),
- PGD 1 x 20 (20 forward + backward passes of the target; with restarts, up to that many times this:
  a restart runs while some input is not yet fooled),
- FGSM (one forward + backward pass, through torchattacks),

against seed 003's targets (MNIST dense 5x30, the CIFAR CNN) and the study's MNIST CNN (a larger target:
PGD's cost grows with the target, the DGN's does not). Printed: CPU seconds (thread time, best of
``--repeats``) per 1,000 inputs and the ratio PGD / DGN. Training the generators is a one-off cost
(rule train_dgn; its time is in each generators.json).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        fn()
        times.append(time.thread_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()

    import torch

    from guided_retraining.attacks import make_attack
    from guided_retraining.deepcustom.generators import build_generator
    from guided_retraining.models import build_model

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    cases = [("MNIST", (1, 28, 28), "mnist_dense5x30", 0.3, 0.01), ("MNIST", (1, 28, 28), "mnist_cnn", 0.3, 0.01),
             ("CIFAR-10", (3, 32, 32), "cifar_deepcustom", 0.0313, 0.0078)]
    print(f"{args.n} inputs, {args.threads} thread(s), best of {args.repeats}; CPU seconds per 1,000 inputs")
    print(f"{'data':9s} {'target':17s} {'DGN':>7s} {'FGSM':>7s} {'PGD 1x20':>9s} {'PGD/DGN':>8s}")
    for data, shape, arch, eps, alpha in cases:
        x = rng.random((args.n, *shape), dtype=np.float32)
        y = np.arange(args.n) % 10
        target = build_model(arch, shape, 10, seed=0).eval()
        dgn = make_attack("dgn", loss="original", epsilon=eps).use([build_generator(shape, seed=c) for c in range(10)])
        attacks = {
            "DGN": dgn,
            "FGSM": make_attack("fgsm", eps=eps),
            "PGD 1x20": make_attack("pgd", eps=eps, alpha=alpha, steps=20),
        }
        per_k = {name: best_time(lambda a=a: a.run(target, x, y, args.batch_size), args.repeats) * 1000 / args.n
                 for name, a in attacks.items()}
        print(f"{data:9s} {arch:17s} {per_k['DGN']:7.3f} {per_k['FGSM']:7.3f} {per_k['PGD 1x20']:9.3f} "
              f"{per_k['PGD 1x20'] / per_k['DGN']:8.1f}", flush=True)


if __name__ == "__main__":
    main()
