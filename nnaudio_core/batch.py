"""How a folded batch maps back to examples: :class:`Batch` (a TorchScript-compatible NamedTuple).

Kept in its own module without postponed annotations, which TorchScript cannot resolve in a
NamedTuple.
"""

from collections.abc import Sequence
from typing import NamedTuple


class Batch(NamedTuple):
    """How a folded batch ``(N, *core)`` maps back to examples.

    ``N = examples * group``: row ``i`` belongs to example ``i // group``. A ``(time,)`` input is one
    example of one row, ``(batch, time)`` has ``batch`` examples of one row each and
    ``(batch, channels, time)`` has ``batch`` examples of ``channels`` rows: an example is a batch
    item with all its channels, as librosa treats a multichannel clip. Per-example operations
    (a ``top_db`` floor, ``ref="max"``) group rows with it.

    Examples
    --------
    >>> Batch.of((4, 2), 8)
    Batch(leading=[4, 2], examples=4, group=2)
    """

    leading: list[int]
    examples: int
    group: int

    @staticmethod
    def of(leading: Sequence[int], rows: int) -> "Batch":
        """The batch of a folded input with leading dims ``leading`` and ``rows`` folded rows."""
        return batch_of([int(d) for d in leading], rows)


def batch_of(leading: list[int], rows: int) -> Batch:
    """The :class:`Batch` of a folded input with leading dims ``leading`` and ``rows`` folded rows.

    Examples
    --------
    >>> batch_of([3], 3)
    Batch(leading=[3], examples=3, group=1)
    """
    examples = leading[0] if len(leading) > 0 else 1
    group = rows // examples if examples > 0 else 1
    return Batch(leading, examples, group)
