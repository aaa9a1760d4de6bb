"""Rule order: the permutation of Train* by descending score (ties keep input order)."""

import numpy as np

from guided_retraining.io import load_npz, save_npz
from guided_retraining.retraining import order_by_scores


def main(job, log):
    scores = load_npz(job.input.scores, ["scores", "n_train"])
    order = order_by_scores(scores["scores"])
    n_train = int(scores["n_train"])
    save_npz(job.output.order, order=order, n_train=np.int64(n_train))
    head = order[: min(len(order), max(1, len(order) // 10))]
    log.info("ordered %d inputs; adversarial share of the first 10%%: %.3f", len(order), float((head >= n_train).mean()))


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
