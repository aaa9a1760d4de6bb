# Rule parameters and result paths, each from one place (workflow/lib/providers.py, workflow/lib/result_paths.py).
# Each rule's params: is model_params(...) or its own config_provider(...) entries, so every rule takes the
# config sections it depends on and nothing else (a change re-runs only the jobs that read it).
from providers import MISSING as MISSING_SETTING, config_provider as _config_provider
from result_paths import result_path


def path(kind, wildcards=None, /, **values):
    """The results file of a kind (workflow/lib/result_paths.py): a wildcard pattern, or one file."""
    return result_path(R, kind, wildcards, **values)


def config_provider(*keys, default=MISSING_SETTING):
    """A params function giving the config at ``keys``; ``"{dataset}"`` etc. are the job's wildcards."""
    return _config_provider(config, *keys, default=default)


def dataset_setting(key):
    """The job's dataset's ``key`` (datasets.<dataset>.<key>)."""
    return config_provider("datasets", "{dataset}", key)


def model_params(script, *, seed=rep_seed, batch_size_eval=False, **settings):
    """The params of the rules that build the dataset's model (scripts/<script>.py), which are its code digest, the
    architecture (with a user model file's sha256), the device and determinism, the repetition's seed
    (``seed=None``: none), datasets.<dataset>.batch_size_eval if asked, and the rule's own ``settings``.
    """
    params = {
        "code": code_of(script),
        "arch": arch_param,
        "device": config_provider("device"),
        "deterministic": config_provider("deterministic"),
    }
    if batch_size_eval:
        params["batch_size_eval"] = dataset_setting("batch_size_eval")
    if seed is not None:
        params["seed"] = seed
    return {**params, **settings}


# The params and inputs of single rules
def split_settings(w):
    """datasets.<dataset>.split without per_repetition (which decides the output's path, not its content)."""
    return {
        k: v for k, v in dataset_config(w)["split"].items() if k != "per_repetition"
    }


def prepare_params(seed):
    """prepare's params: the dataset's loader settings and split, and the seed of the split."""
    return dict(
        code=code_of("prepare"),
        loader=dataset_setting("loader"),
        root=dataset_setting("root"),
        download=dataset_setting("download"),
        options=dataset_setting("options"),
        split=split_settings,
        seed=seed,
    )


def guided_attack():
    """The attack whose C2 retraining the guided defence reuses (defences.guided_attack)."""
    return config["defences"]["guided_attack"]
