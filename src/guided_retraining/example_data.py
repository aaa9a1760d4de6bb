"""The image folder of the worked example ``config/example-own-model.yaml``, written by one command.

    python -m guided_retraining.example_data [ROOT] [--per-class N]

writes ``ROOT/train/<shape>/*.png`` and ``ROOT/test/<shape>/*.png`` (default ROOT ``data/shapes``,
the example config's ``root``): four classes (circle, cross, square, triangle) of 32x32 colour PNG
images, ``N`` per class (default 60: 48 train and 12 test), drawn from a seeded generator, so every
run writes the same pixels. The folder is the layout the ``imagefolder`` loader reads; replace it with
your own images to run the example on your data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SHAPES = ["circle", "cross", "square", "triangle"]


def write_shapes_folder(root: Path, per_class: int = 60, size: int = 32, seed: int = 0) -> list[str]:
    """A small colour image folder: ``root/train/<shape>/`` and ``root/test/<shape>/`` of PNG images.

    Four classes (circle, cross, square, triangle) drawn in a random bright colour at a random
    position and scale on a random dark background, with pixel noise (seeded); one in five
    images goes to test. Returns the class names.
    """
    from PIL import Image, ImageDraw

    root = Path(root)
    rng = np.random.default_rng(seed)
    for c in SHAPES:
        for part in ("train", "test"):
            (root / part / c).mkdir(parents=True, exist_ok=True)
        for j in range(per_class):
            bg, fg = rng.integers(0, 120, 3), rng.integers(110, 256, 3)  # a bright shape on a dark background
            img = Image.new("RGB", (size, size), tuple(int(v) for v in bg))
            draw = ImageDraw.Draw(img)
            r = int(rng.integers(size // 6, size // 3))
            cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
            colour = tuple(int(v) for v in fg)
            if c == "circle":
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
            elif c == "square":
                draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=colour)
            elif c == "triangle":
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
            else:
                w = max(1, r // 3)
                draw.rectangle([cx - r, cy - w, cx + r, cy + w], fill=colour)
                draw.rectangle([cx - w, cy - r, cx + w, cy + r], fill=colour)
            noisy = np.asarray(img, dtype=np.int16) + rng.integers(-30, 31, (size, size, 3))
            part = "test" if j % 5 == 4 else "train"
            Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(root / part / c / f"{j:04d}.png")
    return list(SHAPES)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the image folder of config/example-own-model.yaml.")
    parser.add_argument("root", nargs="?", default="data/shapes", help="folder to write (default: data/shapes)")
    parser.add_argument("--per-class", type=int, default=60, help="images per class (default: 60)")
    args = parser.parse_args(argv)
    if args.per_class < 5:
        parser.error(f"--per-class: expected at least 5 (one in five images goes to test), got {args.per_class}")
    write_shapes_folder(Path(args.root), per_class=args.per_class)
    print(f"wrote {4 * args.per_class} images of {', '.join(SHAPES)} to {args.root}/train and {args.root}/test")


if __name__ == "__main__":
    main()
