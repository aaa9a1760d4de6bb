"""Time of fault detection and performance estimation for all metrics (rule objectives), at MNIST scale.

Issue 23's target: fault detection and estimation for all metrics in under a second each.

    python benchmarks/objectives.py [--train 49000] [--adversarial 7000] [--metrics 8] [--reps 5]
    python benchmarks/objectives.py --run results/digits/r1/fgsm   # a workflow run's files

Synthetic (seeded): the original model misclassifies 1% of the clean inputs and 60% of the adversarial
ones (MNIST's order of magnitude under FGSM); each metric's order sorts a noisy fault indicator (a
stand-in for an uncertainty score), ``random`` is a permutation. ``--run`` reads a run's predicted
classes (activations/softmax.npz), labels (data.npz, adversarial.npz) and orders (orders/*.npz) instead.
Printed: the wall time of each objective over all metrics and both pools (Train*, Adv.Train), at the
budgets 5/10/25/50%, and of the statistics table over the repetitions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

BUDGETS = ["f0.05", "f0.1", "f0.25", "f0.5"]


def synthetic(n_train: int, n_adv: int, n_metrics: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    mask = np.concatenate([rng.random(n_train) < 0.01, rng.random(n_adv) < 0.6])
    orders = {"random": rng.permutation(len(mask))}
    for k in range(n_metrics - 1):
        score = mask + rng.normal(0, 0.5 + 0.5 * k, len(mask))
        orders[f"metric{k}"] = np.argsort(-score, kind="stable")
    return mask, n_train, orders


def from_run(run: Path):
    from guided_retraining import objectives
    from guided_retraining.io import load_npz

    soft = load_npz(run / "activations/softmax.npz", ["pred", "n_train"], only=True)
    data = run.parents[1] / "data.npz" if (run.parents[1] / "data.npz").exists() else run.parents[0] / "data.npz"
    labels = np.concatenate([load_npz(data, ["y_train"], only=True)["y_train"],
                             load_npz(run / "adversarial.npz", ["y_adv_train"], only=True)["y_adv_train"]])
    orders = {p.stem: load_npz(p, ["order"], only=True)["order"] for p in sorted((run / "orders").glob("*.npz"))}
    return objectives.faults(soft["pred"], labels), int(soft["n_train"]), orders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=49000)
    parser.add_argument("--adversarial", type=int, default=7000)
    parser.add_argument("--metrics", type=int, default=8)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--run", type=Path)
    args = parser.parse_args()

    import pandas as pd
    import scipy.special  # noqa: F401  (imported before timing: the rule's process has it loaded once)
    import scipy.stats  # noqa: F401

    from guided_retraining import objectives
    from guided_retraining.retraining import budget_size, pool

    mask, n_train, orders = from_run(args.run) if args.run else synthetic(args.train, args.adversarial, args.metrics)
    print(f"{len(mask)} inputs ({n_train} clean), {int(mask.sum())} misclassified; {len(orders)} metrics; budgets"
          f" {', '.join(BUDGETS)}; pools Train* and Adv.Train")
    pools = {m: [pool(o, n_train, c) for c in ("C1", "C3")] for m, o in orders.items()}

    def timed(name, fn):
        start = time.perf_counter()
        out = fn()
        print(f"{name:58s} {time.perf_counter() - start:8.4f} s")
        return out

    def fault_detection():
        for subs in pools.values():
            for sub in subs:
                objectives.apfd(sub, mask)
                for b in BUDGETS:
                    objectives.found_share(sub, mask, budget_size(b, len(sub)))

    def estimation():
        for subs in pools.values():
            for sub in subs:
                for b in BUDGETS:
                    objectives.estimation_error(sub, ~mask, budget_size(b, len(sub)))

    def both():
        rows = []
        for metric, subs in pools.items():
            for scope, sub in zip(("Train*", "Adv.Train"), subs):
                budgets = [(b, budget_size(b, len(sub))) for b in BUDGETS]
                rows += objectives.order_rows({"dataset": "d", "attack": "a", "scope": scope, "metric": metric,
                                               "rep": 1}, sub, mask, budgets)
        return rows

    timed("fault detection, all metrics (APFD + found share)", fault_detection)
    timed("estimation, all metrics (absolute error)", estimation)
    rows = timed("both with the random and ideal references (the rule's pass)", both)
    frame = pd.DataFrame([{**r, "rep": rep, "value": r["value"] + 1e-3 * rep * (r["metric"] != "random")}
                          for rep in range(1, args.reps + 1) for r in rows])
    table = timed(f"statistics table over {args.reps} repetitions", lambda: objectives.objectives_table(frame))
    print(f"{len(table)} table rows")


if __name__ == "__main__":
    main()
