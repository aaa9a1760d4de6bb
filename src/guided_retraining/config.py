"""Configuration checks run by the Snakefile before any job: one clear line per problem.

1. The JSON schema (workflow/schemas/config.schema.yaml): every key typed and ranged,
   unknown keys rejected, defaults filled in.
2. Checks a schema cannot express: split fractions summing to 1, loader options, layers
   that exist in the dataset's architecture, each metric's own options, data present on
   disk (dry runs too, after every other check; ``download: true``: fetched by the prepare job); for a user's model (``arch: {factory: ...}``): the factory imports and returns a
   module, it maps the data's images to one logit per class, and the original weights fit.
   The factory is imported and called in dry runs too (its layer names decide which jobs exist):
   a config with a factory runs code like a Python script, so configs must come from trusted sources.
3. ``results`` stays inside the working directory (:func:`check_results_path`).
4. Before the first job of a local run (Snakemake's ``onstart``, not in dry runs): the device exists
   (:func:`check_device`).
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import yaml

from .errors import ConfigError, DataError, GuidedRetrainingError


def _path(parts) -> str:
    return ".".join(str(p) for p in parts) or "(top level)"


def _one_line(error) -> str:
    """Turn a jsonschema error into 'key.path: what is wrong (what is allowed)'."""
    where = _path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        return f"{where}: unknown key(s) {', '.join(map(repr, extra))}; allowed: {', '.join(allowed)}"
    parent = error.parent if error.parent is not None and error.parent.validator == "anyOf" else None
    alternative = f", or {parent.schema['x-alternative']}" if parent and "x-alternative" in parent.schema else ""
    if error.validator == "enum":
        return (f"{where}: {error.instance!r} is not allowed; choose one of "
                f"{', '.join(map(str, error.validator_value))}{alternative}")
    if error.validator == "anyOf" and "description" in schema:
        return f"{where}: {error.instance!r} is not allowed; expected {schema['description']}"
    if error.validator == "pattern" and "description" in schema:
        return f"{where}: {error.instance!r} is not allowed; expected {schema['description']}"
    if error.validator == "required":
        return f"{where}: {error.message}"
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[error.validator]
        return f"{where}: {error.instance!r} is out of range; expected a value {bound} {error.validator_value}"
    if error.validator == "type":
        return f"{where}: {error.instance!r} has the wrong type; expected {error.validator_value}"
    if error.validator == "propertyNames":
        return f"{where}: name {error.instance!r} is not allowed; use letters, digits and underscores"
    return f"{where}: {error.message}"


def _validator(schema: dict):
    from jsonschema import Draft202012Validator, validators

    def default_of(sub):
        """A property's default: its own, or that of the definition it refers to (``$ref: "#/$defs/x"``)."""
        if not isinstance(sub, dict):
            return None
        if "default" in sub:
            return sub
        ref = sub.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return default_of(schema["$defs"][ref.removeprefix("#/$defs/")])
        return None

    def set_defaults(validator, properties, instance, subschema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                holder = default_of(sub)
                if holder is not None and name not in instance:
                    instance[name] = copy.deepcopy(holder["default"])
        yield from Draft202012Validator.VALIDATORS["properties"](validator, properties, instance, subschema)

    cls = validators.extend(Draft202012Validator, {"properties": set_defaults})
    return cls(schema)


def validate_schema(config: dict, schema_path) -> None:
    """Validate ``config`` against the schema, filling in defaults; raise ConfigError on the first problem."""
    from jsonschema.exceptions import best_match

    from .kinds import check_distinct, check_uses, schema_enums

    check_distinct()

    # the enums of kinds (loaders, attacks and shifts, metrics) are the registries', a plugin's names included
    schema = schema_enums(yaml.safe_load(Path(schema_path).read_text()))
    check_uses(config)
    errors = list(_validator(schema).iter_errors(config))
    if errors:
        raise ConfigError(_one_line(best_match(errors)))


# Characters a results path may hold: letters, digits and ``_ . - + /`` (no spaces, quotes, markup,
# wildcards' braces, shell or reStructuredText syntax, newlines or other control characters).
_RESULTS_CHARS = re.compile(r"[A-Za-z0-9_.+/-]+")


def check_results_path(results: str, allow_absolute: bool = False) -> None:
    """``results`` must name a directory inside the working directory: relative, without ``..``, made of
    ``A-Z a-z 0-9 _ . - + /`` only. An absolute path is accepted only when ``results_absolute: true`` says it
    is meant, and never the root of a file system (``/``, ``//``)."""
    if not isinstance(results, str) or not _RESULTS_CHARS.fullmatch(results):
        bad = sorted({c for c in str(results) if not _RESULTS_CHARS.fullmatch(c)})
        raise ConfigError(f"results: {results!r} is not allowed; use letters, digits and _ . - + / only"
                          f" (found {', '.join(map(repr, bad)) or 'nothing'})")
    parts = [p for p in results.split("/") if p]
    if ".." in parts:
        raise ConfigError(f"results: {results!r} is not allowed; '..' would leave the working directory")
    if not parts or all(p == "." for p in parts):
        where = "the root of the file system" if results.startswith("/") else "the working directory itself"
        raise ConfigError(f"results: {results!r} is not allowed; it is {where}, give a directory such as 'results'")
    if results.startswith("/") and not allow_absolute:
        raise ConfigError(f"results: {results!r} is an absolute path; give a path inside the working directory,"
                          " or set results_absolute: true to write there on purpose")


def check_device(config: dict) -> None:
    """``device`` (and each metric's ``device``) names a device this machine has: ``cuda`` or ``cuda:N``
    without a CUDA device (or N beyond the count) stops here, with the key. ``cpu`` and ``auto`` always pass.

    Called before any job of a local run (not a dry run, and not on a cluster's submit host, whose jobs
    land on other machines)."""
    wanted = [("device", config.get("device", "cpu"))]
    wanted += [(f"metrics.{m}.device", o["device"]) for m, o in config.get("metrics", {}).items() if "device" in o]
    for key, device in wanted:
        if not str(device).startswith("cuda"):
            continue
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"{key}: {device!r} requested but this machine has no usable CUDA device"
                              f" (torch {torch.__version__}, built for CUDA {torch.version.cuda});"
                              " use 'auto' or 'cpu'")
        index = torch.device(device).index
        if index is not None and index >= torch.cuda.device_count():
            raise ConfigError(f"{key}: {device!r} requested but this machine has {torch.cuda.device_count()}"
                              f" CUDA device(s) (cuda:0 to cuda:{torch.cuda.device_count() - 1})")


def check_semantics(config: dict, check_data: bool = True, check_model: bool = True) -> None:
    """Checks beyond the schema (see module docstring). ``check_data``: each dataset's files are there (cheap:
    dry runs too); ``check_model``: with ``check_data``, the model fits its data (reads the original weights;
    not in dry runs)."""
    from .model_layers import layer_names

    check_results_path(config["results"], config.get("results_absolute", False))
    for name, ds in config["datasets"].items():
        fractions = ds.get("split", {}).get("fractions", [0.7, 0.2, 0.1])
        if abs(sum(fractions) - 1.0) > 1e-6:
            raise ConfigError(f"datasets.{name}.split.fractions: {fractions} must sum to 1")
        split = ds.get("split", {})
        pooled_both = split.get("pool", ["train", "test"]) == ["train", "test"]
        if split.get("mode") == "original" and not pooled_both:
            raise ConfigError(f"datasets.{name}.split.pool: applies to mode merged only (original keeps the"
                              " official test split)")
        _check_loader_options(name, ds)
        user_model = isinstance(ds["arch"], dict)
        if user_model:
            from .models import user

            model = user.describe(ds["arch"], f"datasets.{name}.arch")  # import and build errors, one line
        layers = layer_names(ds["arch"])
        arch_name = ds["arch"]["factory"] if user_model else ds["arch"]
        alias = "" if user_model and model.last_hidden is None else "last_hidden or "
        for metric, opts in config["metrics"].items():
            for layer in opts.get("layers", []):
                if layer == "last_hidden" and user_model and model.last_hidden is None:
                    raise ConfigError(f"metrics.{metric}.layers: last_hidden is the input of the last nn.Linear, but "
                                      f"{arch_name} (dataset {name}) has none; choose one of {', '.join(layers)}")
                if layer != "last_hidden" and layer not in layers and not (user_model and _is_layer(model, layer)):
                    raise ConfigError(
                        f"metrics.{metric}.layers: {layer!r} is not a layer of {arch_name} (dataset {name});"
                        f" choose {alias}one of {', '.join(layers)}"
                    )
        _check_sizes(name, ds)
        _check_patience(name, ds, config)
        _check_budgets(config, name, ds)
        _check_objective_budgets(config, name, ds)
        if check_data and check_model and (user_model or ds["original"].get("weights")):
            _check_data(name, ds)
            _check_model_fits(name, ds, model if user_model else None)
    _check_metric_options(config)
    _check_shifts(config, check_data)
    _check_attacks(config)
    _check_deepcustom(config)
    defences = config.get("defences")
    if defences:
        if defences["guided_attack"] not in config["attacks"]:
            raise ConfigError(f"defences.guided_attack: {defences['guided_attack']!r} is not an attack of the grid;"
                              f" choose one of {', '.join(config['attacks'])}")
        training = defences.get("adversarial_training", {})
        if training.get("attack_steps") is not None and training.get("attack", "fgsm") != "pgd":
            raise ConfigError(f"defences.adversarial_training.attack_steps: applies to attack pgd only (attack is"
                              f" {training.get('attack', 'fgsm')!r}); leave it out or set attack: pgd")
        if "C2" not in config["configurations"]:
            raise ConfigError("defences: the guided-retraining defence is C2's best model; add C2 to configurations")
    if check_data:
        for name, ds in config["datasets"].items():
            _check_data(name, ds)


def _check_data(name: str, ds: dict) -> None:
    """The dataset's files are where ``root`` says (the loader's own cheap check: no image is read), the same
    in dry runs as in real runs; with ``download: true`` the prepare job fetches what is absent."""
    from . import datasets

    if ds.get("download"):
        if ds["loader"] not in datasets.DOWNLOADS:
            raise ConfigError(f"datasets.{name}.download: loader {ds['loader']} cannot download its data; set"
                              f" download: false and put the data under datasets.{name}.root")
        if ds.get("root") in (None, ""):
            raise ConfigError(f"datasets.{name}.root: download: true needs a directory to download into")
        return
    try:
        datasets.check_available(ds["loader"], ds.get("root"))
    except GuidedRetrainingError as exc:
        hint = (f" (or set datasets.{name}.download: true to fetch it)" if ds["loader"] in datasets.DOWNLOADS
                else "")
        if datasets.loader(ds["loader"]).own_data:  # their messages name the path, not the key
            raise DataError(f"datasets.{name}.root: {exc}{hint}") from None
        raise type(exc)(f"{exc}{hint}") from None


def _is_layer(model, name: str) -> bool:
    from .models.user import resolve_layer

    try:
        resolve_layer(model, name)
    except KeyError:
        return False
    return True


def _check_model_fits(name: str, ds: dict, model=None) -> None:
    """The model against its data: a user's model gives logits for every class; the original weights fit."""
    from . import datasets
    from .io import load_state_dict
    from .models import build_model
    from .models.user import check_output

    shape, n_classes, _ = datasets.signature(ds["loader"], ds.get("root"), ds["options"])
    if model is not None:
        check_output(model, shape, n_classes, f"datasets.{name}.arch")
    weights = ds["original"].get("weights")
    if weights:
        try:
            load_state_dict(weights, model if model is not None else build_model(ds["arch"], shape, n_classes))
        except DataError as exc:
            raise DataError(f"datasets.{name}.original.weights: {exc}") from None


def _check_loader_options(name: str, ds: dict, prefix: str = "datasets") -> None:
    """``options`` must be keyword arguments of the loader (root and download are keys of their own)."""
    from .datasets import loader

    allowed = sorted(loader(ds["loader"]).options)
    extra = sorted(set(ds["options"]) - set(allowed))
    if extra:
        raise ConfigError(f"{prefix}.{name}.options: unknown option(s) {', '.join(extra)} for loader "
                          f"{ds['loader']}; allowed: {', '.join(allowed) or 'none'}")


def _check_deepcustom(config: dict) -> None:
    """deepcustom.robust names grid attacks; attacks whose kind needs generators (settings checked by
    _check_attacks; kept off the defences by their declared uses) only on datasets with a generator network
    (MNIST-like, colour CIFAR-10)."""
    from .kinds import needs_generators

    dgn = needs_generators(config)
    if dgn:
        for ds_name, ds in config["datasets"].items():
            _check_dgn_applies(ds_name, ds, ", ".join(dgn))
    for name in config.get("deepcustom", {}).get("robust", []):
        if name not in config["attacks"]:
            raise ConfigError(f"deepcustom.robust: {name!r} is not an attack of the grid; choose from "
                              f"{', '.join(config['attacks'])}")
    dc = config.get("deepcustom", {})
    if dc.get("whitebox") and not dc.get("robust"):
        raise ConfigError("deepcustom.whitebox: true needs a matrix (deepcustom.robust: [attack, ...]); "
                          "set robust or drop whitebox")
    if dc.get("robust") and dc.get("adversarial_data", "stored") == "stored":
        for ds_name, ds in config["datasets"].items():
            augment = {**ds.get("train", {}), **dc.get("train", {})}.get("augment", "none")
            if augment != "none":
                raise ConfigError(f"deepcustom.train.augment: {augment!r} cannot apply to adversarial training on "
                                  f"stored data (dataset {ds_name}: an input and its stored counterpart would be "
                                  "augmented apart); set augment: none or deepcustom.adversarial_data: on_the_fly")


def _check_dgn_applies(name: str, ds: dict, attacks: str) -> None:
    """The loader's declaration says whether DeepCustom's generators were built for the dataset; the
    generator networks' own table (by input shape, as ``build_generator`` picks them) whether the images,
    as loaded with the dataset's options, fit one."""
    from . import datasets
    from .deepcustom.generators import GENERATORS

    loader = datasets.loader(ds["loader"])
    if not loader.dgn:
        offered = ", ".join(n for n, d in datasets.LOADERS.items() if d.dgn)
        raise ConfigError(f"datasets.{name}.loader: {ds['loader']!r} has no DGN generator network (attacks "
                          f"{attacks} need generators); use {offered}")
    options = ds.get("options", {})
    shape = loader.shape_classes_images(ds.get("root"), options)[0]
    if shape not in GENERATORS:
        colour = loader.shape_classes_images(ds.get("root"), {**options, "grayscale": False})[0]
        key, fix = (("options.grayscale", "set grayscale: false") if colour in GENERATORS else
                    ("options", "leave size out (the dataset's own size) or give one the generators take"))
        raise ConfigError(f"datasets.{name}.{key}: the DGN generator networks take images of shape "
                          f"{' or '.join(map(str, GENERATORS))}, dataset {name} gives {shape} (attacks {attacks} "
                          f"need generators); {fix}")


def _check_budgets(config: dict, name: str, ds: dict) -> None:
    """``aggregate.budgets``: fractions in (0, 1] or whole counts, no two alike, no count above a
    configuration's T (C1/C2: Train + Adv.Train, when the split's sizes are known; C3: Adv.Train)."""
    from .datasets import prepared_sizes

    budgets = config.get("aggregate", {}).get("budgets", [])
    _budget_points("aggregate.budgets", budgets)
    sizes = prepared_sizes(ds["loader"], ds.get("split"))
    totals = {"C3": ds["adv_train_size"]}
    if sizes is not None:
        totals["C1"] = totals["C2"] = sizes["train"] + ds["adv_train_size"]
    for i, b in enumerate(budgets):
        if isinstance(b, bool) or not isinstance(b, int):
            continue
        for configuration in config["configurations"]:
            if configuration in totals and b > totals[configuration]:
                raise ConfigError(f"aggregate.budgets.{i}: {b} inputs exceed the {totals[configuration]} that"
                                  f" {configuration} has on dataset {name} (T); give at most that or a fraction")


def _budget_points(key: str, budgets) -> list[str]:
    """The point names of ``budgets`` (:func:`retraining.budget_point`): fractions in (0, 1] or whole counts,
    no two alike; else a one-line ConfigError naming ``key`` and the entry."""
    from .retraining import budget_point

    seen = {}
    for i, b in enumerate(budgets):
        try:
            point = budget_point(b)
        except ValueError as exc:
            raise ConfigError(f"{key}.{i}: {exc}") from None
        if point in seen:
            raise ConfigError(f"{key}.{i}: {b!r} repeats {key}.{seen[point]}")
        seen[point] = i
    return list(seen)


def _check_objective_budgets(config: dict, name: str, ds: dict) -> None:
    """``objectives.budgets``: as aggregate.budgets, a count at most Adv.Train's size (both pools are judged)."""
    from .objectives import config_budgets

    budgets = config_budgets(config)
    _budget_points("objectives.budgets", budgets)
    for i, b in enumerate(budgets):
        if not isinstance(b, bool) and isinstance(b, int) and b > ds["adv_train_size"]:
            raise ConfigError(f"objectives.budgets.{i}: {b} inputs exceed the {ds['adv_train_size']} of Adv.Train"
                              f" (adv_train_size of dataset {name}), a pool the objectives judge; give at most that"
                              " or a fraction")


def _check_sizes(name: str, ds: dict) -> None:
    """``adv_train_size`` and the data-point steps against the Train size the split will give."""
    from .datasets import prepared_sizes

    try:
        sizes = prepared_sizes(ds["loader"], ds.get("split"))
    except ConfigError as exc:
        raise ConfigError(f"datasets.{name}.{exc}") from None
    if sizes is None:
        return
    if ds["adv_train_size"] > sizes["train"]:
        raise ConfigError(f"datasets.{name}.adv_train_size: {ds['adv_train_size']} exceeds the {sizes['train']}"
                          f" training inputs the split gives (train/val/test {sizes['train']}/{sizes['val']}/"
                          f"{sizes['test']})")
    if sizes["test"] == 0:
        raise ConfigError(f"datasets.{name}.split: leaves no test inputs (train/val/test {sizes['train']}/"
                          f"{sizes['val']}/{sizes['test']}); give the test share a larger fraction")


def _validation_size(ds: dict) -> int | None:
    """Validation inputs the split gives (``None`` when only the data can tell)."""
    from .datasets import prepared_sizes

    split = ds.get("split") or {}
    sizes = prepared_sizes(ds["loader"], split)
    if sizes is not None:
        return sizes["val"]
    if split.get("sizes") is not None:
        return int(split["sizes"][1])
    return 0 if float(split.get("fractions", [0.7, 0.2, 0.1])[1]) == 0 else None


def _check_patience(name: str, ds: dict, config: dict) -> None:
    """Early stopping watches the validation split: ``patience`` wherever a model of this dataset is trained
    (the original and defended models, retraining, seed 003's robust models) needs validation inputs."""
    where = [(f"datasets.{name}.train.patience", ds.get("train", {})),
             ("retrain.train.patience", (config.get("retrain") or {}).get("train") or {}),
             ("deepcustom.train.patience", (config.get("deepcustom") or {}).get("train") or {})]
    for key, settings in where:
        if settings.get("patience") is not None and _validation_size(ds) == 0:
            raise ConfigError(f"{key}: early stopping watches validation accuracy, but the split of dataset {name}"
                              " gives no validation inputs; give split.fractions (or split.sizes) a validation"
                              " share or leave patience out")


def _check_attacks(config: dict) -> None:
    """Each attack's settings against its kind's own (unknown keys, types, ranges), as the attack job would."""
    from .attacks import attack_settings, make_attack
    from .shifts import is_shift

    entries = [(f"attacks.{n}", a) for n, a in config["attacks"].items() if not is_shift(a["kind"])]
    entries += [(f"attacks.{n}.adv_test", a["adv_test"]) for n, a in config["attacks"].items() if a.get("adv_test")]
    entries += [(f"defences.attacks.{n}", a) for n, a in (config.get("defences") or {}).get("attacks", {}).items()
                if a.get("kind") != "none"]
    for where, attack in entries:
        settings = attack_settings(attack)
        try:
            make_attack(attack["kind"], seed=0, **settings)
        except ConfigError as err:
            key, _, rest = str(err).partition(": ")
            raise ConfigError(f"{where}.{key}: {rest}" if key in settings else f"{where}: {err}") from None


def _check_shifts(config: dict, check_data: bool = True) -> None:
    """Each shift of the grid against every dataset: its settings, a corruption's image channels, a label
    shift's priors per class, a natural shift's source (same classes and channels; its data on disk)."""
    from . import datasets
    from .shifts import SHIFTS, check_shift, is_shift

    shifts = {n: a for n, a in config["attacks"].items() if is_shift(a["kind"])}
    if shifts and config.get("deepcustom", {}).get("whitebox"):
        raise ConfigError(f"deepcustom.whitebox: re-runs the grid's attacks against each model, and "
                          f"{', '.join(shifts)} {'is a shift' if len(shifts) == 1 else 'are shifts'}; drop whitebox")
    for ds_name, ds in config["datasets"].items():
        try:
            shape, n_classes, _ = datasets.signature(ds["loader"], ds.get("root"), ds.get("options"))
        except (GuidedRetrainingError, OSError):  # a user's data not on disk (dry run): checked by the job
            shape = n_classes = None
        for name, entry in shifts.items():
            where, source_signature = f"attacks.{name}", None
            source = entry.get("source")
            reads_source = SHIFTS[entry["kind"]].reads_source
            if reads_source and isinstance(source, dict) and source.get("loader") in datasets.LOADERS:
                _check_loader_options(f"{name}.source", {"loader": source["loader"],
                                                         "options": source.get("options") or {}}, prefix="attacks")
                try:
                    source_signature = datasets.signature(source["loader"], source.get("root"),
                                                          source.get("options") or {})
                except (GuidedRetrainingError, OSError) as exc:  # a user's source not on disk
                    if check_data:
                        raise DataError(f"{where}.source: {exc}") from None
            elif reads_source and isinstance(source, dict) and "loader" in source:
                raise ConfigError(f"{where}.source.loader: {source['loader']!r} is not a loader; choose one of "
                                  f"{', '.join(datasets.LOADERS)}")
            check_shift(entry, where, shape, n_classes, source_signature)
    for name, entry in shifts.items():
        if SHIFTS[entry["kind"]].reads_source and check_data:
            try:
                datasets.check_available(entry["source"]["loader"], entry["source"].get("root"))
            except GuidedRetrainingError as exc:
                raise DataError(f"attacks.{name}.source.root: {exc}") from None


def merge_shifts(config: dict) -> None:
    """``shifts`` is another name of ``attacks`` (the grid's axis of new inputs): its entries join
    ``attacks``'s (a name in both stops the run); a config may give either or both."""
    shifts = config.pop("shifts", None)
    if shifts is None:
        return
    if not isinstance(shifts, dict):
        raise ConfigError(f"shifts: expected a mapping of names to shift or attack entries, got {shifts!r}")
    attacks = config.setdefault("attacks", {})
    if not isinstance(attacks, dict):
        return  # the schema names the problem
    both = sorted(set(shifts) & set(attacks))
    if both:
        raise ConfigError(f"shifts.{both[0]}: also a name under attacks (one axis, one name each); rename one")
    attacks.update(shifts)



def _check_metric_options(config: dict) -> None:
    """Each metric's kind, option names, types and ranges, from the metric registry."""
    from .metrics import resolve_options

    for metric, opts in config["metrics"].items():
        resolve_options(opts.get("kind", metric), opts, where=f"metrics.{metric}")


def check_or_exit(config: dict, schema_path, check_data: bool = True, check_model: bool = True) -> None:
    """Run every check; on failure print one line to stderr and exit with status 1 (no traceback)."""
    _or_exit(lambda: (merge_shifts(config), validate_schema(config, schema_path),
                      check_semantics(config, check_data, check_model)))


def check_device_or_exit(config: dict) -> None:
    """:func:`check_device` with :func:`check_or_exit`'s one line and exit status."""
    _or_exit(lambda: check_device(config))


def _or_exit(check) -> None:
    try:
        check()
    except GuidedRetrainingError as exc:
        print(f"guided-retraining: config error: {exc}", file=sys.stderr)
        sys.exit(1)
