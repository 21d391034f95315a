"""Limits of floating dtypes as TorchScript-compatible functions (``torch.finfo`` is not scriptable).

Also the rule for half precision: which dtypes are computed in float32 where their range or an
operator's support falls short.
"""

import torch

__all__ = ["dtype_eps", "dtype_max", "dtype_tiny", "is_half"]


def is_half(dtype: torch.dtype) -> bool:
    """Whether ``dtype`` is ``float16`` or ``bfloat16``.

    Examples
    --------
    >>> is_half(torch.bfloat16), is_half(torch.float32)
    (True, False)
    """
    return dtype == torch.float16 or dtype == torch.bfloat16


def dtype_tiny(dtype: torch.dtype) -> float:
    """The smallest positive normal number of a floating dtype (``torch.finfo(dtype).tiny``, scriptable).

    Examples
    --------
    >>> dtype_tiny(torch.float16) == torch.finfo(torch.float16).tiny
    True
    """
    if dtype == torch.float16:
        return 6.103515625e-05
    if dtype == torch.bfloat16 or dtype == torch.float32:
        return 1.1754943508222875e-38
    return 2.2250738585072014e-308


def dtype_max(dtype: torch.dtype) -> float:
    """The largest finite number of a floating dtype (``torch.finfo(dtype).max``, scriptable).

    Examples
    --------
    >>> dtype_max(torch.bfloat16) == torch.finfo(torch.bfloat16).max
    True
    """
    if dtype == torch.float16:
        return 65504.0
    if dtype == torch.bfloat16:
        return 3.3895313892515355e38
    if dtype == torch.float32:
        return 3.4028234663852886e38
    return 1.7976931348623157e308


def dtype_eps(dtype: torch.dtype) -> float:
    """The machine epsilon of a floating dtype (``torch.finfo(dtype).eps``, scriptable).

    Examples
    --------
    >>> dtype_eps(torch.float32) == torch.finfo(torch.float32).eps
    True
    """
    if dtype == torch.float16:
        return 0.0009765625
    if dtype == torch.bfloat16:
        return 0.0078125
    if dtype == torch.float32:
        return 1.1920928955078125e-07
    return 2.220446049250313e-16
