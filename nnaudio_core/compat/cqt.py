"""nnAudio's constant- and variable-Q classes over the registered ``cqt1992``, ``cqt2019`` and ``vqt``.

``CQT1992v2`` (also ``CQT``) and ``CQT1992`` hold ``cqt1992``, ``CQT2010v2`` (also ``CQT2019``)
and ``CQT2010`` hold ``cqt2019``, ``VQT`` holds ``vqt``, each with nnAudio's kernel lengths
(``lengths="nnaudio"``) and complex output.
:class:`NNAudioCQT` turns that output into nnAudio's: its per-bin factors for
``normalization_type`` and for unnormalised kernels, its ``center=False`` frames and its layouts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import ParameterError
from ._layout import CQT_FORMATS, NORMALIZATION_TYPES, NNAudioLayer, check_choice, forwarded, nnaudio_input
from ._layout import nnaudio_output as _nnaudio_output

__all__ = ["CQT", "CQT1992", "CQT2019", "CQT1992v2", "CQT2010", "CQT2010v2", "VQT", "NNAudioCQT", "iCQT"]


class NNAudioCQT(NNAudioLayer):
    """What the nnAudio CQT classes share: the held CQT transform turned into nnAudio's output.

    * the transform runs with its default ``normalization_type="librosa"`` (bin ``k`` times
      ``sqrt(l_k)``) and ``output_format="Complex"``;
    * ``forward``'s ``normalization_type`` multiplies bin ``k`` by the row of the buffer
      ``nnaudio_rescale`` ``(3, n_bins)`` (rows librosa, convolutional, wrap: ``1``,
      ``1 / sqrt(l_k)``, ``2 / sqrt(l_k)``), divided by ``l_k`` for unnormalised kernels
      (``norm`` falsy) as nnAudio divides them by their length; float64 values rebuilt on a
      dtype change;
    * ``center=False`` gives nnAudio's frames (see :meth:`uncentred`).

    Parameters
    ----------
    transform : str
        ``"cqt1992"``, ``"cqt2019"`` or ``"vqt"``.
    verbose : bool
        Log the construction.
    renamed : Mapping[str, str], optional
        nnAudio's names of transform parameters, for error messages.
    **params
        The transform's parameters (``output_format``: nnAudio's default format of ``forward``).
    """

    output_formats = CQT_FORMATS

    def __init__(self, transform: str, *, verbose: bool, renamed: Mapping[str, str] | None = None,
                 **params: Any) -> None:
        super().__init__(transform, verbose=verbose, renamed=renamed, lengths="nnaudio", **params)
        lengths = self.transform.kernel_lengths
        root = np.sqrt(lengths)
        rescale = np.stack([np.ones_like(root), 1.0 / root, 2.0 / root])  # relative to the transform's sqrt(l_k)
        if self.transform.config["norm"] is None:
            rescale = rescale / lengths
        self.register_exact("nnaudio_rescale", rescale)
        #: nnAudio's kernel array width ``2 ** ceil(log2(l_0))`` (sets its uncentred frames).
        self.fft_len: int = 2 ** math.ceil(math.log2(lengths[0]))

    frequencies = forwarded("frequencies", "Centre frequency of each bin in Hz, ``(n_bins,)`` (nnAudio's attribute).")
    cqt_kernels = forwarded("cqt_kernels", "The transform's time-domain kernels, real rows then imaginary: "
                            "``(2 * n_bins, 1, width)`` for ``cqt1992`` on its ``conv`` path (e.g. when trainable), "
                            "a kernel list of one tensor per octave group for ``cqt2019``.")

    def describe(self) -> str:
        t = self.transform
        freqs, c = t.frequencies, t.config
        return (f"{len(freqs)} kernels ({freqs[0]:.2f}-{freqs[-1]:.2f} Hz, longest {t.kernel_lengths[0]:.0f} "
                f"samples), sr={c['sr']:g} Hz, hop {c['hop_length']}, transform {t.name!r}")

    def forward(self, x: Tensor, output_format: str | None = None, normalization_type: str = "librosa") -> Tensor:
        """Constant-Q transform of ``x`` in nnAudio's layout.

        Parameters
        ----------
        x : torch.Tensor
            ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` (``(batch, channels, len)`` also).
        output_format : {"Magnitude", "Complex", "Phase"}, optional
            Overrides the constructor's ``output_format`` for this call.
        normalization_type : {"librosa", "convolutional", "wrap"}
            ``"librosa"``: bin ``k`` times ``sqrt(l_k)`` (librosa's scale); ``"convolutional"``:
            the plain correlation with the kernels; ``"wrap"``: times 2, so that with L1 kernels a
            unit sinusoid reads about 1.

        Returns
        -------
        torch.Tensor
            ``(batch, n_bins, frames)`` for ``"Magnitude"``, ``(batch, n_bins, frames, 2)`` for
            ``"Complex"`` (real, imag) and ``"Phase"`` (cos, sin).
        """
        fmt = self.resolve_format(output_format)
        row = NORMALIZATION_TYPES.index(check_choice(type(self).__name__, "normalization_type", normalization_type,
                                                     NORMALIZATION_TYPES))
        x = nnaudio_input(x)
        z = self.transform(x) if self.transform.center else self.uncentred(x)
        return _nnaudio_output(z * self.nnaudio_rescale[row, :, None], fmt, phase_pairs=True)

    def uncentred(self, x: Tensor) -> Tensor:
        """nnAudio's ``center=False`` frames of ``x`` (complex, as the transform gives them).

        nnAudio places every kernel in an array of ``fft_len = 2 ** ceil(log2(l_0))`` columns with
        sample ``n = 0`` at column ``fft_len // 2`` and correlates without padding, so frame ``t``
        has ``n = 0`` on sample ``t * hop_length + fft_len // 2`` and there are
        ``1 + (len - fft_len) // hop_length`` frames. The transform's own ``center=False`` frames
        put ``n = 0`` on ``t * hop_length + center_index``: dropping the first
        ``fft_len // 2 - center_index`` samples lines the two up.
        """
        t = self.transform
        length = x.shape[-1]
        if length < self.fft_len:
            raise ValueError(
                f"{type(self).__name__}: input of {length} samples is too short for center=False: nnAudio's frames "
                f"span the {self.fft_len}-sample kernel array (longest kernel {t.kernel_lengths[0]:.0f} samples at "
                f"{t.frequencies[0]:.2f} Hz); use center=True or a higher fmin"
            )
        frames = 1 + (length - self.fft_len) // t.hop_length
        return t(x[..., self.fft_len // 2 - t.center_index:])[..., :frames]


class CQT1992v2(NNAudioCQT):
    """Constant-Q transform with nnAudio's ``CQT1992v2`` arguments (also available as ``CQT``).

    Holds the registered ``cqt1992`` transform (attribute ``transform``) with nnAudio's kernel
    lengths ``l_k = ceil(Q * sr / f_k)``, ``Q = filter_scale / (2 ** (1 / bins_per_octave) - 1)``,
    each kernel's sample ``n = 0`` on the frame's sample ``t * hop_length``, as nnAudio places them.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    hop_length : int
        Samples between frames (default 512).
    fmin : float
        Frequency of the lowest bin in Hz (default 32.70).
    fmax : float, optional
        When given, ``n_bins = ceil(bins_per_octave * log2(fmax / fmin))`` and ``n_bins`` is ignored.
    n_bins : int
        Number of bins (default 84); the top bin must not exceed ``sr / 2``.
    bins_per_octave : int
        Default 12.
    filter_scale : float
        Kernel length multiplier (default 1).
    norm : float or None
        Kernel p-norm (1: L1, default; 2: L2); ``None``/``0``/``False``: unnormalised kernels
        ``window * exp(...) / l_k``, as nnAudio.
    window : str or tuple
        Kernel window (default ``"hann"``).
    center : bool
        Centred frames (default True).
    pad_mode : {"reflect", "constant"}
        Signal extension when centred; ``"reflect"`` also works for clips shorter than the
        longest kernel (reflected repeatedly), where nnAudio fails.
    trainable : bool
        The transform's ``trainable``: time-domain kernels as an ``nn.Parameter``
        (``layer.cqt_kernels``, state-dict key ``transform.cqt_kernels``).
    output_format : {"Magnitude", "Complex", "Phase"}
        Default output (``"Magnitude"``).
    verbose : bool
        Log the construction through ``logging``.

    Shape
    -----
    ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` → ``(batch, n_bins, frames)``
    (``Magnitude``) or ``(batch, n_bins, frames, 2)`` (``Complex``, ``Phase``).

    Examples
    --------
    >>> cqt_layer = CQT1992v2(sr=22050, fmin=55.0, n_bins=60, verbose=False)
    >>> cqt_layer(torch.randn(2, 22050)).shape
    torch.Size([2, 60, 44])
    >>> cqt_layer(torch.randn(22050), output_format="Complex", normalization_type="wrap").shape
    torch.Size([1, 60, 44, 2])
    """

    def __init__(
        self,
        sr: float = 22050,
        hop_length: int = 512,
        fmin: float = 32.70,
        fmax: float | None = None,
        n_bins: int = 84,
        bins_per_octave: int = 12,
        filter_scale: float = 1,
        norm: Any = 1,
        window: Any = "hann",
        center: bool = True,
        pad_mode: str = "reflect",
        trainable: bool = False,
        output_format: str = "Magnitude",
        verbose: bool = True,
    ) -> None:
        super().__init__("cqt1992", verbose=verbose, sr=sr, hop_length=hop_length, fmin=fmin, fmax=fmax,
                         n_bins=n_bins, bins_per_octave=bins_per_octave, filter_scale=filter_scale, norm=norm,
                         window=window, center=center, pad_mode=pad_mode, trainable=trainable,
                         output_format=output_format)


#: nnAudio's ``CQT`` is ``CQT1992v2``.
CQT = CQT1992v2


class CQT1992(NNAudioCQT):
    """nnAudio's ``CQT1992`` (frequency-domain kernels): the same transform as :class:`CQT1992v2`.

    nnAudio multiplies a rectangular-window STFT by the kernels' spectra; that computes the same
    correlation as ``CQT1992v2`` (within 1e-4 in nnAudio). Here both hold the registered
    ``cqt1992`` transform, whose frozen-kernel path is itself an FFT algorithm. nnAudio's
    ``Phase`` output of this class is the conjugate of its ``Complex`` output; here it is the
    phase of the ``Complex`` output, as in ``CQT1992v2``.

    Parameters
    ----------
    sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, output_format, norm, window, \
center, pad_mode
        As :class:`CQT1992v2` (note nnAudio's defaults here: ``fmin=220``, and the argument order).
    trainable_STFT : bool
        Only ``False``: there is no separate Fourier stage to train (``True`` raises
        ``NotImplementedError``; use ``trainable_CQT=True``).
    trainable_CQT : bool
        The transform's ``trainable``: the constant-Q kernels become an ``nn.Parameter``
        (time-domain kernels, ``layer.cqt_kernels``).

    Shape
    -----
    As :class:`CQT1992v2`.

    Examples
    --------
    >>> cqt_layer = CQT1992(n_bins=48)
    >>> cqt_layer(torch.randn(22050)).shape
    torch.Size([1, 48, 44])
    """

    def __init__(
        self,
        sr: float = 22050,
        hop_length: int = 512,
        fmin: float = 220,
        fmax: float | None = None,
        n_bins: int = 84,
        trainable_STFT: bool = False,  # noqa: N803 (nnAudio's name)
        trainable_CQT: bool = False,  # noqa: N803 (nnAudio's name)
        bins_per_octave: int = 12,
        filter_scale: float = 1,
        output_format: str = "Magnitude",
        norm: Any = 1,
        window: Any = "hann",
        center: bool = True,
        pad_mode: str = "reflect",
    ) -> None:
        if trainable_STFT:
            raise NotImplementedError(
                f"{type(self).__name__}: trainable_STFT=True is not supported: the transform correlates the signal "
                "with the constant-Q kernels directly, with no separate Fourier stage; use trainable_CQT=True to "
                "train the kernels"
            )
        # nnAudio's CQT1992 has no verbose argument and always reports its kernels
        super().__init__("cqt1992", verbose=True, renamed={"trainable": "trainable_CQT"}, sr=sr,
                         hop_length=hop_length, fmin=fmin, fmax=fmax, n_bins=n_bins, bins_per_octave=bins_per_octave,
                         filter_scale=filter_scale, norm=norm, window=window, center=center, pad_mode=pad_mode,
                         trainable=trainable_CQT, output_format=output_format)


class CQT2010v2(NNAudioCQT):
    """Multirate constant-Q transform with nnAudio's ``CQT2010v2`` arguments (also ``CQT2019``).

    Holds the registered ``cqt2019`` transform (attribute ``transform``) with nnAudio's kernel
    lengths: the same function as :class:`CQT1992v2` (within 1e-3, typically 1e-5), computed
    octave by octave at reduced sample rates. nnAudio's own ``CQT2010v2`` is 0.3-1 % away from
    its ``CQT1992v2`` and fails for some hop lengths; see ``docs/migrating-from-nnaudio.md``.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    hop_length : int
        Samples between frames (default 512); any value (nnAudio needs it divisible by
        ``2 ** (octaves - 1)``).
    fmin : float
        Frequency of the lowest bin (default 32.70).
    fmax : float, optional
        When given, ``n_bins = ceil(bins_per_octave * log2(fmax / fmin))`` (nnAudio 0.3.4
        ignores ``fmax`` in this class).
    n_bins : int
        Number of bins (default 84).
    filter_scale : float
        Kernel length multiplier (default 1).
    bins_per_octave : int
        Default 12.
    norm : bool
        Only ``True``: the output is scaled as ``normalization_type`` says. nnAudio 0.3.4 accepts
        this argument and ignores it, so ``False`` raises
        :class:`~nnaudio_core.errors.ParameterError` (use ``normalization_type="convolutional"``).
    basis_norm : float or None
        The transform's kernel ``norm`` (1: L1, default); ``None``/``0``: unnormalised kernels
        divided by their length, as in :class:`CQT1992v2`.
    window : str or tuple
        Kernel window (default ``"hann"``).
    pad_mode : {"reflect", "constant"}
        Signal extension (frames are always centred, as in nnAudio).
    earlydownsample : bool
        Let the top octave run below the full rate when its kernels allow (default True). Speed
        only: the values do not change (in nnAudio they were scaled by the downsampling factor).
    trainable : bool
        The transform's ``trainable``: per-octave kernels as ``nn.Parameter`` objects (the kernel
        list ``layer.cqt_kernels``, state-dict keys ``transform.cqt_kernels.0.value``, ...).
    output_format : {"Magnitude", "Complex", "Phase"}
        Default output (``"Magnitude"``).
    verbose : bool
        Log the construction through ``logging``.

    Shape
    -----
    As :class:`CQT1992v2`.

    Examples
    --------
    >>> cqt_layer = CQT2010v2(sr=44100, n_bins=84 * 2, bins_per_octave=24, fmin=55, verbose=False)
    >>> cqt_layer(torch.randn(2, 44100)).shape
    torch.Size([2, 168, 87])
    >>> CQT2010v2(hop_length=500, verbose=False)(torch.randn(22050)).shape
    torch.Size([1, 84, 45])
    """

    def __init__(
        self,
        sr: float = 22050,
        hop_length: int = 512,
        fmin: float = 32.70,
        fmax: float | None = None,
        n_bins: int = 84,
        filter_scale: float = 1,
        bins_per_octave: int = 12,
        norm: bool = True,
        basis_norm: Any = 1,
        window: Any = "hann",
        pad_mode: str = "reflect",
        earlydownsample: bool = True,
        trainable: bool = False,
        output_format: str = "Magnitude",
        verbose: bool = True,
    ) -> None:
        _check_ignored_norm(type(self).__name__, norm)
        super().__init__("cqt2019", verbose=verbose, renamed={"norm": "basis_norm"}, sr=sr, hop_length=hop_length,
                         fmin=fmin, fmax=fmax, n_bins=n_bins, bins_per_octave=bins_per_octave,
                         filter_scale=filter_scale, norm=basis_norm, window=window, center=True, pad_mode=pad_mode,
                         trainable=trainable, output_format=output_format, earlydownsample=earlydownsample)


#: The seed README's name for ``CQT2010v2``.
CQT2019 = CQT2010v2


def _check_ignored_norm(owner: str, norm: Any) -> None:
    """nnAudio's multirate classes accept ``norm`` and ignore it: only ``True`` is allowed here."""
    if norm is not True and norm != 1:
        raise ParameterError(
            "norm", norm, f"expected True: nnAudio 0.3.4 accepts {owner}'s norm but ignores it (its output is "
            "always scaled as forward's normalization_type says); for the unscaled correlation call "
            "forward(x, normalization_type='convolutional')", context=owner,
        )


class CQT2010(NNAudioCQT):
    """nnAudio's ``CQT2010`` (multirate, frequency-domain kernels): the library's CQT, multirate.

    Holds the registered ``cqt2019`` transform with nnAudio's kernel lengths, exactly as
    :class:`CQT2010v2`: the same function as :class:`CQT1992v2` (within 1e-3, typically 1e-5).
    nnAudio's own ``CQT2010`` computes a rectangular-window STFT of the top octave's kernel width
    at every level and multiplies it by the kernels' spectra; its numbers differ from its
    ``CQT1992v2`` (see ``docs/migrating-from-nnaudio.md``).

    Parameters
    ----------
    sr, hop_length, fmin, fmax, n_bins, bins_per_octave, basis_norm, window, pad_mode, filter_scale, \
output_format, earlydownsample, verbose
        As :class:`CQT2010v2` (nnAudio's argument order differs; any ``hop_length`` works).
    norm : bool
        Only ``True`` (nnAudio 0.3.4 accepts it and ignores it).
    trainable_STFT : bool
        Only ``False``: there is no separate Fourier stage to train (``True`` raises
        ``NotImplementedError``; use ``trainable_CQT=True``).
    trainable_CQT : bool
        The transform's ``trainable``: the per-octave time-domain kernels become ``nn.Parameter``
        objects (``layer.cqt_kernels``).

    Shape
    -----
    As :class:`CQT1992v2`.

    Examples
    --------
    >>> cqt_layer = CQT2010(hop_length=500, verbose=False)
    >>> cqt_layer(torch.randn(22050)).shape
    torch.Size([1, 84, 45])
    """

    def __init__(
        self,
        sr: float = 22050,
        hop_length: int = 512,
        fmin: float = 32.70,
        fmax: float | None = None,
        n_bins: int = 84,
        bins_per_octave: int = 12,
        norm: bool = True,
        basis_norm: Any = 1,
        window: Any = "hann",
        pad_mode: str = "reflect",
        trainable_STFT: bool = False,  # noqa: N803 (nnAudio's name)
        filter_scale: float = 1,
        trainable_CQT: bool = False,  # noqa: N803 (nnAudio's name)
        output_format: str = "Magnitude",
        earlydownsample: bool = True,
        verbose: bool = True,
    ) -> None:
        if trainable_STFT:
            raise NotImplementedError(
                f"{type(self).__name__}: trainable_STFT=True is not supported: the transform correlates the signal "
                "with the constant-Q kernels directly, with no separate Fourier stage; use trainable_CQT=True to "
                "train the kernels"
            )
        _check_ignored_norm(type(self).__name__, norm)
        super().__init__("cqt2019", verbose=verbose, renamed={"norm": "basis_norm", "trainable": "trainable_CQT"},
                         sr=sr, hop_length=hop_length, fmin=fmin, fmax=fmax, n_bins=n_bins,
                         bins_per_octave=bins_per_octave, filter_scale=filter_scale, norm=basis_norm, window=window,
                         center=True, pad_mode=pad_mode, trainable=trainable_CQT, output_format=output_format,
                         earlydownsample=earlydownsample)


class VQT(NNAudioCQT):
    """Variable-Q transform with nnAudio's ``VQT`` arguments (multirate, any hop length).

    Holds the registered ``vqt`` transform with nnAudio's lengths
    ``l_k = ceil(Q * sr / (f_k + gamma / a))``, ``a = 2 ** (1 / bins_per_octave) - 1``,
    ``Q = filter_scale / a``: the constant-Q definition of :class:`CQT1992v2` with these lengths
    (``gamma=0`` is :class:`CQT2010v2`). It also works on GPU and for hops that are not powers of
    two, where nnAudio 0.3.4's ``VQT`` fails (nnAudio issues #117, #137).

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 22050).
    hop_length : int
        Samples between frames (default 512); any value.
    fmin : float
        Frequency of the lowest bin (default 32.70).
    fmax : float, optional
        When given, ``n_bins = ceil(bins_per_octave * log2(fmax / fmin))`` (nnAudio 0.3.4 ignores
        it).
    n_bins : int
        Number of bins (default 84).
    filter_scale : float
        Kernel length multiplier (default 1).
    bins_per_octave : int
        Default 12.
    norm : bool
        Only ``True`` (nnAudio 0.3.4 accepts it and ignores it).
    basis_norm : float or None
        Kernel ``norm`` (1: L1, default); ``None``/``0``: unnormalised kernels divided by their
        length, as nnAudio.
    gamma : float
        Bandwidth offset in Hz, ``>= 0`` (default 0: the constant-Q transform); ``None`` is
        librosa's ERB rule here (nnAudio has no such option).
    window : str or tuple
        Kernel window (default ``"hann"``).
    pad_mode : {"reflect", "constant"}
        Signal extension (frames are always centred, as in nnAudio).
    earlydownsample : bool
        Let the top octave run below the full rate when its kernels allow (speed only).
    trainable : bool
        Per-octave kernels as ``nn.Parameter`` objects (``layer.cqt_kernels``).
    output_format : {"Magnitude", "Complex", "Phase"}
        Default output (``"Magnitude"``).
    verbose : bool
        Log the construction through ``logging``.

    Shape
    -----
    As :class:`CQT1992v2`.

    Examples
    --------
    >>> vqt_layer = VQT(gamma=5.0, hop_length=300, verbose=False)
    >>> vqt_layer(torch.randn(2, 22050)).shape
    torch.Size([2, 84, 74])
    """

    def __init__(
        self,
        sr: float = 22050,
        hop_length: int = 512,
        fmin: float = 32.70,
        fmax: float | None = None,
        n_bins: int = 84,
        filter_scale: float = 1,
        bins_per_octave: int = 12,
        norm: bool = True,
        basis_norm: Any = 1,
        gamma: float | None = 0,
        window: Any = "hann",
        pad_mode: str = "reflect",
        earlydownsample: bool = True,
        trainable: bool = False,
        output_format: str = "Magnitude",
        verbose: bool = True,
    ) -> None:
        _check_ignored_norm(type(self).__name__, norm)
        super().__init__("vqt", verbose=verbose, renamed={"norm": "basis_norm"}, sr=sr, hop_length=hop_length,
                         fmin=fmin, fmax=fmax, n_bins=n_bins, bins_per_octave=bins_per_octave,
                         filter_scale=filter_scale, norm=basis_norm, gamma=gamma, window=window, center=True,
                         pad_mode=pad_mode, trainable=trainable, output_format=output_format,
                         earlydownsample=earlydownsample)


class iCQT(NNAudioLayer):  # noqa: N801 (nnAudio's name)
    """Inverse constant-Q transform with nnAudio2's ``iCQT`` arguments: complex CQT → waveform.

    Holds the registered ``icqt`` transform (attribute ``transform``) with nnAudio's kernel lengths,
    so it inverts the output of :class:`CQT1992v2` (or :class:`CQT2010v2`, the same function) with
    ``output_format="Complex"`` and ``normalization_type="librosa"`` built with the same arguments.
    nnAudio2 runs ``n_iter`` Landweber iterations from zero; here ``n_iter`` conjugate-gradient steps
    refine the one-shot inverse (librosa's ``icqt`` for these kernels), which converges much faster
    (see ``docs/inverse-cqt.md``); ``n_iter=0`` is the one-shot inverse alone.

    Parameters
    ----------
    sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center, pad_mode
        Those of the CQT that produced the input (as :class:`CQT1992v2`).
    n_iter : int
        Conjugate-gradient steps (default 32, nnAudio2's number of Landweber iterations).
    verbose : bool
        Log the construction through ``logging``.

    Shape
    -----
    ``(batch, n_bins, frames, 2)`` (nnAudio's real, imaginary pairs) or a complex
    ``(batch, n_bins, frames)`` → ``(batch, length)``; ``length`` defaults to
    ``(frames - 1) * hop_length + 1`` as nnAudio2.

    Examples
    --------
    >>> cqt_layer = CQT1992v2(sr=8000, fmin=100.0, n_bins=48, hop_length=64, output_format="Complex", verbose=False)
    >>> inverse = iCQT(sr=8000, fmin=100.0, n_bins=48, hop_length=64, n_iter=4, verbose=False)
    >>> x = torch.randn(2, 8000)
    >>> inverse(cqt_layer(x), length=8000).shape
    torch.Size([2, 8000])
    """

    def __init__(
        self,
        sr: float = 22050,
        hop_length: int = 512,
        fmin: float = 32.70,
        fmax: float | None = None,
        n_bins: int = 84,
        bins_per_octave: int = 12,
        filter_scale: float = 1,
        norm: Any = 1,
        window: Any = "hann",
        center: bool = True,
        pad_mode: str = "reflect",
        n_iter: int = 32,
        verbose: bool = True,
    ) -> None:
        super().__init__("icqt", verbose=verbose, sr=sr, hop_length=hop_length, fmin=fmin, fmax=fmax, n_bins=n_bins,
                         bins_per_octave=bins_per_octave, filter_scale=filter_scale, norm=norm, window=window,
                         center=center, pad_mode=pad_mode, lengths="nnaudio", n_iter=n_iter)
        cqt = self.transform.cqt
        lengths = cqt.kernel_lengths
        # nnAudio divides unnormalised kernels by their length (see NNAudioCQT): undo it
        self.register_exact("nnaudio_rescale", lengths if cqt.config["norm"] is None else np.ones_like(lengths))
        #: nnAudio's kernel array width ``2 ** ceil(log2(l_0))``; its uncentred frames start
        #: ``fft_len // 2 - center_index`` samples later than the transform's (see NNAudioCQT.uncentred).
        self.shift: int = 2 ** math.ceil(math.log2(lengths[0])) // 2 - cqt.center_index

    def describe(self) -> str:
        t = self.transform.cqt
        return (f"{t.n_bins} kernels ({t.frequencies[0]:.2f}-{t.frequencies[-1]:.2f} Hz), sr={t.config['sr']:g} Hz, "
                f"hop {t.hop_length}, {self.transform.n_iter} conjugate-gradient steps")

    def forward(self, CQT: Tensor, length: int | None = None) -> Tensor:  # noqa: N803 (nnAudio's name)
        """Reconstruct a waveform from a complex CQT.

        Parameters
        ----------
        CQT : torch.Tensor
            ``(batch, n_bins, frames, 2)`` real pairs (nnAudio's ``"Complex"``) or complex
            ``(batch, n_bins, frames)``.
        length : int, optional
            Samples to return (trimmed or zero-padded); default ``(frames - 1) * hop_length + 1``.

        Returns
        -------
        torch.Tensor, shape (batch, length)
        """
        z = CQT
        if not z.is_complex():
            if z.dim() < 3 or z.shape[-1] != 2:
                raise ValueError(f"iCQT: input of shape {tuple(z.shape)} is neither complex nor nnAudio's "
                                 "(batch, n_bins, frames, 2) pairs of real and imaginary parts")
            z = torch.view_as_complex(z.contiguous())
        z = z * self.nnaudio_rescale[:, None]
        if length is None:
            length = (z.shape[-1] - 1) * self.transform.hop_length + 1
        if self.transform.center:
            return self.transform(z, length=length)
        if length <= self.shift:
            raise ValueError(f"iCQT: length={length} is too short for center=False (nnAudio's frames start "
                             f"{self.shift} samples into the clip)")
        y = self.transform(z, length=length - self.shift)
        return torch.nn.functional.pad(y, [self.shift, 0])
