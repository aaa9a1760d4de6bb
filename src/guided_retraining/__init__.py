"""guided-retraining: guide the retraining of CNNs against adversarial inputs.

The library behind the Snakemake workflow. Importing this package is cheap; the
heavy dependencies (torch, torchattacks, pandas) are imported by the submodules
that need them.
"""

__version__ = "0.1.0"
