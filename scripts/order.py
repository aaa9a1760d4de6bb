"""Rule order: the permutation of Train* by descending score (ties keep input order), or the
order an order strategy (MCP) gave directly (its scores are ranks)."""

import numpy as np

from guided_retraining.errors import DataError
from guided_retraining.io import load_npz, save_npz
from guided_retraining.retraining import order_by_scores


def main(job, log):
    scores = load_npz(job.input.scores, ["scores", "n_train"])
    n_train = int(scores["n_train"])
    if "order" in scores:
        order = scores["order"].astype(np.int64)
        if not np.array_equal(np.sort(order), np.arange(len(scores["scores"]))):
            raise DataError(f"{job.input.scores}: 'order' is not a permutation of its {len(scores['scores'])} inputs")
        log.info("order given by the metric (an order strategy; its scores are ranks)")
    else:
        order = order_by_scores(scores["scores"])
    save_npz(job.output.order, order=order, n_train=np.int64(n_train))
    head = order[: min(len(order), max(1, len(order) // 10))]
    log.info("ordered %d inputs; adversarial share of the first 10%%: %.3f", len(order), float((head >= n_train).mean()))


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
