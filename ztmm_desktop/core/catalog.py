"""The maturity model and guidance packs as immutable domain objects.

A ``Catalog`` holds pillars → functions → stage texts exactly as the standard
words them; a ``GuidancePack`` holds vendor recommendations keyed by function
and stage. Both are loaded and validated by ``catalog_load``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .errors import BadInput
from .stages import Stage


@dataclass(frozen=True)
class Function:
    """One row of the model: a pillar function or capability, with four stage texts."""

    id: str
    code: str
    name: str
    kind: str  # "function" or "capability"
    pillar_id: str
    stages: Mapping[Stage, str]

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(frozen=True)
class Pillar:
    id: str
    code: str
    name: str
    kind: str  # "pillar" or "cross_cutting"
    description: str
    functions: tuple[Function, ...]


@dataclass(frozen=True)
class Catalog:
    id: str
    version: str
    title: str
    publisher: str
    published: str
    pillars: tuple[Pillar, ...]
    _by_key: Mapping[str, Function] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Function] = {}
        for function in self.functions():
            index[function.id] = function
            index[function.code] = function
        object.__setattr__(self, "_by_key", index)

    def functions(self) -> Iterator[Function]:
        for pillar in self.pillars:
            yield from pillar.functions

    def function(self, key: str) -> Function:
        """The function whose slug id or display code is ``key``."""
        found = self._by_key.get(key.strip())
        if found is None:
            raise BadInput(f"unknown function {key!r} (use an id like identity.authentication or a code like 1.1)")
        return found

    def pillar(self, key: str) -> Pillar:
        word = key.strip().lower()
        for pillar in self.pillars:
            if word in (pillar.id, pillar.code, pillar.name.lower()):
                return pillar
        names = ", ".join(p.id for p in self.pillars)
        raise BadInput(f"unknown pillar {key!r} (expected one of: {names})")


@dataclass(frozen=True)
class Reference:
    title: str
    url: str


@dataclass(frozen=True)
class Recommendation:
    function_id: str
    stage: Stage
    product: str
    action: str
    references: tuple[Reference, ...]


@dataclass(frozen=True)
class GuidancePack:
    id: str
    version: str
    title: str
    publisher: str
    catalog_id: str
    licence: str
    attribution: str
    recommendations: tuple[Recommendation, ...]
    pillar_references: Mapping[str, tuple[Reference, ...]]
    general_references: tuple[Reference, ...]

    def for_stage(self, function_id: str, stage: Stage) -> list[Recommendation]:
        return [r for r in self.recommendations if r.function_id == function_id and r.stage == stage]

    def for_function(self, function_id: str) -> list[Recommendation]:
        return [r for r in self.recommendations if r.function_id == function_id]
