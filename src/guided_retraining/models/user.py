"""A user's own classifier: ``arch: {factory: "pkg.module:fn" | "path/to/file.py:fn", kwargs: {...}}``.

The factory returns a ``torch.nn.Module`` that maps a batch of images in [0, 1] (N, C, H, W)
to logits (N, classes). The workflow keeps the user's module as it is, so its state dict
is the user's own (``original: {weights: ...}`` loads the user's weights and every model
the workflow writes loads back into the user's code), with three additions:

- ``normalize: {mean, std}`` (per channel) is applied by a forward pre-hook with
  non-persistent buffers, ``(x - mean) / std``: attacks still see pixels in [0, 1]
  and their ``eps`` stays in pixel units; the state dict is unchanged.
- every ``nn.Dropout`` module is replaced by the seeded ``SeededDropout`` (same inverted
  dropout, masks from the training generator), so training is reproducible and MC dropout works.
- the factory runs under ``torch.manual_seed(seed)`` in a forked random state, behind a
  lock: its initial weights (whatever initialisation the user's code does) are a function
  of the seed. The project's code never draws from torch's global generator, so other
  jobs running as threads do not perturb it.

Layers are named as in ``model.named_modules()`` (``features.7``, ``classifier.1``);
``NAME.input`` is the input of module ``NAME``; ``last_hidden`` is the input of the last
``nn.Linear`` in registration order (the features the classifier head reads).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import sys
import threading
from pathlib import Path

import torch
from torch import nn

from ..errors import ConfigError
from .layers import SeededDropout

INPUT = ".input"
_LOCK = threading.Lock()


def is_user_arch(arch) -> bool:
    """True for ``arch: {factory: ...}`` (a user's model), False for a built-in architecture's name."""
    return isinstance(arch, dict)


def _split_factory(spec: str, key: str) -> tuple[str, str]:
    where, sep, name = str(spec).rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise ConfigError(f"{key}: expected 'package.module:function' or 'path/to/file.py:function', got {spec!r}")
    return where, name


def _is_file(where: str) -> bool:
    """``path/to/file.py`` (a file) rather than ``package.module`` (an import)."""
    return where.endswith(".py") or "/" in where or "\\" in where


def _module_from_file(path: Path, key: str):
    if not path.is_file():
        raise ConfigError(f"{key}: model file {path} not found (relative paths start at the working directory)")
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    name = f"_guided_retraining_user_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[name]
        raise ConfigError(f"{key}: importing {path} failed: {type(exc).__name__}: {_first_line(exc)}") from None
    return module


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_factory(spec: str, key: str = "arch.factory"):
    """The callable named by ``spec``; one-line ConfigError naming ``key`` when it cannot be imported."""
    where, name = _split_factory(spec, key)
    if _is_file(where):
        module = _module_from_file(Path(where).expanduser().resolve(), key)
    else:
        try:
            module = importlib.import_module(where)
        except Exception as exc:
            raise ConfigError(f"{key}: cannot import module {where!r}: {type(exc).__name__}: {_first_line(exc)}") \
                from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise ConfigError(f"{key}: {where} has no function {name!r}")
    return fn


def factory_file(spec: str) -> Path | None:
    """The source file of the factory's module (for a code digest), or None when it has none."""
    where, _ = _split_factory(spec, "arch.factory")
    if _is_file(where):
        return Path(where).expanduser().resolve()
    found = importlib.util.find_spec(where)
    return Path(found.origin) if found is not None and found.origin else None


def model_file_digest(arch: dict) -> str:
    """sha256 of the factory's source file: a rule param, so editing the model file re-runs its jobs."""
    path = factory_file(arch["factory"])
    data = path.read_bytes() if path is not None and path.is_file() else b""
    return hashlib.sha256(data).hexdigest()


def build_user_model(arch: dict, seed: int | None = None, key: str = "arch") -> nn.Module:
    """Call the factory (seeded, see module docstring), swap in seeded dropout, attach normalisation."""
    kwargs = arch.get("kwargs") or {}
    with _LOCK, torch.random.fork_rng(devices=[]):
        fn = load_factory(arch["factory"], f"{key}.factory")
        torch.manual_seed(0 if seed is None else int(seed))
        try:
            model = fn(**kwargs)
        except Exception as exc:
            raise ConfigError(f"{key}.factory: {arch['factory']}(**{kwargs}) failed: {type(exc).__name__}: "
                              f"{_first_line(exc)}") from None
    if not isinstance(model, nn.Module):
        raise ConfigError(f"{key}.factory: {arch['factory']} returned {type(model).__name__}, expected a "
                          "torch.nn.Module")
    _seed_dropout(model)
    if arch.get("normalize"):
        _attach_normalize(model, arch["normalize"], f"{key}.normalize")
    model.arch = arch["factory"]
    model.last_hidden = last_hidden(model)
    return model


def _seed_dropout(model: nn.Module) -> None:
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout:
                setattr(parent, name, SeededDropout(child.p))


def _attach_normalize(model: nn.Module, normalize: dict, key: str) -> None:
    mean = torch.tensor([float(v) for v in normalize["mean"]]).view(1, -1, 1, 1)
    std = torch.tensor([float(v) for v in normalize["std"]]).view(1, -1, 1, 1)
    if mean.numel() != std.numel() or (std <= 0).any():
        raise ConfigError(f"{key}: mean and std need one value per channel and std > 0")
    model.register_buffer("_gr_mean", mean, persistent=False)
    model.register_buffer("_gr_std", std, persistent=False)

    def normalize_input(module, args):
        x = args[0]
        if x.shape[1] != module._gr_mean.shape[1]:
            raise ValueError(f"{key}: {module._gr_mean.shape[1]} channel(s) for inputs of {x.shape[1]}")
        return ((x - module._gr_mean) / module._gr_std,) + tuple(args[1:])

    model.register_forward_pre_hook(normalize_input)


def layer_names(model: nn.Module) -> list[str]:
    """Names a metric may read (as listed in errors): every named submodule, and ``NAME.input`` of every
    ``nn.Linear`` (``NAME.input`` of any other module is accepted too, see :func:`resolve_layer`)."""
    names = []
    for name, module in model.named_modules():
        if name:
            names.append(name)
            if isinstance(module, nn.Linear):
                names.append(name + INPUT)
    return names


def last_hidden(model: nn.Module) -> str | None:
    """``NAME.input`` of the last ``nn.Linear`` (registration order); None when the model has none."""
    linears = [name for name, m in model.named_modules() if isinstance(m, nn.Linear) and name]
    return linears[-1] + INPUT if linears else None


def resolve_layer(model: nn.Module, name: str) -> tuple[nn.Module, bool]:
    """``(module, reads_input)`` of a layer name (see :func:`layer_names`)."""
    modules = dict(model.named_modules())
    if name in modules and name:
        return modules[name], False
    if name.endswith(INPUT) and name[: -len(INPUT)] in modules and name[: -len(INPUT)]:
        return modules[name[: -len(INPUT)]], True
    raise KeyError(name)


_DESCRIBED: dict[str, nn.Module] = {}


def describe(arch: dict, key: str = "arch") -> nn.Module:
    """A model built once per distinct ``arch`` for config checks and layer names (never trained).

    ``key`` names the config entry in the one-line errors of the first build.
    """
    text = json.dumps(arch, sort_keys=True)
    if text not in _DESCRIBED:
        _DESCRIBED[text] = build_user_model(arch, None, key)
    return _DESCRIBED[text]


@torch.no_grad()
def check_output(model: nn.Module, in_shape, n_classes: int, key: str, exact: bool = True) -> None:
    """One forward pass on zeros of ``in_shape``: the output must be (batch, n_classes) logits.

    ``exact=False`` accepts more logits than ``n_classes`` (jobs know the classes only from the
    labels present, which a subset may lack; the config check compares with the data's class count).
    """
    was_training = model.training
    model.eval()
    try:
        out = model(torch.zeros((2, *in_shape)))
    except Exception as exc:
        raise ConfigError(f"{key}: the model fails on inputs of shape {tuple(in_shape)} (C, H, W): "
                          f"{type(exc).__name__}: {_first_line(exc)}") from None
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 2 \
            or (out.shape[1] != n_classes if exact else out.shape[1] < n_classes):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ConfigError(f"{key}: the model outputs {shape} for a batch of 2; expected logits (2, {n_classes}), "
                          f"one per class of the data")
