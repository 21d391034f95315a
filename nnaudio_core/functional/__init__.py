"""Pure tensor functions behind the transforms (no ``nn.Module`` state), like ``torchaudio.functional``.

Transforms hold the kernels (buffers or parameters) and call these; every tensor function
branches only on shapes and configuration, never on data values, and can be scripted
(``torch.jit.script``) or compiled.

Complex pairs (:mod:`~nnaudio_core.functional.complex`)
    :func:`magnitude`, :func:`phase`
Graph capture (:mod:`~nnaudio_core.functional.capture`)
    ``exporting``, ``capturing``, ``compiling`` (which capture traces the code) and
    ``repeated_region`` (a loop body ``torch.compile`` compiles once)
Convolution (:mod:`~nnaudio_core.functional.conv`)
    :func:`strided_conv1d` (:data:`POLYPHASE_MIN_WORK`)
Short-time Fourier transform (:mod:`~nnaudio_core.functional.stft`)
    :func:`pad_frames`, :func:`stft_conv`, :func:`stft_fft`; the output formats of every spectrum:
    :func:`format_pair`, :func:`format_complex` (:data:`OUTPUT_FORMATS`)
Mel, decibels, DCT: spectrogram post-processing (:mod:`~nnaudio_core.functional.spectral`)
    :func:`power_to_db`, :func:`amplitude_to_db`, :func:`apply_filterbank`, :func:`power_spectrum`
Constant-Q transforms
    :func:`cqt1992_conv`, :func:`cqt1992_fft` with the plan builder :func:`cqt1992_fft_plan`
    (:class:`CQT1992FFTPlan`, :class:`CQT1992FFTSchedule`; :mod:`~nnaudio_core.functional.cqt1992`);
    :func:`cqt2019` with :func:`cqt2019_plan` (:class:`CQT2019Plan`, :class:`CQT2019Schedule`) and
    :func:`subsample_kernels` (:mod:`~nnaudio_core.functional.cqt2019`); shared by both:
    :func:`cqt_frame_count`, :func:`extend_signal`, :func:`scale_bins`, :func:`octave_groups`,
    :data:`PAD_MODES` (:mod:`~nnaudio_core.functional.cqt_common`). The plan builders are numpy.
"""

from .complex import magnitude, phase
from .conv import POLYPHASE_MIN_WORK, strided_conv1d
from .cqt1992 import CQT1992FFTPlan, CQT1992FFTSchedule, cqt1992_conv, cqt1992_fft, cqt1992_fft_plan
from .cqt2019 import CQT2019Plan, CQT2019Schedule, cqt2019, cqt2019_plan, subsample_kernels
from .cqt_common import PAD_MODES, cqt_frame_count, extend_signal, octave_groups, scale_bins
from .spectral import amplitude_to_db, apply_filterbank, power_spectrum, power_to_db
from .stft import OUTPUT_FORMATS, format_complex, format_pair, pad_frames, stft_conv, stft_fft

__all__ = [
    "CQT1992FFTPlan",
    "CQT1992FFTSchedule",
    "CQT2019Plan",
    "CQT2019Schedule",
    "OUTPUT_FORMATS",
    "PAD_MODES",
    "POLYPHASE_MIN_WORK",
    "amplitude_to_db",
    "apply_filterbank",
    "cqt1992_conv",
    "cqt1992_fft",
    "cqt1992_fft_plan",
    "cqt2019",
    "cqt2019_plan",
    "cqt_frame_count",
    "extend_signal",
    "format_complex",
    "format_pair",
    "magnitude",
    "octave_groups",
    "pad_frames",
    "phase",
    "power_spectrum",
    "power_to_db",
    "scale_bins",
    "stft_conv",
    "stft_fft",
    "strided_conv1d",
    "subsample_kernels",
]
