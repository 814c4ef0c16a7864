"""The one multilayer-perceptron builder every network uses.

``mlp(n_in, widths)`` stacks one block per entry of ``widths`` (the output width of each
layer, the last one included) into an ``nn.Sequential``.  A block is::

    [norm(n_in) if norm_position == "before"]  layer(n_in, width)
    [norm(width) if norm_position == "after"]  [activation()]  [Dropout(dropout)]

The last block has the activation only with ``final_activation`` and the dropout only
with ``final_dropout``.  ``head`` modules go first (e.g. an input normalisation or
random Fourier features).  Modules are constructed in exactly the order they appear in
the Sequential, so the parameter initialisation draws from torch's global generator
follow that order too, and the ``state_dict`` keys are ``"<index>.weight"`` etc.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

Factory = Callable[..., nn.Module]


def mlp(
    n_in: int,
    widths: Sequence[int],
    *,
    activation: Factory = nn.ReLU,
    final_activation: bool = False,
    dropout: float | None = None,
    final_dropout: bool = False,
    layer: Callable[[int, int], nn.Module] = nn.Linear,
    norm: Callable[[int], nn.Module] | None = None,
    norm_position: str = "before",
    head: Sequence[nn.Module] = (),
) -> nn.Sequential:
    """MLP (..., n_in) -> (..., widths[-1]) as an ``nn.Sequential`` (see the module docstring).

    ``activation`` is a module factory (``nn.ReLU``, ``nn.GELU``, ``nn.SiLU``);
    ``dropout`` None adds no Dropout modules at all (0.0 adds inactive ones);
    ``layer`` builds the affine map of a block (default ``nn.Linear``);
    ``norm`` a normalisation of the given width, before or after the layer.
    """
    if not widths:
        raise ValueError("mlp: widths must name at least one layer")
    if norm_position not in ("before", "after"):
        raise ValueError(f"mlp: norm_position must be 'before' or 'after', got {norm_position!r}")
    modules: list[nn.Module] = list(head)
    for i, width in enumerate(widths):
        last = i == len(widths) - 1
        if norm is not None and norm_position == "before":
            modules.append(norm(n_in))
        modules.append(layer(n_in, width))
        if norm is not None and norm_position == "after":
            modules.append(norm(width))
        if not last or final_activation:
            modules.append(activation())
        if dropout is not None and (not last or final_dropout):
            modules.append(nn.Dropout(dropout))
        n_in = width
    return nn.Sequential(*modules)
