from ztmm_desktop.core.wording import CISA, ENTERPRISE, apply_wording
from ztmm_desktop.services.catalogs import default_library


def test_enterprise_wording_substitutes_every_form_and_keeps_case() -> None:
    text = "Agency tracks agency data; Agency's and Agency’s assets; agencies and Agencies. Agencyx stays."
    assert apply_wording(text, ENTERPRISE) == (
        "Enterprise tracks enterprise data; Enterprise's and Enterprise’s assets; enterprises and Enterprises. "
        "Agencyx stays."
    )
    assert apply_wording(text, CISA) == text


def test_no_stage_text_keeps_agency_under_enterprise_wording() -> None:
    for function in default_library().catalog.functions():
        for text in function.stages.values():
            assert "agenc" not in apply_wording(text, ENTERPRISE).lower()
