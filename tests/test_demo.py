"""The demo engagement: what a consultant shows a colleague, fresh on every open."""

from __future__ import annotations

from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.demo import open_demo


def test_the_demo_opens_fresh_each_time_from_its_description() -> None:
    first = open_demo()
    try:
        assert first.meta().client == "Northwind Logistics (fictional)"
        assert first.results()["devices.device_threat_protection"].overridden
        assert len(first.findings()) == 4
        first.assess("6.1", ratings={Stage.INITIAL: Rating.MET})  # play with it, then close unsaved
        first.save()
    finally:
        first.close()
    second = open_demo()
    try:
        assert second.assessment("6.1").rating(Stage.INITIAL).rating is Rating.NOT_ASSESSED
    finally:
        second.close()
