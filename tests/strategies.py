"""Hypothesis strategies shared by the property tests of ``integrate`` and ``explore``."""

import math

from hypothesis import strategies as st


@st.composite
def boxes(draw, max_dim=3):
    """Valid boxes: 1 to ``max_dim`` pairs low < high of moderate size."""
    d = draw(st.integers(1, max_dim))
    lows = draw(st.lists(st.floats(-1e3, 1e3), min_size=d, max_size=d))
    widths = draw(st.lists(st.floats(1e-3, 1e3), min_size=d, max_size=d))
    return [(lo, lo + w) for lo, w in zip(lows, widths, strict=True)]


@st.composite
def bad_boxes(draw):
    """A valid box with one thing broken."""
    box = [list(p) for p in draw(boxes())]
    i = draw(st.integers(0, len(box) - 1))
    how = draw(st.sampled_from(["nan", "inf", "swap", "equal", "triple", "empty", "text", "huge"]))
    if how == "nan":
        box[i][draw(st.integers(0, 1))] = math.nan
    elif how == "inf":
        box[i][draw(st.integers(0, 1))] = draw(st.sampled_from([math.inf, -math.inf]))
    elif how == "swap":
        box[i] = box[i][::-1]
    elif how == "equal":
        box[i][1] = box[i][0]
    elif how == "triple":
        box[i].append(box[i][1] + 1.0)
    elif how == "empty":
        box = []
    elif how == "text":
        box[i][0] = "zero"
    else:
        box[i] = [-1e308, 1e308]
    return box
