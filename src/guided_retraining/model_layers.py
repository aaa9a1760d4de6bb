"""Layer names of any model a config names: a built-in architecture (:mod:`.architectures`, plain data,
no torch) or a user's model ``{factory, kwargs, normalize}`` (:mod:`.models.user`, imported only for
one: it imports torch). Sits above both, so neither imports the other upward."""

from __future__ import annotations

from . import architectures


def layer_names(arch) -> list[str]:
    """Names of the layers of ``arch`` in order: a built-in architecture's
    (:func:`guided_retraining.architectures.layer_names`: conv1, pool1, ..., logits) or, for a user's
    model, its module names and ``NAME.input`` of each ``nn.Linear``."""
    if isinstance(arch, dict):
        from .models import user

        return user.layer_names(user.describe(arch))
    return architectures.layer_names(arch)


def last_hidden(arch) -> str:
    """The layer the study's LSA, DSA and NC read: a built-in architecture's last hidden dense layer,
    a user's model's input of its last ``nn.Linear`` (``NAME.input``)."""
    if isinstance(arch, dict):
        from .models import user

        name = user.describe(arch).last_hidden
        if name is None:
            raise KeyError(f"{arch['factory']} has no nn.Linear: last_hidden is undefined; name a layer instead")
        return name
    return architectures.last_hidden(arch)
