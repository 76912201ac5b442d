"""Load and validate catalog and guidance-pack YAML files.

Every problem is reported as a ``CatalogError`` naming the file, the location
(a path like ``pillars[0].functions[2].stages`` and its line) and the reason,
never as a traceback. Duplicate keys, which plain YAML loading would silently
merge, are refused too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .catalog import Catalog, Function, GuidancePack, Pillar, Recommendation, Reference
from .errors import BadInput, CatalogError
from .stages import Stage

SLUG = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
IDENT = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
CODE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
#: Any whitespace (the characters ``str.isspace`` accepts), found in one pass instead of a call per character.
SPACE = re.compile(r"\s")
MAX_FILE_BYTES = 5 * 1024 * 1024
#: libyaml's composer when PyYAML was built with it (several times faster); same nodes and marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Node:
    """A YAML node with its file and path, for precise error messages."""

    def __init__(self, node: yaml.Node, file: str, path: str) -> None:
        self.node = node
        self.file = file
        self.path = path

    def fail(self, reason: str) -> CatalogError:
        line = self.node.start_mark.line + 1
        where = f"{self.path or 'top level'} (line {line})"
        return CatalogError(self.file, where, reason)

    def mapping(self) -> dict[str, Node]:
        if not isinstance(self.node, yaml.MappingNode):
            raise self.fail("expected a mapping")
        out: dict[str, Node] = {}
        for key_node, value_node in self.node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise Node(key_node, self.file, self.path).fail("mapping keys must be text")
            child = Node(value_node, self.file, f"{self.path}.{key}" if self.path else key)
            if key in out:
                raise Node(key_node, self.file, child.path).fail(f"duplicate key {key!r}")
            out[key] = child
        return out

    def items(self) -> Iterator[Node]:
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.fail("expected a list")
        for index, item in enumerate(self.node.value):
            yield Node(item, self.file, f"{self.path}[{index}]")

    def text(self) -> str:
        if not isinstance(self.node, yaml.ScalarNode) or self.node.tag == "tag:yaml.org,2002:null":
            raise self.fail("expected text")
        value = str(self.node.value).strip()
        if not value:
            raise self.fail("must not be empty")
        return value

    def raw_text(self) -> str:
        """The scalar exactly as written (stage texts are kept to the letter)."""
        self.text()
        return str(self.node.value)


class Fields:
    """The keys of one mapping node, checked against what the schema allows."""

    def __init__(self, node: Node, required: set[str], optional: frozenset[str] = frozenset()) -> None:
        self.node = node
        self.values = node.mapping()
        missing = sorted(required - self.values.keys())
        if missing:
            raise node.fail(f"missing key {missing[0]!r}")
        unknown = sorted(self.values.keys() - required - optional)
        if unknown:
            raise self.values[unknown[0]].fail(f"unknown key {unknown[0]!r}")

    def __getitem__(self, key: str) -> Node:
        return self.values[key]

    def get(self, key: str) -> Node | None:
        return self.values.get(key)


def _compose(path: Path) -> Node:
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise CatalogError(name, "", f"cannot read file ({err.strerror or err})") from None
    if size > MAX_FILE_BYTES:
        raise CatalogError(name, "", f"file is larger than {MAX_FILE_BYTES} bytes")
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise CatalogError(name, f"byte {err.start}", "file is not UTF-8 text") from None
    try:
        node = yaml.compose(raw, Loader=_LOADER)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CatalogError(name, where, f"not valid YAML: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise CatalogError(name, "", f"not valid YAML: {err}") from None
    if node is None:
        raise CatalogError(name, "", "file is empty")
    return Node(node, name, "")


def _slug(node: Node) -> str:
    value = node.text()
    if not SLUG.match(value):
        raise node.fail(f"{value!r} is not a valid id (lowercase letters, digits, '_', one '.')")
    return value


def _ident(node: Node) -> str:
    value = node.text()
    if not IDENT.match(value):
        raise node.fail(f"{value!r} is not a valid identifier (lowercase letters, digits, '.', '_', '-')")
    return value


def _url(node: Node) -> str:
    value = node.text()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or SPACE.search(value) is not None:
        raise node.fail(f"malformed URL {value!r} (expected an absolute http(s) address)")
    return value


def load_catalog(path: Path) -> Catalog:
    """Load the maturity model from ``path`` (YAML), validating every entry."""
    top = Fields(
        _compose(path), {"id", "version", "title", "publisher", "published", "pillars"}, frozenset({"provenance"})
    )
    seen_ids: dict[str, Node] = {}
    seen_codes: dict[str, Node] = {}
    pillars: list[Pillar] = []
    for pillar_node in top["pillars"].items():
        p = Fields(pillar_node, {"id", "code", "name", "kind", "description", "functions"})
        pillar_id = _slug(p["id"])
        if "." in pillar_id:
            raise p["id"].fail(f"pillar id {pillar_id!r} must not contain '.'")
        kind = p["kind"].text()
        if kind not in ("pillar", "cross_cutting"):
            raise p["kind"].fail(f"kind must be 'pillar' or 'cross_cutting', not {kind!r}")
        functions: list[Function] = []
        for f_node in p["functions"].items():
            functions.append(_function(f_node, pillar_id, seen_ids, seen_codes))
        if not functions:
            raise p["functions"].fail("a pillar needs at least one function")
        for key, node in (("id", p["id"]), ("code", p["code"])):
            value = node.text()
            registry = seen_ids if key == "id" else seen_codes
            if value in registry:
                raise node.fail(f"duplicate {key} {value!r}")
            registry[value] = node
        pillars.append(
            Pillar(
                id=pillar_id,
                code=p["code"].text(),
                name=p["name"].text(),
                kind=kind,
                description=p["description"].text(),
                functions=tuple(functions),
            )
        )
    if not pillars:
        raise top["pillars"].fail("the catalog has no pillars")
    return Catalog(
        id=_ident(top["id"]),
        version=top["version"].text(),
        title=top["title"].text(),
        publisher=top["publisher"].text(),
        published=top["published"].text(),
        pillars=tuple(pillars),
    )


def _function(node: Node, pillar_id: str, seen_ids: dict[str, Node], seen_codes: dict[str, Node]) -> Function:
    f = Fields(node, {"id", "code", "name", "kind", "stages"})
    function_id = _slug(f["id"])
    if not function_id.startswith(pillar_id + "."):
        raise f["id"].fail(f"function id {function_id!r} must start with its pillar id {pillar_id + '.'!r}")
    if function_id in seen_ids:
        raise f["id"].fail(f"duplicate id {function_id!r}")
    seen_ids[function_id] = f["id"]
    code = f["code"].text()
    if not CODE.match(code):
        raise f["code"].fail(f"code {code!r} must look like 1.1")
    if code in seen_codes:
        raise f["code"].fail(f"duplicate code {code!r}")
    seen_codes[code] = f["code"]
    kind = f["kind"].text()
    if kind not in ("function", "capability"):
        raise f["kind"].fail(f"kind must be 'function' or 'capability', not {kind!r}")
    stage_fields = Fields(f["stages"], {s.key for s in Stage})
    stages = {stage: stage_fields[stage.key].raw_text() for stage in Stage}
    return Function(
        id=function_id,
        code=code,
        name=f["name"].text(),
        kind=kind,
        pillar_id=pillar_id,
        stages=stages,
    )


def _references(node: Node) -> tuple[Reference, ...]:
    refs = []
    for item in node.items():
        r = Fields(item, {"title", "url"})
        refs.append(Reference(title=r["title"].text(), url=_url(r["url"])))
    return tuple(refs)


PACK_KEYS = {"id", "version", "title", "publisher", "catalog", "licence", "attribution", "files"}


def load_pack(directory: Path, catalog: Catalog) -> GuidancePack:
    """Load the guidance pack in ``directory`` (``pack.yaml`` plus the files it lists)."""
    meta = Fields(_compose(directory / "pack.yaml"), PACK_KEYS, frozenset({"general"}))
    pack_id = _ident(meta["id"])
    catalog_id = meta["catalog"].text()
    if catalog_id != catalog.id:
        raise meta["catalog"].fail(f"pack is for catalog {catalog_id!r}, not {catalog.id!r}")
    attribution_node = meta["attribution"]
    attribution_path = directory / attribution_node.text()
    try:
        attribution = attribution_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise attribution_node.fail(f"attribution file {attribution_node.text()!r} cannot be read") from None
    known = {f.id: f for f in catalog.functions()}
    pillars = {p.id for p in catalog.pillars}
    recommendations: list[Recommendation] = []
    pillar_refs: dict[str, tuple[Reference, ...]] = {}
    for file_node in meta["files"].items():
        body = Fields(
            _compose(directory / file_node.text()),
            {"source", "source_url", "pillar", "recommendations"},
            frozenset({"pillar_references"}),
        )
        _url(body["source_url"])
        pillar_id = body["pillar"].text()
        if pillar_id not in pillars:
            raise body["pillar"].fail(f"unknown pillar {pillar_id!r}")
        refs_node = body.get("pillar_references")
        pillar_refs[pillar_id] = pillar_refs.get(pillar_id, ()) + (_references(refs_node) if refs_node else ())
        for rec_node in body["recommendations"].items():
            recommendations.append(_recommendation(rec_node, known, pillar_id))
    general: tuple[Reference, ...] = ()
    general_node = meta.get("general")
    if general_node is not None:
        g = Fields(_compose(directory / general_node.text()), {"source", "source_url", "references"})
        _url(g["source_url"])
        general = _references(g["references"])
    return GuidancePack(
        id=pack_id,
        version=meta["version"].text(),
        title=meta["title"].text(),
        publisher=meta["publisher"].text(),
        catalog_id=catalog_id,
        licence=meta["licence"].text(),
        attribution=attribution,
        recommendations=tuple(recommendations),
        pillar_references=pillar_refs,
        general_references=general,
    )


def _recommendation(node: Node, known: dict[str, Function], pillar_id: str) -> Recommendation:
    r = Fields(node, {"function", "stage", "product", "action", "references"})
    function_id = r["function"].text()
    function = known.get(function_id)
    if function is None:
        raise r["function"].fail(f"unknown function {function_id!r}")
    if function.pillar_id != pillar_id:
        raise r["function"].fail(f"function {function_id!r} is not in pillar {pillar_id!r}")
    stage_word = r["stage"].text()
    try:
        stage = Stage.parse(stage_word)
    except BadInput:
        raise r["stage"].fail(f"unknown stage {stage_word!r}") from None
    return Recommendation(
        function_id=function_id,
        stage=stage,
        product=r["product"].text(),
        action=r["action"].text(),
        references=_references(r["references"]),
    )
