"""Rule order: the permutation of Train* by descending score (ties in a seeded random order),
or the order an order strategy (MCP) gave directly (its scores are ranks)."""

import numpy as np

from guided_retraining.errors import DataError
from guided_retraining.io import load_npz, save_npz
from guided_retraining.retraining import order_by_scores
from guided_retraining.seeding import derive_seed


def main(job, log):
    p, w = job.params, job.wildcards
    scores = load_npz(job.input.scores, ["scores", "n_train"])
    n_train = int(scores["n_train"])
    seed = derive_seed(p.seed, w.dataset, w.attack, "order", w.metric)
    if "order" in scores:
        order, n_tied = scores["order"].astype(np.int64), 0
        if not np.array_equal(np.sort(order), np.arange(len(scores["scores"]))):
            raise DataError(f"{job.input.scores}: 'order' is not a permutation of its {len(scores['scores'])} inputs")
        log.info("order given by the metric (an order strategy; its scores are ranks)")
    else:
        order, n_tied = order_by_scores(scores["scores"], seed)
    save_npz(job.output.order, order=order, n_train=np.int64(n_train), n_tied=np.int64(n_tied),
             seed=np.int64(seed))
    log.info("%d of %d inputs share their score with another (ties in a seeded random order)", n_tied, len(order))
    head = order[: min(len(order), max(1, len(order) // 10))]
    log.info("ordered %d inputs; adversarial share of the first 10%%: %.3f", len(order), float((head >= n_train).mean()))


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
