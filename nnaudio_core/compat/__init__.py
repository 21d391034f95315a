"""nnAudio 0.3's classes as thin wrappers holding the registered transforms.

``nnaudio_core.Spectrogram`` and ``nnaudio_core.features`` (nnAudio's two module names) re-export
this package; switching from nnAudio is one import line::

    from nnAudio import Spectrogram        # before
    from nnaudio_core import Spectrogram   # after

==================  ====================  ============  ==========================================
class               registered transform  module        notes
==================  ====================  ============  ==========================================
``STFT``            ``stft``              ``stft``      ``inverse`` is ``istft``'s (``iSTFT`` accepted)
``iSTFT``           ``istft``             ``stft``      ``(batch, freq, time, 2)`` input, ``onesided``
``Griffin_Lim``     ``griffin_lim``       ``stft``      nnAudio's own fails on torch >= 2.0
``MelSpectrogram``  ``mel``               ``mel``       ``trainable_mel`` / ``trainable_STFT``: the transform's
                                                        ``trainable_filters`` / ``trainable_stft``
``MFCC``            ``mfcc``              ``mel``       ``norm`` is honoured (nnAudio always applied ``"ortho"``)
``CQT1992v2``       ``cqt1992``           ``cqt``       nnAudio's kernel lengths ``ceil(Q * sr / f)``
``CQT``             ``cqt1992``           ``cqt``       the same class as ``CQT1992v2``, as in nnAudio
``CQT1992``         ``cqt1992``           ``cqt``       nnAudio's frequency-domain variant: the same transform
``CQT2010v2``       ``cqt2019``           ``cqt``       multirate; any ``hop_length``; ``fmax`` is honoured
``CQT2019``         ``cqt2019``           ``cqt``       the same class as ``CQT2010v2`` (the seed README's name)
``CQT2010``         ``cqt2019``           ``cqt``       the library's CQT (nnAudio's own ``CQT2010`` differs)
``VQT``             ``vqt``               ``cqt``       nnAudio's variable-Q lengths; any ``hop_length``
``Gammatonegram``   ``gammatonegram``     ``features``  ``trainable_bins`` / ``trainable_STFT``: the transform's
                                                        ``trainable_filters`` / ``trainable_stft``; ``htk`` and
                                                        ``norm`` have no effect (as in nnAudio) and warn
``Combined_Freq``   ``cfp``               ``features``  ``Combined_Frequency_Periodicity``: the tuple
``uency_Periodic``                                      ``(Z, tfrL0, tfrLF, tfrLQ)`` without the first and last
``ity``                                                 frame (``output_format="all"``)
``CFP``             ``cfp``               ``features``  ``Z`` only, every frame (as nnAudio's ``CFP``)
``iCQT``            ``icqt``              ``cqt``       nnAudio2's inverse CQT; conjugate gradient, not Landweber
==================  ====================  ============  ==========================================

The rules:

* every class is a plain ``nn.Module`` with nnAudio 0.3.4's constructor and ``forward``
  signatures (names, order, defaults); it builds ``get_transform(name)(**params)`` once and holds
  it as its child ``transform``, which computes every number. The wrapper only converts layouts
  (:mod:`nnaudio_core.compat._layout`) and, for the CQTs, applies nnAudio's per-bin factors;
* trainability is the transform's: ``trainable`` (``STFT``, ``CQT1992v2``, ``CQT2010v2``),
  ``trainable_CQT`` (``CQT1992``), ``trainable_mel`` / ``trainable_STFT`` (``MelSpectrogram``,
  ``MFCC``); parameters live in the child, so state-dict keys start with ``transform.``
  (``transform.fourier``, ``transform.mel_scale.mel_basis``, ``transform.cqt_kernels``);
* nnAudio's attributes that models use are read-only properties forwarding to the transform
  (``bins2freq``, ``mel_basis``, ``stft``, ``melspec_layer``, ``frequencies``) and so are the
  kernels (``fourier``, ``cqt_kernels``); anything else is on ``layer.transform``.

Layouts, as nnAudio 0.3.4 returns them:

* input ``(len,)``, ``(batch, len)`` or ``(batch, 1, len)`` gives ``(batch, freq, frames)``
  (a ``(len,)`` input gives a batch of one); ``(batch, channels, len)`` with ``channels > 1``,
  which nnAudio rejects, gives ``(batch, channels, freq, frames)``;
* ``"Complex"``: a real tensor ``(..., freq, frames, 2)`` holding ``(real, imag)``;
* ``"Phase"``: the STFT returns the angle in radians ``(..., freq, frames)``; the CQTs return
  ``(cos, sin)`` of the angle in a last dimension of 2;
* ``forward(x, output_format=...)`` overrides the constructor's format for one call, and the CQTs'
  ``forward(x, normalization_type=...)`` chooses ``"librosa"``, ``"convolutional"`` or ``"wrap"``.

Where nnAudio 0.3.4 misbehaves these classes do the right thing instead (all listed in
``docs/migrating-from-nnaudio.md``): any ``hop_length`` works in ``CQT2010v2``; clips shorter than
the longest CQT kernel work with ``pad_mode="reflect"``; an unknown ``freq_scale``,
``output_format`` or ``normalization_type`` raises :class:`~nnaudio_core.errors.ParameterError`;
magnitudes have a finite gradient at zero; ``CQT2010v2`` with early downsampling or
``basis_norm=2`` gives the same values as ``CQT1992v2``. ``verbose=True`` logs through the logger
``"nnaudio_core.Spectrogram"`` at INFO level; nothing is printed. nnAudio classes not provided
(``Gammatonegram``, ``CFP``, ...) raise ``AttributeError`` naming the alternative.

Examples
--------
>>> from nnaudio_core import Spectrogram, get_transform
>>> layer = Spectrogram.STFT(n_fft=512, verbose=False)
>>> isinstance(layer.transform, get_transform("stft"))
True
>>> layer(torch.randn(4096)).shape
torch.Size([1, 257, 33, 2])
"""

from __future__ import annotations

from typing import Any

from ._layout import UNSUPPORTED, missing_attribute
from .cqt import CQT, CQT1992, CQT2010, CQT2019, VQT, CQT1992v2, CQT2010v2, iCQT
from .features import CFP, Combined_Frequency_Periodicity, Gammatonegram
from .mel import MFCC, MelSpectrogram
from .stft import STFT, Griffin_Lim, STFTBase, iSTFT

__all__ = [
    "CFP", "CQT", "CQT1992", "CQT1992v2", "CQT2010", "CQT2010v2", "CQT2019", "VQT",
    "MFCC", "STFT", "STFTBase", "UNSUPPORTED", "Combined_Frequency_Periodicity", "Gammatonegram", "MelSpectrogram", "iCQT", "iSTFT",
    "Griffin_Lim",
]


def __getattr__(name: str) -> Any:
    raise missing_attribute(__name__, name, __all__)
