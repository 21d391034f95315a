"""Pure tensor functions behind the transforms (no ``nn.Module`` state), like ``torchaudio.functional``.

Transforms hold the kernels (buffers or parameters) and call these; every function branches only
on shapes and configuration, never on data values, so they can be scripted or compiled.

Complex pairs (:mod:`~nnaudio_core.functional.complex`)
    :func:`magnitude`, :func:`phase`, :func:`safe_sqrt`
Convolution (:mod:`~nnaudio_core.functional.conv`)
    :func:`strided_conv1d` (:data:`POLYPHASE_MIN_WORK`)
Spectrogram post-processing (:mod:`~nnaudio_core.functional.spectral`)
    :func:`power_to_db`, :func:`amplitude_to_db`, :func:`apply_filterbank`, :func:`power_spectrum`
"""

from .complex import magnitude, phase, safe_sqrt
from .conv import POLYPHASE_MIN_WORK, strided_conv1d
from .spectral import amplitude_to_db, apply_filterbank, power_spectrum, power_to_db

__all__ = [
    "POLYPHASE_MIN_WORK",
    "amplitude_to_db",
    "apply_filterbank",
    "magnitude",
    "phase",
    "power_spectrum",
    "power_to_db",
    "safe_sqrt",
    "strided_conv1d",
]
