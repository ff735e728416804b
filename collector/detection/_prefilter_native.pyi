"""Type stub of the Rust extension built from collector/detection/native (see prefilter.py)."""

from collections.abc import Sequence

from collector.detection.event_view import EventView, FieldRef
from collector.detection.model import CompiledRule

_Literals = Sequence[tuple[str, Sequence[int]]]
_FieldSpec = tuple[str, str | None, FieldRef, _Literals, _Literals]
_FiledSpec = tuple[int, Sequence[int], Sequence[tuple[int, Sequence[int]]]]

class NativeIndex:
    def __init__(
        self,
        groups: Sequence[tuple[Sequence[str], Sequence[_FieldSpec]]],
        filed: Sequence[_FiledSpec],
        always: Sequence[int],
        rules: Sequence[CompiledRule],
        clause_count: int,
        /,
    ) -> None: ...
    def candidates(self, view: EventView, /) -> list[CompiledRule] | None: ...
