"""The guidance pane: the guidance packs' recommendations for the selected function.

``GuidancePane`` is the right-hand pane of the workbench. Its "Guidance" tab
lists, for one function, the recommendations of every guidance pack — for one
stage, or for all four grouped by stage — with the product, a short action and
the published references. Its "Next stage" tab shows what it takes to climb
from the function's current stage to its target, from the engagement's roadmap.
A footer names each pack's publisher and licence.

The HTML is written here: every string from a catalog, a pack or the engagement
is escaped; only the pane's own markup is not. The browsers load no resource
of any kind (no images, no style sheets, no prefetch), never follow a link
themselves, and hand a clicked link to ``open_url`` only when it is an http(s)
address, so the app makes no network connection on its own. A reference to
another function of the model ("section 2.1", "(5.1)") is an internal link
(``ztmm:function/2.1``): clicking it shows that function in the workbench
(``functionRequested``), not a web page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from PySide6.QtCore import QEvent, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from ...core.catalog import Function, GuidancePack, Recommendation
from ...core.errors import BadInput
from ...core.references import text_references, title_reference
from ...core.scoring import FunctionResult, RoadmapItem, roadmap, roadmap_steps, stages_to_climb
from ...core.stages import RATED_STAGES, Rating, Stage
from ...core.words import plural
from ...services.engagement import Engagement
from ..common.opener import open_url as open_with_system

#: Schemes a reference may have to be shown as a link and opened in the browser.
WEB_SCHEMES = ("http", "https")
#: The scheme of the pane's internal links: ``ztmm:function/2.1`` shows function 2.1 in the workbench.
INTERNAL_SCHEME = "ztmm"
_FUNCTION_PATH = "function/"


def function_url(code: str) -> QUrl:
    """The internal link to a function of the model (by its code)."""
    return QUrl(f"{INTERNAL_SCHEME}:{_FUNCTION_PATH}{code}")


def function_of_url(url: QUrl) -> str | None:
    """The function code of an internal link, else None."""
    if url.scheme().lower() != INTERNAL_SCHEME or not url.path().startswith(_FUNCTION_PATH):
        return None
    return url.path().removeprefix(_FUNCTION_PATH) or None


UrlOpener = Callable[[QUrl], Any]


def is_web_url(url: QUrl) -> bool:
    """Whether ``url`` is an absolute http(s) address with a host (nothing else is opened)."""
    return url.isValid() and url.scheme().lower() in WEB_SCHEMES and bool(url.host())


def licence_text(licence: str) -> str:
    """A licence id as people write it: ``CC-BY-4.0`` → ``CC BY 4.0``."""
    return licence.replace("-", " ") if licence.upper().startswith("CC-") else licence


def attribution_line(packs: Iterable[GuidancePack]) -> str:
    """The footer line, e.g. ``Guidance: Microsoft, CC BY 4.0``."""
    parts = [f"{p.publisher}, {licence_text(p.licence)}" for p in packs]
    return "Guidance: " + "; ".join(parts) if parts else "No guidance packs installed"


def _hex(colour: QColor) -> str:
    return colour.name(QColor.NameFormat.HexRgb)


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
        1.0,
    )


class GuidanceBrowser(QTextBrowser):
    """A QTextBrowser that loads nothing and follows no link by itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setSearchPaths([])
        self.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.document().setDocumentMargin(14)

    def loadResource(self, kind: int, name: QUrl) -> Any:
        # No images, style sheets or other resources: never a file read or a network request.
        return None


class _Html:
    """The pane's HTML, styled from the palette; every value passed in is escaped here."""

    def __init__(self, palette: QPalette, functions: Mapping[str, Function] | None = None) -> None:
        #: The catalog's functions by code: the references a text may make to them become internal links.
        self.functions: Mapping[str, Function] = functions or {}
        text = palette.color(QPalette.ColorRole.Text)
        base = palette.color(QPalette.ColorRole.Base)
        self.text = _hex(text)
        self.muted = _hex(_mix(text, base, 0.42))
        self.rule = _hex(_mix(base, text, 0.14))
        dark = base.lightnessF() < 0.5
        self.badge_bg = _hex(_mix(base, QColor("#2563a8" if not dark else "#6ea6dc"), 0.16))
        self.badge_fg = _hex(QColor("#1d4a80") if not dark else QColor("#b9d8f7"))
        self.note_bg = _hex(_mix(base, text, 0.05))
        self.link_colour = _hex(palette.color(QPalette.ColorRole.Link))

    def caption(self, text: str, top: int = 0) -> str:
        return (
            f'<p style="margin-top:{top}px; margin-bottom:0; color:{self.muted}; font-size:small; '
            f'font-weight:600;">{escape(text.upper())}</p>'
        )

    def badge(self, text: str) -> str:
        return (
            f'<span style="background-color:{self.badge_bg}; color:{self.badge_fg}; font-size:small; '
            f'font-weight:600;">&nbsp;{escape(text)}&nbsp;</span>'
        )

    def stage_heading(self, stage: Stage, badges: Sequence[str] = ()) -> str:
        marks = "".join("&nbsp;&nbsp;" + self.badge(b) for b in badges)
        return f'<h3 style="margin-top:18px; margin-bottom:4px;">{escape(stage.label)}{marks}</h3>'

    def model_text(self, text: str) -> str:
        """A stage text of the model, set off as a quotation."""
        return (
            '<table width="100%" cellspacing="0" cellpadding="0" style="margin-top:2px; margin-bottom:6px;"><tr>'
            f'<td width="3" style="background-color:{self.rule};"></td><td width="10"></td>'
            f'<td style="color:{self.muted}; line-height:130%;"><i>{escape(text)}</i></td>'
            "</tr></table>"
        )

    def note(self, text: str) -> str:
        return (
            f'<table width="100%" cellspacing="0" cellpadding="8" style="margin-top:6px; margin-bottom:6px;">'
            f'<tr><td style="background-color:{self.note_bg}; color:{self.muted};">{escape(text)}</td></tr></table>'
        )

    def paragraph(self, text: str, *, muted: bool = False) -> str:
        colour = f" color:{self.muted};" if muted else ""
        return f'<p style="margin-top:0; margin-bottom:8px;{colour}">{escape(text)}</p>'

    def link(self, title: str, url: str) -> str:
        code = title_reference(title, self.functions)
        if code is not None:  # another function of the model: shown in the app, the published page beside it
            web = self._anchor("web", url, url) if is_web_url(QUrl(url)) else ""
            return self.function_link(title, code) + (f' <span style="font-size:small;">({web})</span>' if web else "")
        if not is_web_url(QUrl(url)):  # never made a link: shown as text
            return f'<span style="color:{self.muted};">{escape(title)}</span>'
        return self._anchor(title, url, url)

    def function_link(self, text: str, code: str) -> str:
        function = self.functions[code]
        return self._anchor(text, function_url(code).toString(), f"Show {function.label} in the workbench")

    def linked_text(self, text: str) -> str:
        """``text`` escaped, with its references to other functions as internal links."""
        return "".join(
            self.function_link(piece.text, piece.code) if piece.code is not None else escape(piece.text)
            for piece in text_references(text, self.functions)
        )

    def _anchor(self, text: str, href: str, tip: str) -> str:
        return (
            f'<a href="{escape(href, quote=True)}" title="{escape(tip, quote=True)}" '
            f'style="text-decoration:none; color:{self.link_colour};">{escape(text)}</a>'
        )

    def recommendation(self, rec: Recommendation, publisher: str | None) -> str:
        parts = ['<table width="100%" cellspacing="0" cellpadding="0" style="margin-top:12px; margin-bottom:4px;">']
        parts.append("<tr><td>")
        if publisher:
            parts.append(f'<span style="color:{self.muted}; font-size:small;">{escape(publisher)}</span><br>')
        parts.append(f"<b>{escape(rec.product)}</b>")
        parts.append(
            f'<p style="margin-top:3px; margin-bottom:4px; line-height:130%;">{self.linked_text(rec.action)}</p>'
        )
        if rec.references:
            links = f' <span style="color:{self.muted};">·</span> '.join(
                self.link(r.title, r.url) for r in rec.references
            )
            parts.append(f'<p style="margin-top:0; margin-bottom:0;">{links}</p>')
        parts.append("</td></tr></table>")
        return "".join(parts)


class GuidancePane(QWidget):
    """Recommendations for the selected function, the way to its target, and the packs' attribution."""

    #: An http(s) link the user clicked, after it was handed to ``open_url``.
    linkOpened = Signal(QUrl)
    #: The id of the function a reference inside the guidance points to, clicked: show it.
    functionRequested = Signal(str)

    def __init__(
        self,
        engagement: Engagement | None = None,
        parent: QWidget | None = None,
        *,
        open_url: UrlOpener | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("guidancePane")
        #: Called with a clicked http(s) URL; tests inject their own so no browser starts. The default says so
        #: when no browser opens it, and offers to copy the link.
        self.open_url: UrlOpener = open_url if open_url is not None else lambda url: open_with_system(self, url)
        self._engagement: Engagement | None = None
        self._function_id: str | None = None
        self._stage: Stage | None = None
        #: HTML for the view whose tab is not shown, laid out when it is (a click in the tree lays out one, not two).
        self._pending: dict[QTextBrowser, str] = {}
        self._prepared: GuidanceBodies | None = None  # made off the UI thread, for the next refresh
        self._html_held = False

        self.title_label = QLabel()
        self.title_label.setObjectName("guidanceTitle")
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setWordWrap(True)
        self.subtitle_label = QLabel()
        self.subtitle_label.setObjectName("guidanceSubtitle")
        self.subtitle_label.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle_label.setWordWrap(True)

        self.guidance_view = GuidanceBrowser()
        self.guidance_view.setObjectName("guidanceView")
        self.next_view = GuidanceBrowser()
        self.next_view.setObjectName("nextStageView")
        for view in (self.guidance_view, self.next_view):
            view.anchorClicked.connect(self.open_link)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("guidanceTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.guidance_view, "Guidance")
        self.tabs.addTab(self.next_view, "Next stage")
        self.tabs.currentChanged.connect(self._tab_shown)

        self.attribution_label = QLabel()
        self.attribution_label.setObjectName("guidanceAttribution")
        self.attribution_label.setTextFormat(Qt.TextFormat.PlainText)
        self.attribution_label.setWordWrap(True)
        self.attribution_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        header = QVBoxLayout()
        header.setContentsMargins(14, 12, 14, 6)
        header.setSpacing(2)
        header.addWidget(self.title_label)
        header.addWidget(self.subtitle_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.tabs, 1)
        self._rule = QFrame()
        self._rule.setFrameShape(QFrame.Shape.HLine)
        self._rule.setFrameShadow(QFrame.Shadow.Plain)
        layout.addWidget(self._rule)
        footer = QVBoxLayout()
        footer.setContentsMargins(14, 6, 14, 8)
        footer.addWidget(self.attribution_label)
        layout.addLayout(footer)
        self._style_labels()
        self.set_engagement(engagement)

    # -- public API ---------------------------------------------------------------------

    def engagement(self) -> Engagement | None:
        return self._engagement

    def set_engagement(self, engagement: Engagement | None) -> None:
        """Show guidance for ``engagement`` (``None``: nothing open); clears the selection."""
        self._engagement = engagement
        self._function_id = None
        self._stage = None
        self.refresh()

    def function_id(self) -> str | None:
        return self._function_id

    def stage(self) -> Stage | None:
        return self._stage

    def show_function(self, function_id: str, stage: Stage | None = None) -> None:
        """Show the guidance for a function (id or code): one stage, or all stages when ``stage`` is None."""
        if self._engagement is None:
            raise RuntimeError("no engagement is open")
        self._function_id = self._engagement.catalog.function(function_id).id
        self._stage = stage
        self.refresh()

    def clear(self) -> None:
        """Show no function."""
        self._function_id = None
        self._stage = None
        self.refresh()

    def refresh(self) -> None:
        """Re-read the engagement for the function shown (call after edits)."""
        engagement = self._engagement
        packs = engagement.library.packs if engagement is not None else ()
        self.attribution_label.setText(attribution_line(packs) if engagement is not None else "")
        self.attribution_label.setToolTip(
            "<p style='white-space:pre-wrap'>" + escape("\n\n".join(p.attribution.strip() for p in packs)) + "</p>"
            if packs
            else ""
        )
        if engagement is None or self._function_id is None:
            html = self._html()
            self.title_label.setText("Guidance")
            self.subtitle_label.setText("No engagement open" if engagement is None else "No function selected")
            message = html.paragraph(
                "Open an engagement to see guidance."
                if engagement is None
                else "Select a function to see the guidance for it.",
                muted=True,
            )
            self._set_html(self.guidance_view, message)
            self._set_html(self.next_view, message)
            return
        bodies = self._prepared
        self._prepared = None
        if bodies is None or (bodies.function_id, bodies.stage) != (self._function_id, self._stage):
            bodies = GuidanceBodies.of(engagement, self._function_id, self._stage, self.palette())
        self.title_label.setText(bodies.title)
        self.subtitle_label.setText(bodies.subtitle)
        self._set_html(self.guidance_view, bodies.guidance)
        self._set_html(self.next_view, bodies.next_stage)

    def show_prepared(self, bodies: GuidanceBodies) -> None:
        """Show what ``GuidanceBodies.of`` made (off the UI thread), as ``show_function`` would; made for
        another palette (the workshop mode changed meanwhile), it is made again."""
        if bodies.palette == self.palette():
            self._prepared = bodies
        self.show_function(bodies.function_id, bodies.stage)

    def open_link(self, url: QUrl) -> bool:
        """Show the function an internal link names; open an http(s) URL in the system browser; ignore the rest."""
        code = function_of_url(url)
        if code is not None and self._engagement is not None:
            try:
                function = self._engagement.catalog.function(code)
            except BadInput:
                return False
            self.functionRequested.emit(function.id)
            return True
        if not is_web_url(url):
            return False
        self.open_url(QUrl(url))
        self.linkOpened.emit(QUrl(url))
        return True

    def attribution_text(self) -> str:
        return self.attribution_label.text()

    # -- HTML -------------------------------------------------------------------------------

    def _html(self) -> _Html:
        functions = {f.code: f for f in self._engagement.catalog.functions()} if self._engagement is not None else {}
        return _Html(self.palette(), functions)

    def hold_html(self, held: bool) -> None:
        """While held, the HTML shown waits as a hidden tab's does; released, the shown tab's is laid out
        (the window lays the pane out first, then its text, one step each, while it opens an engagement)."""
        self._html_held = held
        if not held:
            self._tab_shown(self.tabs.currentIndex())

    def _set_html(self, view: QTextBrowser, body: str) -> None:
        page = f'<html><body style="color:{_Html(self.palette()).text};">{body}</body></html>'
        if view is self.tabs.currentWidget() and not self._html_held:
            self._show_html(view, page)
        else:
            self._pending[view] = page

    def _show_html(self, view: QTextBrowser, page: str) -> None:
        self._pending.pop(view, None)
        # Unchanged (an edit elsewhere, a pause in typing a comment): laying it out again would only cost time.
        if view.property("shownHtml") != page:
            view.setProperty("shownHtml", page)
            view.setHtml(page)

    def _tab_shown(self, _index: int) -> None:
        view = self.tabs.currentWidget()
        page = self._pending.get(view) if isinstance(view, QTextBrowser) else None
        if isinstance(view, QTextBrowser) and page is not None:
            self._show_html(view, page)

    def _style_labels(self) -> None:
        title_font = QFont(self.font())
        if title_font.pointSizeF() > 0:
            title_font.setPointSizeF(title_font.pointSizeF() * 1.25)
        else:
            title_font.setPixelSize(round(title_font.pixelSize() * 1.25))
        title_font.setWeight(QFont.Weight.DemiBold)
        self.title_label.setFont(title_font)
        palette = self.subtitle_label.palette()
        text = self.palette().color(QPalette.ColorRole.WindowText)
        window = self.palette().color(QPalette.ColorRole.Window)
        palette.setColor(QPalette.ColorRole.WindowText, _mix(text, window, 0.38))
        self.subtitle_label.setPalette(palette)
        self.attribution_label.setPalette(palette)
        rule = self._rule.palette()
        rule.setColor(QPalette.ColorRole.WindowText, _mix(window, text, 0.16))
        self._rule.setPalette(rule)
        small = QFont(self.font())
        if small.pointSizeF() > 0:
            small.setPointSizeF(small.pointSizeF() * 0.88)
        self.attribution_label.setFont(small)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange) and hasattr(self, "guidance_view"):
            self._style_labels()
            self.refresh()


def _state_text(result: FunctionResult) -> str:
    if not result.assessed:
        current = "not assessed"
    elif not result.applicable:
        current = "not applicable"
    else:
        current = result.current.label + (" (override)" if result.overridden else "")
    target = result.target.label if result.target is not None else "no target"
    return f"{current} → {target}"


def _no_recommendations(function: Function, stage: Stage) -> str:
    if stage is Stage.TRADITIONAL:
        return (
            "No recommendations for Traditional: it is the starting point of the model, "
            "and the guidance starts at Initial."
        )
    return f"No recommendations for {function.code} at {stage.label} in the installed guidance."


@dataclass(frozen=True)
class GuidanceBodies:
    """What the pane shows of one function: its title lines and the HTML of its two tabs.

    Plain text made from the engagement and a palette, no widget: the window makes it off the UI thread
    for the function shown first while it opens an engagement (``GuidancePane.show_prepared``)."""

    function_id: str
    stage: Stage | None
    palette: QPalette
    title: str
    subtitle: str
    guidance: str
    next_stage: str

    @classmethod
    def of(cls, engagement: Engagement, function_key: str, stage: Stage | None, palette: QPalette) -> GuidanceBodies:
        function = engagement.catalog.function(function_key)
        html = _Html(palette, {f.code: f for f in engagement.catalog.functions()})
        result = engagement.results()[function.id]
        pillar = engagement.catalog.pillar(function.pillar_id)
        # This function's item of the engagement's roadmap, without building the whole roadmap.
        in_scope = function.pillar_id in engagement.meta().scope
        item = (
            next(iter(roadmap([function], {function.id: result}, engagement.library.packs)), None) if in_scope else None
        )
        if item is None and not result.assessed and result.target is not None:
            # Not on the roadmap (not assessed, so not below target), but the pane still shows the climb from
            # Traditional, for the workshop that assesses it.
            assessment = engagement.assessment(function.id)
            ratings = {stage: assessment.rating(stage).rating for stage in RATED_STAGES}
            climb = stages_to_climb(result.current, result.target, ratings) or ()
            if climb:
                steps = roadmap_steps(function, climb, engagement.library.packs)
                item = RoadmapItem(function=function, current=result.current, target=result.target, steps=steps)
        return cls(
            function_id=function.id,
            stage=stage,
            palette=QPalette(palette),
            title=function.label,
            subtitle=f"{pillar.name} · {_state_text(result)}",
            guidance=guidance_html(engagement, function, result, stage, html),
            next_stage=next_stage_html(engagement, function, result, item, html),
        )


def guidance_html(
    engagement: Engagement, function: Function, result: FunctionResult, stage: Stage | None, html: _Html
) -> str:
    """The Guidance tab: the chosen stage's recommendations (``stage``), or every stage's (None)."""
    packs = engagement.library.packs
    stages = [stage] if stage is not None else list(Stage)
    parts = []
    for shown in stages:
        badges = []
        if result.assessed and result.applicable and shown is result.current:
            badges.append("current")
        if result.target is not None and shown is result.target:
            badges.append("target")
        parts.append(html.stage_heading(shown, badges))
        parts.append(html.model_text(engagement.stage_text(function, shown)))
        parts.append(_recommendations_html(html, packs, function, shown))
    return "".join(parts)


def next_stage_html(
    engagement: Engagement,
    function: Function,
    result: FunctionResult,
    item: RoadmapItem | None,
    html: _Html,
) -> str:
    """The Next stage tab: the stages to climb from the current stage to the target."""
    if not result.applicable and result.assessed:
        return html.note(f"{function.code} is rated not applicable, so it has no next stage.")
    if result.target is None:
        return html.note(f"No target stage is set for {function.code}. Set a target to see what it takes to get there.")
    if item is None:
        current = result.current.label
        if result.current > result.target:
            text = f"{function.code} is at {current}, above its target ({result.target.label}). Nothing to climb."
        else:
            text = f"{function.code} is already at its target ({result.target.label}). Nothing to climb."
        return html.note(text)
    count = len(item.steps)
    parts = [html.caption(f"{item.current.label} → {item.target.label}")]
    parts.append(
        f'<p style="margin-top:0; margin-bottom:4px;"><b>{plural(count, "stage")} to climb</b>'
        f" to reach the target of {escape(item.target.label)}.</p>"
    )
    if not result.assessed:
        parts.append(
            html.paragraph(
                "The current stage is not assessed yet, so the climb is counted from Traditional.", muted=True
            )
        )
    assessment = engagement.assessment(function.id)
    for number, step in enumerate(item.steps, start=1):
        parts.append(html.stage_heading(step.stage, [f"step {number} of {count}"]))
        parts.append(html.model_text(engagement.stage_text(function, step.stage)))
        rating = assessment.rating(step.stage)
        if step.stage in RATED_STAGES and (rating.rating is not Rating.NOT_ASSESSED or rating.comment):
            said = f"Assessed: {rating.rating.label}" + (f" — {rating.comment}" if rating.comment else "")
            parts.append(html.paragraph(said, muted=True))
        if step.recommendations:
            publishers = _publishers(engagement.library.packs)
            for rec in step.recommendations:
                parts.append(html.recommendation(rec, publishers.get(id(rec))))
        else:
            parts.append(html.note(_no_recommendations(function, step.stage)))
    return "".join(parts)


def _recommendations_html(html: _Html, packs: Sequence[GuidancePack], function: Function, stage: Stage) -> str:
    recs = [(pack, rec) for pack in packs for rec in pack.for_stage(function.id, stage)]
    if not packs:
        return html.note("No guidance packs are installed.")
    if not recs:
        return html.note(_no_recommendations(function, stage))
    show_publisher = len(packs) > 1
    count = plural(len(recs), "recommendation")
    return html.caption(count, top=8) + "".join(
        html.recommendation(rec, pack.publisher if show_publisher else None) for pack, rec in recs
    )


def _publishers(packs: Sequence[GuidancePack]) -> dict[int, str]:
    """Publisher per recommendation object, only when more than one pack is installed."""
    if len(packs) < 2:
        return {}
    return {id(rec): pack.publisher for pack in packs for rec in pack.recommendations}
