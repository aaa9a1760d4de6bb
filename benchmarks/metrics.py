"""Time and memory of every guidance metric at MNIST scale (synthetic or a workflow run's activations).

Issue 17's targets for DATIS, NNS, MLSA, MDSA (Weiss & Tonella) and MCP: each <= 10 s and
peak memory <= 2 GB at 56,000 scored / 49,000 reference / 128 units on 2 CPU cores.

    python benchmarks/metrics.py [--scored 56000] [--reference 49000] [--neurons 128]
                                 [--classes 10] [--plain-sample 200] [--threads 2] [--only dsa,datis,...]
    python benchmarks/metrics.py --activations results/mnist-scale/mnist/r1/fgsm   # real MNIST activations

Synthetic, class-structured activations: one Gaussian cluster per class in the space of
the last hidden layer, then ReLU (dead units included). The reference (training) set
is part of the scored set, as in the study (scored = reference + "adversarial" inputs
drawn between clusters). The plain per-input DSA and LSA run on a sample of targets and
are extrapolated to the whole scored set. ``--activations`` reads a workflow run's activation
files instead, assembled as the score rule does (benchmarks/mnist-scale.yaml makes them from the
official MNIST files at the study's scale). Peak memory: the process's resident set
(VmRSS sampled every 5 ms) during each metric, and its growth over the RSS before it.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class PeakRSS:
    """Background sampler of the resident set size (MB)."""

    def __enter__(self):
        self.base = rss_mb()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def synthetic(n_ref, n_extra, d, classes, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=1.0, size=(classes, d)) + 0.5
    scale = rng.uniform(0.3, 0.8, size=(classes, d))
    pred = rng.integers(0, classes, n_ref)
    ref = np.maximum(centers[pred] + scale[pred] * rng.normal(size=(n_ref, d)), 0).astype(np.float32)
    # "adversarial" inputs: between two clusters, predicted as one of them
    a, b = rng.integers(0, classes, n_extra), rng.integers(0, classes, n_extra)
    w = rng.uniform(0.2, 0.8, size=(n_extra, 1))
    adv = w * centers[a] + (1 - w) * centers[b] + 0.6 * rng.normal(size=(n_extra, d))
    adv = np.maximum(adv, 0).astype(np.float32)
    adv_pred = np.where(w[:, 0] > 0.5, a, b)
    head = rng.normal(size=(d, classes)) * 0.3

    def probs(x):
        z = x @ head
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        return (p / p.sum(1, keepdims=True)).astype(np.float32)

    target = np.concatenate([ref, adv])
    t_pred = np.concatenate([pred, adv_pred])
    ref_index = np.concatenate([np.arange(n_ref), np.full(n_extra, -1)])
    labels = np.where(rng.random(n_ref) < 0.02, rng.integers(0, classes, n_ref), pred)  # training labels
    reference = {"probs": probs(ref), "pred": pred, "label": labels, "layer:dense": ref}
    scored = {"probs": probs(target), "pred": t_pred, "layer:dense": target, "ref_index": ref_index}
    return reference, scored


def from_workflow(folder, layer="dense1"):
    """(reference, scored) as the score rule assembles them from a workflow run's activations:
    ``folder`` = ``results/.../{dataset}/r{rep}/{attack}``; its layer is exposed as "dense"."""
    from guided_retraining.io import load_npz
    from guided_retraining.metrics import train_star_inputs

    base = os.path.join(folder, "activations")
    soft = load_npz(os.path.join(base, "softmax.npz"), ["probs", "pred", "n_train", "idx_adv_train"])
    acts = load_npz(os.path.join(base, f"{layer}.npz"), ["acts"])["acts"]
    data = load_npz(os.path.join(folder, "..", "..", "data.npz"), ["y_train"], only=True)
    scored, reference = train_star_inputs({"probs": soft["probs"], "pred": soft["pred"], "layer:dense": acts},
                                          soft["n_train"], soft["idx_adv_train"])
    reference["label"] = data["y_train"]
    return reference, scored


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scored", type=int, default=56000)
    ap.add_argument("--reference", type=int, default=49000)
    ap.add_argument("--neurons", type=int, default=128)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--plain-sample", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--memory-mb", type=float, default=1024)
    ap.add_argument("--only", default="", help="comma-separated labels of the metrics to time (default: all)")
    ap.add_argument("--activations", default="", help="a workflow run's results/.../{dataset}/r{rep}/{attack} "
                    "folder: time the metrics on its real activations (see benchmarks/mnist-scale.yaml)")
    ap.add_argument("--layer", default="dense1",
                    help="with --activations: the layer's file (default dense1: mnist_cnn's last hidden layer)")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from guided_retraining.metrics import score
    from guided_retraining.metrics.reference import dsa_plain, lsa_plain

    if args.activations:
        reference, scored = from_workflow(args.activations, args.layer)
        print(f"activations of {args.activations} ({args.layer})")
    else:
        reference, scored = synthetic(args.reference, args.scored - args.reference, args.neurons, args.classes)
    n = scored["pred"].shape[0]
    print(f"scored {n}, reference {reference['pred'].shape[0]}, neurons {scored['layer:dense'].shape[1]}, "
          f"classes {scored['probs'].shape[1]}, "
          f"torch threads {torch.get_num_threads()}, device {args.device}, memory_mb {args.memory_mb}, "
          f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    chunked = {"memory_mb": args.memory_mb, "device": args.device}
    runs = [
        ("dsa", "dsa", {"layers": ["dense"], **chunked}),
        ("dsa exclude_self", "dsa", {"layers": ["dense"], "exclude_self": True, **chunked}),
        ("lsa", "lsa", {"layers": ["dense"], **chunked}),
        ("lsa exclude_self", "lsa", {"layers": ["dense"], "exclude_self": True, **chunked}),
        ("nc", "nc", {"layers": ["dense"], "memory_mb": args.memory_mb}),
        ("deepgini", "deepgini", {}),
        ("softmax_entropy", "softmax_entropy", {}),
        ("margin", "margin", {}),
        ("least_confidence", "least_confidence", {}),
        ("random", "random", {}),
        ("mdsa", "mdsa", {"layers": ["dense"]}),
        ("kmnc", "kmnc", {"layers": ["dense"]}),
        ("nbc", "nbc", {"layers": ["dense"]}),
        # today's metrics (issue 17), in the same run as DSA
        ("datis", "datis", {"layers": ["dense"], **chunked}),
        ("nns", "nns", {"layers": ["dense"], **chunked}),
        ("mlsa", "mlsa", {"layers": ["dense"]}),
        ("mdsa weiss_tonella", "mdsa", {"layers": ["dense"], "variant": "weiss_tonella"}),
        ("mcp", "mcp", {}),
    ]
    if args.only:
        wanted = {w.strip() for w in args.only.split(",")}
        runs = [r for r in runs if r[0] in wanted]
    rows, results = [], {}
    small = {k: v[:50] for k, v in scored.items()}
    for kind in ("dsa", "lsa", "datis"):  # warm-up: one-off imports (scipy.linalg, torch kernels) are not timed
        score(kind, small, reference, {"layers": ["dense"], **chunked})
    for label, kind, opts in runs:
        with PeakRSS() as mem:
            t0, c0 = time.perf_counter(), time.process_time()
            results[label], _ = score(kind, scored, reference, opts)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        rows.append([label, seconds, mem.peak, mem.peak - mem.base, None, cpu])
        print(f"{label}: {seconds:.2f} s wall, {cpu:.2f} s CPU, peak RSS {mem.peak:.0f} MB "
              f"(load average {os.getloadavg()[0]:.2f})", flush=True)

    rng = np.random.default_rng(1)
    sample = np.sort(rng.choice(n, size=min(args.plain_sample, n), replace=False))
    ref_ats, ref_pred = reference["layer:dense"], reference["pred"]
    t_ats, t_pred = scored["layer:dense"][sample], scored["pred"][sample]
    for label, fn, fast in [("dsa", dsa_plain, "dsa"), ("lsa", lsa_plain, "lsa")]:
        if fast not in results or args.plain_sample <= 0:
            continue
        with PeakRSS() as mem:
            t0, c0 = time.perf_counter(), time.process_time()
            plain = fn(ref_ats, ref_pred, t_ats, t_pred)
            seconds = (time.perf_counter() - t0) * n / sample.size
            cpu = (time.process_time() - c0) * n / sample.size
        err = np.max(np.abs(plain - results[fast][sample]) / np.maximum(np.abs(plain), 1e-300))
        rows.append([f"{label} plain per-input (extrapolated from {sample.size})", seconds, mem.peak,
                     mem.peak - mem.base, None, cpu])
        for row in rows:
            if row[0] == fast:
                row[4] = seconds / row[1]
        print(f"{label}: max relative difference fast vs plain on the sample: {err:.2e}")

    print()
    print("| metric | seconds | CPU seconds | peak RSS (MB) | RSS growth (MB) | speedup vs per-input |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, seconds, peak, growth, speed, cpu in rows:
        sp = f"{speed:.0f}x" if speed else ""
        print(f"| {label} | {seconds:.2f} | {cpu:.2f} | {peak:.0f} | {growth:.0f} | {sp} |")
    print(f"\nprocess max RSS (ru_maxrss): {__import__('resource').getrusage(0).ru_maxrss / 1024:.0f} MB; "
          f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
