"""Hyper-parameter checks declared as scikit-learn declares them (``_parameter_constraints``),
failing with the package's :class:`~spikeinfer.exceptions.InputError`."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    validate_parameter_constraints,
)

from .exceptions import InputError

#: Common constraints.
POSITIVE = Interval(Real, 0, None, closed="neither")
NON_NEGATIVE = Interval(Real, 0, None, closed="left")


def check_params(params: dict, constraints: dict, caller: str) -> None:
    """Raise InputError naming the first parameter that breaks its constraint; a pair
    ``(low, high)`` declared with :data:`RANGE` must also have ``0 < low <= high``."""
    try:
        validate_parameter_constraints(constraints, params, caller_name=caller)
    except InvalidParameterError as err:
        raise InputError(str(err)) from None
    for name, allowed in constraints.items():
        value = params.get(name)
        if RANGE in allowed and value is not None and not (
                len(value) == 2 and all(isinstance(v, Real) and not isinstance(v, bool) and v > 0
                                        for v in value) and value[0] <= value[1]):
            raise InputError(f"The {name!r} parameter of {caller} must be [low, high] with "
                             f"0 < low <= high, or None. Got {value!r} instead.")


#: A ``(low, high)`` pair (checked further by :func:`check_params`).
RANGE = tuple
