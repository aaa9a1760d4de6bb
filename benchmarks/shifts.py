"""Cost of the shift kinds' side sets at MNIST scale (guided_retraining.shifts; printed figures, not a test).

    python benchmarks/shifts.py [--mnist /work/shared/data/mnist] [--sample 200] [--full gaussian_noise ...]

MNIST merged and split 70/20/10 as the study (49,000 / 14,000 / 7,000), Adv.Train 7,000, so Train* holds
56,000 inputs. Prints, with the machine's load average:

* label_shift: the three side sets (7,000 + 14,000 + 7,000 inputs resampled to Dirichlet(0.5) priors);
* natural: digits' 1,797 images drawn into the three side sets and enlarged 8x8 -> 28x28;
* corruption: the time per image of each of the 19 corruptions on ``--sample`` MNIST images (28x28, enlarged
  to 32x32 and back), and the side sets of a whole corruption job (28,000 images) for the ``--full`` ones;
  the other corruptions' job time is extrapolated from their time per image.

The side sets are what a shift adds to the attack rule's job; the rest of the job (the original model's
predictions on them, as for an attack) is the same for every kind.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import numpy as np  # noqa: E402

from guided_retraining import datasets  # noqa: E402
from guided_retraining.datasets.prepared import Prepared  # noqa: E402
from guided_retraining.shifts import CORRUPTIONS, corrupt, load_source, side_sets  # noqa: E402


def timed(f, repeat=1):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mnist", default="/work/shared/data/mnist")
    ap.add_argument("--sample", type=int, default=200, help="images per corruption for the time per image")
    ap.add_argument("--full", nargs="*", default=["gaussian_noise", "glass_blur"],
                    help="corruptions run over a whole job's 28,000 images")
    args = ap.parse_args()
    print(f"CPUs: {os.cpu_count()}; load average at the start: {os.getloadavg()[0]:.1f} "
          "(the machine is shared: wall times include other users' load)")
    raw = datasets.load("mnist", args.mnist)
    data = Prepared(datasets.split(raw, "merged", (0.7, 0.2, 0.1), seed=0), 10)
    n_adv = 7_000
    sizes = (n_adv, len(data["y_val"]), len(data["y_test"]))
    print(f"MNIST: Train {len(data['y_train'])}, Val {sizes[1]}, Test {sizes[2]}; Adv.Train {n_adv} "
          f"(Train* {len(data['y_train']) + n_adv})")

    t, sets = timed(lambda: side_sets({"kind": "label_shift", "alpha": 0.5}, data, n_adv, 0, 1), repeat=3)
    print(f"label_shift (Dirichlet 0.5): side sets of {sum(sizes)} inputs in {t:.3f} s (best of 3); priors "
          f"{', '.join(f'{p:.3f}' for p in sets.info['priors'])}")

    t_load, source = timed(lambda: load_source({"loader": "digits"}))
    t, sets = timed(lambda: side_sets({"kind": "natural", "source": {"loader": "digits"}}, data, n_adv, 0, 1,
                                      source=source), repeat=3)
    print(f"natural (digits -> 28x28): loading digits {t_load:.2f} s; side sets of {sum(sizes)} inputs in {t:.3f} s "
          f"(best of 3); repeated inputs {sets.info['repeated_inputs']}")

    x = data["x_test"][:args.sample]
    per_image = {}
    for name in CORRUPTIONS:
        corrupt(x[:2], name, 3, seed=0)  # compile numba kernels, load the frost images
        t, _ = timed(lambda: corrupt(x, name, 3, seed=1))
        per_image[name] = t / len(x)
    n_job = sum(sizes)
    print(f"corruption, severity 3, {args.sample} MNIST test images each (28x28 -> 32x32 -> 28x28):")
    print(f"{'corruption':<20}{'ms/image':>10}{'job s (est.)':>14}")
    for name in sorted(per_image, key=per_image.get):
        print(f"{name:<20}{1000 * per_image[name]:>10.2f}{per_image[name] * n_job:>14.1f}")
    for name in args.full:
        parts = {"x_train": data["x_train"][:n_adv], "x_val": data["x_val"], "x_test": data["x_test"]}
        start = time.perf_counter()
        for part, xs in parts.items():
            corrupt(xs, name, 3, seed=2)
        wall = time.perf_counter() - start
        print(f"{name}: a whole job's side sets ({n_job} images) in {wall:.1f} s "
              f"(estimate from the sample {per_image[name] * n_job:.1f} s)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
