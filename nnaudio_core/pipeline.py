""":class:`Pipeline`: registered transforms applied in order, as one ``nn.Module``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from .kinds import ALL_KINDS, FEATURES, SPECTRAL_KINDS, WAVEFORM, SignalInfo
from .transform import KernelTransform

DTYPE_NAMES = {
    torch.float32: "float32",
    torch.float64: "float64",
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
}


class Pipeline(nn.Module):
    """Transforms applied one after another (waveform → spectrogram → ...).

    Usually built from a spec with :func:`nnaudio_core.build_transform`, which checks that each
    step accepts what the previous one produces.

    Parameters
    ----------
    steps : sequence of KernelTransform
        The steps, first applied first. Each must accept what the one before produces (in kind,
        and in frequency rows for steps built for a number of rows).
    input_kind : str
        What the first step is given: ``"waveform"`` (default) or a spectrogram kind such as
        ``"power"`` (a spec's ``input``).

    Raises
    ------
    ValueError
        When there are no steps, ``input_kind`` is not a kind, or a step does not accept what the
        one before produces.

    Examples
    --------
    >>> from nnaudio_core import build_transform
    >>> pipe = build_transform({"pipeline": [{"stft": {"n_fft": 256, "output_format": "Magnitude"}}]})
    >>> pipe(torch.randn(3, 2, 1024)).shape
    torch.Size([3, 2, 129, 17])
    """

    #: Python-side metadata, kept out of TorchScript compilation.
    __jit_unused_properties__ = ["check_input", "device", "dtype", "output_kind"]

    def __init__(self, steps: Sequence[KernelTransform], *, input_kind: str = WAVEFORM) -> None:
        super().__init__()
        if not steps:
            raise ValueError("a Pipeline needs at least one step")
        if input_kind not in ALL_KINDS:
            raise ValueError(f"input_kind={input_kind!r} is not a kind; expected one of {', '.join(ALL_KINDS)}")
        self.input_kind = input_kind
        self.steps = nn.ModuleList(steps)
        info = input_info(input_kind)
        for index, step in enumerate(self.steps):
            kind = info.kind if info is not None else WAVEFORM
            if not step.accepts(kind):
                before = f"step {index - 1} ({self.steps[index - 1].name}) produces" if index else "the input is"
                takes = " or ".join(sorted(step.input_kinds))
                raise ValueError(f"step {index} ({step.name}) takes {takes} input, but {before} {kind}")
            try:
                info = step.output_info(info)
            except ValueError as exc:
                raise ValueError(f"step {index} ({step.name}): {exc}") from None

    def forward(self, x: Tensor) -> Tensor:
        """Apply every step in order; see the first step for the accepted input shapes."""
        for step in self.steps:
            x = step(x)
        return x

    def __getitem__(self, index: int) -> KernelTransform:
        return self.steps[index]  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[KernelTransform]:
        return iter(self.steps)  # type: ignore[arg-type]

    @property
    def check_input(self) -> bool:
        """Whether the first step raises on NaN/Inf input (see ``KernelTransform.check_input``)."""
        return bool(self.steps[0].check_input)

    @check_input.setter
    def check_input(self, value: bool) -> None:
        for step in self.steps:
            step.check_input = bool(value)

    def output_info(self, upstream: SignalInfo | None = None) -> SignalInfo:
        """What the last step produces: kind, sr, hop, per-row frequencies and axis names.

        Each step describes its output from the description of its input (see
        :meth:`KernelTransform.output_info`).
        """
        info = upstream if upstream is not None else input_info(self.input_kind)
        for step in self.steps:
            info = step.output_info(info)
        assert info is not None  # a pipeline has at least one step
        return info

    @property
    def output_kind(self) -> str:
        """Kind of data the last step produces (``"magnitude"``, ``"complex"``, ...)."""
        return self.output_info().kind

    @property
    def device(self) -> torch.device:
        """Device of the kernels (CPU for a pipeline without any)."""
        for tensor in list(self.parameters()) + list(self.buffers()):
            return tensor.device
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the kernels (the default dtype for a pipeline without any)."""
        for step in self.steps:
            if step.kernel_dtype is not None:
                return step.kernel_dtype
        return torch.get_default_dtype()

    def get_config(self) -> dict[str, Any]:
        """Return a spec dict that :func:`~nnaudio_core.build_transform` turns into an equal pipeline."""
        config: dict[str, Any] = {
            "device": str(self.device),
            "dtype": DTYPE_NAMES.get(self.dtype, str(self.dtype).replace("torch.", "")),
            "check_input": self.check_input,
        }
        if self.input_kind != WAVEFORM:
            config["input"] = self.input_kind
        config["pipeline"] = [{step.name: step.get_config()} for step in self.steps]
        return config


def input_info(kind: str) -> SignalInfo | None:
    """What a first step is told about an input of ``kind``: ``None`` (its own assumption) for a waveform.

    Examples
    --------
    >>> input_info("waveform") is None, input_info("power").axes
    (True, ('freq', 'frames'))
    """
    if kind == WAVEFORM:
        return None
    if kind == FEATURES:
        return SignalInfo(kind, axes=("coefficient", "frames"))
    return SignalInfo(kind, axes=("freq", "frames") if kind in SPECTRAL_KINDS else ("time",))
