"""Parameter declarations shared by the built-in plugins, declared once.

The mel family (``mel``, ``mfcc``, ``mel_scale``), the decibel steps and the DCT step use the same
parameters; they are declared here, next to the checks that relate them, and imported by the
plugin modules. The STFT's own parameters stay with it (:data:`nnaudio_plugins.stft.STFT.params`);
composites that take them derive their declarations from there by name
(:func:`params_of`), so a fix in one place reaches every transform.

Examples
--------
>>> [p.name for p in params_of(DB_PARAMS_POWER, "top_db")]
['top_db']
>>> check_ref("max"), check_ref(-1.0) is not None
(None, True)
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable
from typing import Any

from nnaudio_core.errors import ParameterError
from nnaudio_core.kernels.mel import check_mel_norm
from nnaudio_core.params import Param

__all__ = [
    "DB_PARAMS_AMPLITUDE",
    "DB_PARAMS_POWER",
    "DCT_NORM_PARAM",
    "DCT_TYPE_PARAM",
    "FMAX_PARAM",
    "FMIN_PARAM",
    "HTK_PARAM",
    "LIFTER_PARAM",
    "N_MELS_PARAM",
    "SR_PARAM",
    "check_mel_range",
    "check_ref",
    "filter_norm",
    "mel_norm_param",
    "params_of",
]

SR_PARAM = Param("sr", 22050.0, "sample rate in Hz", type="float", low=1, high=1e7)

# -- mel filterbank ---------------------------------------------------------------------------------
N_MELS_PARAM = Param("n_mels", 128, "number of mel bands", type="int", low=1)
HTK_PARAM = Param("htk", False, "HTK mel scale (True) or Slaney's (False)", type="bool")
FMIN_PARAM = Param("fmin", 0.0, "lowest filter corner frequency in Hz", type="float", low=0)
FMAX_PARAM = Param("fmax", None, "highest filter corner frequency in Hz (None: sr / 2)", type="float", low=0,
                   low_open=True, optional=True)

_NORM_ALLOWED = (
    "1 or 'slaney' (area normalisation), None (peak 1), 'l1' (L1 norm), or a number p > 0 (p != 1), "
    "0, inf or -inf for the Lp norm of each filter"
)


def _check_transform_mel_norm(value: Any) -> str | None:
    if isinstance(value, str):
        return None if value in ("slaney", "l1") else _NORM_ALLOWED
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and check_mel_norm(value) is None:
        return None
    return _NORM_ALLOWED


def mel_norm_param(name: str = "norm", default: Any = 1) -> Param:
    """The mel filter normalisation parameter (under ``name``, with ``default``)."""
    return Param(
        name,
        default,
        "mel filter normalisation: 1 or 'slaney' (area), None (peak 1), 'l1', or a number p for the Lp norm "
        "of each filter as librosa.filters.mel",
        type="any",
        optional=True,
        check=_check_transform_mel_norm,
        allowed_text="1 or 'slaney' (area), 'l1', or a number p > 0 (p != 1), 0, inf or -inf for the Lp norm",
    )


def filter_norm(value: Any) -> Any:
    """Map a transform's mel ``norm`` to :func:`~nnaudio_core.kernels.mel.mel_filterbank`'s.

    ``1`` and ``"slaney"`` → ``"slaney"`` (nnAudio's meaning of 1), ``"l1"`` → ``1.0`` (the L1
    norm), ``None`` → ``None``, any other number → itself.

    Examples
    --------
    >>> filter_norm(1), filter_norm("l1"), filter_norm(2)
    ('slaney', 1.0, 2.0)
    """
    if value is None:
        return None
    if isinstance(value, str):
        return "slaney" if value == "slaney" else 1.0
    return "slaney" if float(value) == 1.0 else float(value)


def check_mel_range(config: dict[str, Any]) -> float:
    """Check ``fmin < fmax <= sr / 2``; return ``fmax`` with ``None`` resolved to ``sr / 2``."""
    nyquist = config["sr"] / 2
    fmax = nyquist if config["fmax"] is None else config["fmax"]
    if fmax > nyquist:
        raise ParameterError(
            "fmax", config["fmax"], f"expected 0 < fmax <= sr / 2 = {nyquist:g} Hz (Nyquist for sr={config['sr']:g}), "
            "or None for sr / 2"
        )
    if config["fmin"] >= fmax:
        raise ParameterError("fmin", config["fmin"], f"expected 0 <= fmin < fmax = {fmax:g} Hz")
    if fmax - config["fmin"] < 1e-3:  # narrower, the filters' slopes divide by (sub)normal widths
        raise ParameterError("fmax", config["fmax"], f"expected fmax >= fmin + 0.001 Hz = {config['fmin'] + 1e-3:g}")
    return fmax


# -- decibels ---------------------------------------------------------------------------------------
def check_ref(value: Any) -> str | None:
    """Validate a decibel ``ref``: a number > 0 or ``"max"``; return ``None`` or what is allowed."""
    if value == "max" and isinstance(value, str):
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return None
    return "a number > 0 (the 0 dB reference) or 'max' (each example's maximum)"


def _db_params(amin: float) -> tuple[Param, ...]:
    return (
        Param("ref", 1.0, "reference value for 0 dB, or 'max' for each example's maximum", type="any", check=check_ref,
              allowed_text="a number > 0, or 'max'"),
        Param("amin", amin, "smallest value considered before the logarithm", type="float", low=0, low_open=True),
        Param("top_db", 80.0, "dynamic range kept below each example's maximum (None: no floor)", type="float", low=0,
              optional=True),
    )


#: ``ref``, ``amin`` (1e-10) and ``top_db``, as librosa's ``power_to_db``.
DB_PARAMS_POWER = _db_params(1e-10)
#: ``ref``, ``amin`` (1e-5) and ``top_db``, as librosa's ``amplitude_to_db``.
DB_PARAMS_AMPLITUDE = _db_params(1e-5)

# -- DCT --------------------------------------------------------------------------------------------
DCT_NORM_PARAM = Param("norm", "ortho", "DCT normalisation: 'ortho' (orthonormal) or None (scipy's unnormalised)",
                       type="str", choices=("ortho",), optional=True)
DCT_TYPE_PARAM = Param("dct_type", 2, "DCT type (only 2, the type-II DCT, as nnAudio)", type="int", choices=(2,),
                       check=lambda v: None if v == 2 else "2 (only the type-II DCT is implemented, as in nnAudio)")
LIFTER_PARAM = Param("lifter", 0.0, "cepstral liftering coefficient (0: none), as librosa", type="float", low=0,
                     high=1e6, check=lambda v: None if v == 0 or v >= 1e-6 else "0 (no liftering) or a number >= 1e-6")


def params_of(declared: Iterable[Param], *names: str, **defaults: Any) -> tuple[Param, ...]:
    """The parameters ``names`` taken from ``declared`` by name, in that order, some with new defaults.

    ``params_of(STFT.params, "n_fft", "hop_length", hop_length=512)`` reuses the STFT's
    declarations (type, range, docs), changing only the default of ``hop_length``.

    Raises
    ------
    KeyError
        When a name is not declared (a renamed parameter must be renamed here too).
    """
    by_name = {p.name: p for p in declared}
    missing = [n for n in (*names, *defaults) if n not in by_name]
    if missing:
        raise KeyError(f"not declared: {', '.join(missing)}; declared: {', '.join(by_name)}")
    return tuple(
        dataclasses.replace(by_name[n], default=defaults[n]) if n in defaults else by_name[n] for n in names
    )
