"""Wall time of the worked example config/example-own-model.yaml (a user's ResNet on an image folder).

    python benchmarks/own_model_example.py [--cores 2] [--per-class 60] [--keep DIR]

Writes the example's image folder (data/shapes/: four shape classes of 32x32 colour PNGs, the
tests' ``write_shapes_folder``) and the model file (config/example_model.py) into a fresh
working directory, then runs the whole example study there with benchmarks/workflow.py
(wall time, CPU time per rule, per-job overhead) and prints the original model's accuracy.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))


def main() -> None:
    from fixtures_datasets import write_shapes_folder

    import workflow

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--keep", help="run in this directory and keep it")
    args = parser.parse_args()
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gr-own-"))
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config/example_model.py", workdir / "config")
    write_shapes_folder(workdir / "data/shapes", per_class=args.per_class)
    sys.argv = [sys.argv[0], "--configfile", str(REPO / "config/example-own-model.yaml"), "--cores", str(args.cores),
                "--keep", str(workdir)]
    workflow.main()
    original = json.loads((workdir / "results/shapes/r1/original/train.json").read_text())
    attack = json.loads((workdir / "results/shapes/r1/fgsm/attack.json").read_text())
    print(f"original model: Test {original['acc_test']:.3f}, Adv.Test (FGSM) {attack['original_acc_adv_test']:.3f}")
    print((workdir / "results/tables/table3.md").read_text())
    if not args.keep:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
