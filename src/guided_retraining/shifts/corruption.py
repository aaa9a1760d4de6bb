"""Common corruptions (Hendrycks & Dietterich, "Benchmarking Neural Network Robustness to Common
Corruptions and Perturbations", ICLR 2019: ImageNet-C / CIFAR-10-C) through the library
``imagecorruptions-imaug`` (import name ``imagecorruptions``), the maintained fork of
``imagecorruptions`` (whose 1.1.2 no longer imports: it needs ``pkg_resources``).

The library corrupts one uint8 image (H, W) or (H, W, 3) in 0..255 of at least 32x32 pixels and
returns (H, W, 3) uint8. :func:`corrupt` wraps it for the workflow's arrays:

* Pixels: float32 NCHW in [0, 1] -> uint8 HWC by ``round(255 x)``; the result back as ``u / 255``
  (float32), so a corrupted image holds multiples of 1/255.
* Size: an image whose height or width is below 32 is first enlarged so that its smaller side is
  32 (aspect kept, each side rounded up), corrupted there, then shrunk back to its own size
  (:mod:`.resize`). By a whole factor k (digits' 8x8 -> 32x32, k = 4) each pixel becomes a k x k block
  (nearest) and each k x k block is averaged back (area): without a corruption the round trip gives
  the image back (up to float32 rounding, < 1e-6). Otherwise (MNIST's 28x28 -> 32x32) bilinear both ways, antialiased when
  shrinking: the round trip alone moves a pixel by 0.027 on average (MNIST, measured in docs/shifts.md).
  The corruption's severity is the library's at the enlarged size; shrinking averages neighbouring
  pixels, so pixel noise is weaker at the image's own size (by about k for a whole factor k).
* Grayscale: the library stacks a grayscale image into three equal channels and some corruptions
  (the noises, frost's and spatter's coloured overlays) then treat the channels apart; the
  grayscale image kept is **channel 0** of the result, so a noise keeps the standard deviation
  the library gives it per channel (the mean of three independent channels would divide it by
  sqrt(3)). Colour images (3 channels) keep all three.
* Randomness: the library draws from NumPy's global random state (and from ``seed`` arguments for
  ``impulse_noise`` and ``glass_blur``). Each image ``i`` of a call gets its own seed, the i-th draw of
  ``numpy.random.default_rng(seed)`` (so an image's corruption depends on ``seed`` and its position
  only); the global state is seeded with it under a lock (jobs run as threads of one process) and
  restored afterwards. The same ``seed`` gives byte-identical output.
* Speed: the library's ``frost`` reads one of its six frost photographs from disk and resizes it for every
  image (about 29 ms per MNIST image, measured); during a call the photographs and their resized copies are
  kept in memory (:class:`_FrostCache`), which gives the same bytes.
"""

from __future__ import annotations

import inspect
import threading

import numpy as np

from ..errors import ConfigError
from ..progress import Progress
from ..seeding import derive_seed
from .kind import ShiftKind, SideSets
from .resize import resize

#: The library's 19 corruptions (``imagecorruptions.get_corruption_names("all")``), by family;
#: the 15 of ImageNet-C first, then the 4 held-out ("validation") ones. A test checks they agree.
FAMILIES = {
    "noise": ("gaussian_noise", "shot_noise", "impulse_noise"),
    "blur": ("defocus_blur", "glass_blur", "motion_blur", "zoom_blur"),
    "weather": ("snow", "frost", "fog", "brightness"),
    "digital": ("contrast", "elastic_transform", "pixelate", "jpeg_compression"),
    "validation": ("speckle_noise", "gaussian_blur", "spatter", "saturate"),
}
CORRUPTIONS: tuple[str, ...] = tuple(n for names in FAMILIES.values() for n in names)
SEVERITIES = (1, 2, 3, 4, 5)
MIN_SIDE = 32  # the library's smallest height and width

_GLOBAL_STATE = threading.Lock()


def check_corruption(name, severity, channels: int | None = None, where: str = "corruption") -> None:
    """One-line :class:`ConfigError` naming the key unless ``name`` is one of :data:`CORRUPTIONS`,
    ``severity`` an integer 1..5 and ``channels`` (when known) 1 or 3."""
    if name not in CORRUPTIONS:
        raise ConfigError(f"{where}.name: {name!r} is not a corruption of imagecorruptions; choose one of "
                          f"{', '.join(CORRUPTIONS)}")
    if isinstance(severity, bool) or not isinstance(severity, (int, np.integer)) or severity not in SEVERITIES:
        raise ConfigError(f"{where}.severity: {severity!r} is not allowed; expected an integer 1 to 5")
    if channels is not None and channels not in (1, 3):
        raise ConfigError(f"{where}: corruptions apply to images with 1 or 3 channels, the dataset's have {channels}")
    check_library(where)


def check_library(where: str = "corruption") -> None:
    """One-line :class:`ConfigError` unless the corruption library imports here: ``imagecorruptions`` needs
    OpenCV (``opencv-python``), whose import fails on a machine without the system's ``libGL.so.1``."""
    try:
        import imagecorruptions  # noqa: F401
    except (ImportError, OSError) as exc:
        raise ConfigError(f"{where}: the corruption library does not import here ({type(exc).__name__}: {exc});"
                          " install imagecorruptions-imaug (pip install -e . does), and for OpenCV the system's"
                          " libGL (Debian/Ubuntu: apt-get install libgl1)") from None


def work_size(h: int, w: int) -> tuple[int, int]:
    """The size an h x w image is corrupted at: itself when both sides are >= 32, else enlarged so that
    the smaller side is 32 (aspect kept, rounded up)."""
    if min(h, w) >= MIN_SIDE:
        return h, w
    scale = MIN_SIDE / min(h, w)
    return max(MIN_SIDE, int(np.ceil(h * scale - 1e-9))), max(MIN_SIDE, int(np.ceil(w * scale - 1e-9)))


def image_seeds(seed: int, n: int) -> np.ndarray:
    """Per-image seeds (uint32 as int64): the first ``n`` draws of ``default_rng(seed)``."""
    return np.random.default_rng(int(seed)).integers(0, 2 ** 32, size=n, dtype=np.int64)


class _FrostCache:
    """Stands for ``cv2`` inside the library during one call: ``imread`` and the ``resize`` of an image it read
    are computed once per path and size (read-only arrays; everything else is cv2's own)."""

    def __init__(self, cv2):
        self._cv2, self._read, self._resized = cv2, {}, {}

    def __getattr__(self, name):
        return getattr(self._cv2, name)

    def imread(self, path, *args):
        key = (str(path),) + args
        if key not in self._read:
            img = self._cv2.imread(str(path), *args)
            img.setflags(write=False)
            self._read[key] = img
        return self._read[key]

    def resize(self, src, dsize=None, *args, **kwargs):
        owner = next((k for k, v in self._read.items() if v is src), None)
        if owner is None:
            return self._cv2.resize(src, dsize, *args, **kwargs)
        key = (owner, tuple(dsize), args, tuple(sorted(kwargs.items())))
        if key not in self._resized:
            out = self._cv2.resize(src, dsize, *args, **kwargs)
            out.setflags(write=False)
            self._resized[key] = out
        return self._resized[key]


def corrupt(x: np.ndarray, name: str, severity: int, seed: int, log=None, label: str | None = None) -> np.ndarray:
    """``x`` (N, C, H, W) float32 in [0, 1], C 1 or 3, corrupted by ``name`` at ``severity`` (see the module
    docstring for the conversions); returns float32 of the same shape."""
    check_corruption(name, severity, x.shape[1] if x.ndim == 4 else None)
    from imagecorruptions import corrupt as _corrupt, corruption_dict
    from imagecorruptions import corruptions as _library

    n, c, h, w = x.shape
    hw = work_size(h, w)
    whole = hw[0] % h == 0 and hw[1] % w == 0 and hw != (h, w)
    big = resize(x, hw, "nearest" if whole else "bilinear")
    u8 = np.rint(big * 255.0).clip(0, 255).astype(np.uint8).transpose(0, 2, 3, 1)  # N, H, W, C
    takes_seed = "seed" in inspect.signature(corruption_dict[name]).parameters
    seeds = image_seeds(seed, n)
    out = np.empty((n, c) + big.shape[2:], np.float32)
    progress = Progress(n, label or f"{name} (severity {severity})", log)
    with _GLOBAL_STATE:
        saved, cv2 = np.random.get_state(), _library.cv2
        _library.cv2 = _FrostCache(cv2)
        try:
            for i in range(n):
                s = int(seeds[i])
                np.random.seed(s)
                img = u8[i, :, :, 0] if c == 1 else u8[i]
                kwargs = {"seed": s} if takes_seed else {}
                res = np.asarray(_corrupt(img, severity=int(severity), corruption_name=name, **kwargs), np.uint8)
                res = res[..., :1] if c == 1 else res  # grayscale: channel 0
                out[i] = res.transpose(2, 0, 1).astype(np.float32) / np.float32(255.0)
                progress.update(1)
        finally:
            np.random.set_state(saved)
            _library.cv2 = cv2
    return resize(out, (h, w), "area" if whole else "bilinear")


def check_entry(entry: dict, where: str, shape=None, n_classes: int | None = None, source_signature=None) -> None:
    """``name`` one of the library's corruptions, ``severity`` 1 to 5, images of 1 or 3 channels
    (:func:`check_corruption`)."""
    check_corruption(entry.get("name"), entry.get("severity"), shape[0] if shape else None, where)


def side_sets(entry: dict, data, sizes: dict, subset_seed: int, seed: int, log=None, source=None) -> SideSets:
    """The seeded Adv.Train subset of Train (the attacks': ``subset_seed``), all of Val and all of Test, corrupted
    (``seed``: each part's noise); ``idx_adv_train`` their rows in Train."""
    parts = ("train", "val", "test")
    adv_train_size, n_train = sizes["train"], len(data["x_train"])
    if adv_train_size > n_train:
        raise ConfigError(f"adv_train_size: {adv_train_size} exceeds the {n_train} training inputs")
    idx = np.sort(np.random.default_rng(subset_seed).choice(n_train, size=adv_train_size, replace=False))
    xs = {"train": data["x_train"][idx], "val": data["x_val"], "test": data["x_test"]}
    ys = {"train": data["y_train"][idx], "val": data["y_val"], "test": data["y_test"]}
    severity = int(entry["severity"])
    out = {p: corrupt(xs[p], entry["name"], severity, derive_seed(seed, p), log,
                      f"{entry['name']} {severity} on {p}") for p in parts}
    return SideSets(out["train"], ys["train"], idx.astype(np.int64), out["val"], ys["val"], out["test"],
                    ys["test"], {"name": entry["name"], "severity": severity,
                                 "corrupted_at": list(work_size(*data.shape[1:]))})


KIND = ShiftKind("corruption", "the seeded Adv.Train subset of Train, all of Val and all of Test, corrupted"
                 " (imagecorruptions' 19 at severity 1 to 5)", ("name", "severity"), check_entry, side_sets,
                 paired=True)
