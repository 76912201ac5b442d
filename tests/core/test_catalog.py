"""The shipped catalog is the standard's text, complete; bad catalog files are refused precisely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import REFERENCE, ROOT
from ztmm_desktop.core.catalog_load import load_catalog, load_pack
from ztmm_desktop.core.errors import BadInput, CatalogError
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.services.catalogs import default_library

CATALOG = ROOT / "catalog" / "cisa-ztmm-v2.yaml"
PACK = ROOT / "catalog" / "guidance" / "microsoft-cisa-ztmm"


def reference() -> dict:
    return json.loads((REFERENCE / "cisa-ztmm-v2" / "ztmm-v2.json").read_text(encoding="utf-8"))


def test_forty_functions_and_160_stage_texts_exactly_as_cisa_wrote_them() -> None:
    catalog = load_catalog(CATALOG)
    ref = reference()
    expected = {f["id"]: f["stages"] for p in ref["pillars"] for f in p["functions"]}
    expected.update({f["id"]: f["stages"] for f in ref["cross_cutting"]})
    functions = list(catalog.functions())
    assert len(functions) == 40
    assert sum(len(f.stages) for f in functions) == 160
    for function in functions:
        for stage in Stage:
            assert function.stages[stage] == expected[function.id][stage.label], (function.id, stage)


def test_pillars_codes_and_descriptions() -> None:
    catalog = load_catalog(CATALOG)
    ref = {p["id"]: p for p in reference()["pillars"]}
    assert [p.id for p in catalog.pillars][:5] == list(ref)
    for pillar in catalog.pillars[:5]:
        assert pillar.description == ref[pillar.id]["definition"]
        assert len(pillar.functions) == len(ref[pillar.id]["functions"])
    assert [p.code for p in catalog.pillars] == ["1", "2", "3", "4", "5", "6"]
    assert catalog.function("4.1").id == "applications_and_workloads.application_access"
    assert catalog.function("5.8").id == "data.governance"
    assert [f.code for f in catalog.pillars[5].functions] == ["6.1", "6.2", "6.3"]
    assert catalog.function("6.3").id == "cross_cutting.governance"
    assert catalog.function("identity.authentication").code == "1.1"
    with pytest.raises(BadInput, match=r"unknown function '9\.9'"):
        catalog.function("9.9")


def test_guidance_pack_loads_with_attribution_and_resolved_links() -> None:
    library = default_library()
    (pack,) = library.packs
    assert pack.licence == "CC-BY-4.0"
    assert "CC BY 4.0" in pack.attribution and "Microsoft" in pack.attribution
    assert len(pack.recommendations) > 200
    for rec in pack.recommendations:
        assert rec.action.strip() and rec.product.strip()
        for ref in rec.references:
            assert ref.url.startswith(("https://", "http://")), ref.url
    first = pack.for_stage("applications_and_workloads.application_access", Stage.INITIAL)[0]
    assert first.product == "Microsoft Entra ID applications"
    assert first.references[0].url == (
        "https://learn.microsoft.com/entra/identity/enterprise-apps/plan-an-application-integration"
    )


# -- invalid files: file, location and reason -------------------------------------


def catalog_data() -> dict:
    return yaml.safe_load(CATALOG.read_text(encoding="utf-8"))


def write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_missing_stage_names_file_location_and_reason(tmp_path: Path) -> None:
    data = catalog_data()
    del data["pillars"][1]["functions"][2]["stages"]["optimal"]
    bad = write(tmp_path / "cat.yaml", data)
    with pytest.raises(CatalogError) as caught:
        load_catalog(bad)
    err = caught.value
    assert err.file == str(bad)
    assert err.location.startswith("pillars[1].functions[2].stages (line ")
    assert err.reason == "missing key 'optimal'"


def test_duplicate_function_id(tmp_path: Path) -> None:
    data = catalog_data()
    data["pillars"][0]["functions"][1]["id"] = data["pillars"][0]["functions"][0]["id"]
    with pytest.raises(CatalogError) as caught:
        load_catalog(write(tmp_path / "cat.yaml", data))
    assert caught.value.location.startswith("pillars[0].functions[1].id (line ")
    assert caught.value.reason == "duplicate id 'identity.authentication'"


def test_duplicate_yaml_key_is_not_silently_merged(tmp_path: Path) -> None:
    text = CATALOG.read_text(encoding="utf-8").replace("  name: Identity\n", "  name: Identity\n  name: Again\n", 1)
    bad = tmp_path / "cat.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=r"pillars\[0\]\.name \(line \d+\): duplicate key 'name'"):
        load_catalog(bad)


def test_bad_yaml_gives_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "cat.yaml"
    bad.write_text("id: cisa-ztmm\npillars: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(bad)
    assert caught.value.file == str(bad)
    assert caught.value.location.startswith("line ")
    assert "not valid YAML" in caught.value.reason


def test_empty_and_non_utf8_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_bytes(b"")
    with pytest.raises(CatalogError, match="file is empty"):
        load_catalog(empty)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("id: caf\xe9\n".encode("latin-1"))
    with pytest.raises(CatalogError, match="not UTF-8"):
        load_catalog(latin)


def copy_pack(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    target.mkdir()
    for item in PACK.iterdir():
        (target / item.name).write_bytes(item.read_bytes())
    return target


def test_pack_naming_an_unknown_function(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    data = yaml.safe_load((pack / "devices.yaml").read_text(encoding="utf-8"))
    data["recommendations"][3]["function"] = "devices.teleportation"
    write(pack / "devices.yaml", data)
    with pytest.raises(CatalogError) as caught:
        load_pack(pack, load_catalog(CATALOG))
    assert caught.value.file == str(pack / "devices.yaml")
    assert caught.value.location.startswith("recommendations[3].function (line ")
    assert caught.value.reason == "unknown function 'devices.teleportation'"


def test_pack_with_a_malformed_url(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    data = yaml.safe_load((pack / "apps.yaml").read_text(encoding="utf-8"))
    data["recommendations"][0]["references"][1]["url"] = "/entra/identity-platform/security-tokens"
    write(pack / "apps.yaml", data)
    with pytest.raises(CatalogError) as caught:
        load_pack(pack, load_catalog(CATALOG))
    assert caught.value.location.startswith("recommendations[0].references[1].url (line ")
    assert "malformed URL '/entra/identity-platform/security-tokens'" in caught.value.reason


def test_pack_with_an_empty_action(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    data = yaml.safe_load((pack / "data.yaml").read_text(encoding="utf-8"))
    data["recommendations"][5]["action"] = ""
    write(pack / "data.yaml", data)
    with pytest.raises(CatalogError, match=r"recommendations\[5\]\.action \(line \d+\): must not be empty"):
        load_pack(pack, load_catalog(CATALOG))
