"""Questionnaires: export one for client staff, read their answers back, keep them per respondent.

* :func:`export_questionnaire` writes the workbook (``excel/questionnaire.py``).
* :func:`read_responses` reads a filled questionnaire, or the app's own
  deliverable workbook, through the hardened reader (``excel/reader.py``) and
  returns an :class:`ImportPlan`: every difference from what is recorded for
  that respondent. It changes nothing; any strict failure (another engagement's
  workbook, an unknown function, an invalid answer, a formula or merged cells
  where answers belong) is one ``BadInput`` naming sheet and cell.
* :func:`apply_responses` applies the accepted differences in one transaction
  and returns what it replaced, so :func:`restore_responses` undoes the whole
  import as one step (and redoes it with what *it* returns).
* Responses never touch the assessor's rating: :func:`agreements` shows where
  respondents disagree with each other and with it, and
  :func:`adopt_response` makes one answer the rating.

Blank cells never erase what is recorded: a blank answer keeps the recorded
answer (or is no answer), a blank comment keeps the recorded comment. So
importing the same file twice finds no differences.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

from .. import __version__
from ..core.errors import BadInput, NeedsRespondent, OtherEngagement
from ..core.progress import CancelToken, Progress, no_progress
from ..core.responses import Answer, Difference, Response, StageAgreement, agreement
from ..core.stages import RATED_STAGES, Stage
from ..excel import layout
from ..excel.reader import Cell, MarkedRow, WorkbookContents, header_key, read_workbook
from ..store.schema import ResponseRow
from .engagement import MAX_NAME, Changes, Engagement, check_text, now
from .identity import resolve_assessor
from .output import written

#: Problems listed in one error line before "and N more".
SHOWN_PROBLEMS = 5

_STRICT_HEADERS = (
    layout.FUNCTION_ID,
    layout.STAGE_ID,
    layout.ANSWER_HEADER,
    layout.COMMENT_HEADER,
    *(layout.rating_header(s) for s in RATED_STAGES),
    *(layout.comment_header(s) for s in RATED_STAGES),
)


# -- reading what is stored ---------------------------------------------------------------


def _response(row: ResponseRow) -> Response:
    return Response(
        function_id=row.function_id,
        stage=Stage.parse(row.stage),
        respondent=row.respondent,
        role=row.role,
        answer=Answer(row.answer) if row.answer else None,
        comment=row.comment,
        source_name=row.source_name,
        source_sha256=row.source_sha256,
        imported_at=row.imported_at,
        imported_by=row.imported_by,
    )


def responses(engagement: Engagement, function_key: str | None = None) -> list[Response]:
    """Every stored answer (of one function when given), in catalog order, then stage, then respondent."""
    order = {f.id: n for n, f in enumerate(engagement.catalog.functions())}
    with engagement.session() as session:
        query = select(ResponseRow)
        if function_key is not None:
            function_id = engagement.catalog.function(function_key).id
            query = query.where(ResponseRow.function_id == function_id)
        rows = list(session.exec(query))
    found = [_response(r) for r in rows]
    found.sort(key=lambda r: (order.get(r.function_id, len(order)), r.stage, r.respondent.casefold()))
    return found


def respondents(engagement: Engagement) -> list[str]:
    """Names of everyone with a stored answer, sorted."""
    return sorted({r.respondent for r in responses(engagement)}, key=str.casefold)


def agreements(engagement: Engagement, function_key: str | None = None) -> list[StageAgreement]:
    """Per function in scope (or the one given) and rated stage: the answers against each other and the rating."""
    stored = responses(engagement, function_key)
    assessments = engagement.assessments()
    functions = (
        [engagement.catalog.function(function_key)] if function_key is not None else engagement.functions_in_scope()
    )
    by_function: dict[str, list[Response]] = {}
    for response in stored:
        by_function.setdefault(response.function_id, []).append(response)
    return [
        agreement(f.id, stage, assessments[f.id].rating(stage).rating, by_function.get(f.id, ()))
        for f in functions
        for stage in RATED_STAGES
    ]


# -- export ------------------------------------------------------------------------------------


def _clean_name(value: str, what: str) -> str:
    return check_text(" ".join(value.split()), what, MAX_NAME)


def _scope(engagement: Engagement, scope: Sequence[str] | None) -> list[str]:
    in_scope = list(engagement.meta().scope)
    if scope is None:
        return in_scope
    wanted = []
    for key in scope:
        if not key.strip():
            continue
        pillar = engagement.catalog.pillar(key)
        if pillar.id not in in_scope:
            raise BadInput(f"pillar {pillar.name!r} is not in this engagement's scope")
        if pillar.id not in wanted:
            wanted.append(pillar.id)
    if not wanted:
        raise BadInput("the scope names no pillar")
    return [p for p in in_scope if p in wanted]


def _known_respondent(engagement: Engagement, name: str) -> str:
    """The stored spelling of ``name`` when someone of that name (any case) answered before."""
    for known in respondents(engagement):
        if known.casefold() == name.casefold():
            return known
    return name


def export_questionnaire(
    engagement: Engagement,
    out: Path,
    *,
    respondent: str | None = None,
    scope: list[str] | None = None,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Write a questionnaire for client staff to ``out`` (.xlsx), all or nothing.

    ``respondent`` fills in the name (and their earlier answers, when they gave
    some); ``scope`` picks pillars of the engagement's scope (default: all of it).
    """
    # openpyxl (through the writer) is imported when a questionnaire is written, not at start: it takes 0.2 s.
    from ..excel.questionnaire import (
        FunctionQuestions,
        PillarQuestions,
        Questionnaire,
        StageQuestion,
        write_questionnaire,
    )

    if out.suffix.lower() != ".xlsx":
        raise BadInput(f"{out.name}: a questionnaire is an Excel workbook; name it *.xlsx")
    name = _clean_name(respondent or "", "respondent name")
    pillar_ids = _scope(engagement, scope)
    meta = engagement.meta()
    catalog = engagement.catalog
    earlier: dict[tuple[str, Stage], Response] = {}
    role = ""
    if name:
        name = _known_respondent(engagement, name)
        for r in responses(engagement):
            if r.respondent == name:
                earlier[(r.function_id, r.stage)] = r
                role = role or r.role
    pillars = []
    for pillar in catalog.pillars:
        if pillar.id not in pillar_ids:
            continue
        functions = []
        for function in pillar.functions:
            stages = []
            for stage in Stage:
                before = earlier.get((function.id, stage))
                stages.append(
                    StageQuestion(
                        stage=stage,
                        text=engagement.stage_text(function, stage),
                        answer=before.answer if before else None,
                        comment=before.comment if before else "",
                    )
                )
            functions.append(FunctionQuestions(function.id, function.code, function.name, tuple(stages)))
        pillars.append(PillarQuestions(pillar.id, pillar.code, pillar.name, tuple(functions)))
    questionnaire = Questionnaire(
        engagement_id=meta.id,
        catalog=f"{catalog.id}@{catalog.version}",
        catalog_title=f"{catalog.title} {catalog.version}",
        client=meta.client,
        title=meta.title,
        marking=meta.marking,
        respondent=name,
        role=role,
        generated_at=now(),
        generated_with=f"ZTMM Workbench {__version__}",
        pillars=tuple(pillars),
    )
    with written(out, inputs=(("the engagement file", engagement.path),)) as temp:
        write_questionnaire(questionnaire, temp, progress=progress, cancel=cancel)
    return out


# -- import: reading and comparing --------------------------------------------------------------


@dataclass(frozen=True)
class ImportPlan:
    """What importing a workbook would change; nothing is changed until :func:`apply_responses`."""

    source_name: str
    source_sha256: str
    kind: str  # layout.KIND_QUESTIONNAIRE or layout.KIND_DELIVERABLE
    engagement_id: str  # the engagement the differences were computed against
    respondents: tuple[str, ...]
    role: str
    differences: tuple[Difference, ...]
    answered: int  # stages the workbook answers (or comments on)
    problems: tuple[str, ...] = ()  # notes that did not stop the import (what was ignored and why)

    @property
    def unchanged(self) -> int:
        return self.answered - len(self.differences)

    @property
    def respondent(self) -> str:
        return self.respondents[0]


@dataclass(frozen=True)
class _Read:
    function_id: str
    stage: Stage
    answer: Answer | None
    comment: str
    where: str


def _problem_line(name: str, problems: list[str]) -> str:
    shown = "; ".join(problems[:SHOWN_PROBLEMS])
    more = f"; and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
    count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    return f"{name}: {count}, nothing imported: {shown}{more}"


def _where(row: MarkedRow, cell: Cell | None) -> str:
    return f"{row.sheet}!{cell.ref}" if cell is not None else f"{row.sheet}!row {row.row}"


def _parse_answer(cell: Cell | None, row: MarkedRow, problems: list[str]) -> Answer | None:
    if cell is None or cell.blank:
        return None
    if not isinstance(cell.value, str):
        problems.append(f"{_where(row, cell)}: {cell.text()[:40]!r} is not an answer")
        return None
    try:
        return Answer.parse(cell.value)
    except BadInput as err:
        problems.append(f"{_where(row, cell)}: {err}")
        return None


def _parse_comment(cell: Cell | None, row: MarkedRow, problems: list[str]) -> str:
    if cell is None or cell.blank:
        return ""
    try:
        return check_text(cell.text().strip(), "the comment")
    except BadInput as err:
        problems.append(f"{_where(row, cell)}: {err}")
        return ""


def _function_id(engagement: Engagement, row: MarkedRow, problems: list[str]) -> str | None:
    cell = row.get(layout.FUNCTION_ID)
    if cell is None or cell.blank:
        return None
    try:
        return engagement.catalog.function(cell.text()).id
    except BadInput:
        problems.append(f"{_where(row, cell)}: unknown function id {cell.text()[:60]!r}")
        return None


def _questionnaire_rows(
    engagement: Engagement, contents: WorkbookContents, problems: list[str], notes: list[str]
) -> list[_Read]:
    found: list[_Read] = []
    for sheet in contents.sheets:
        missing = [h for h in (layout.STAGE_ID, layout.ANSWER_HEADER) if header_key(h) not in sheet.columns]
        if missing:
            problems.append(f"{sheet.title}!row {sheet.header_row}: no column headed {missing[0]!r}")
            continue
        for row in sheet.rows:
            answer_cell = row.get(layout.ANSWER_HEADER)
            comment_cell = row.get(layout.COMMENT_HEADER)
            function_id = _function_id(engagement, row, problems)
            stage_cell = row.get(layout.STAGE_ID)
            if function_id is None:
                if row.get(layout.FUNCTION_ID) is None and not (answer_cell is None or answer_cell.blank):
                    notes.append(f"{_where(row, answer_cell)}: an answer in a row without a function id was ignored")
                continue
            try:
                stage = Stage.parse(stage_cell.text()) if stage_cell is not None else None
            except BadInput:
                problems.append(f"{_where(row, stage_cell)}: unknown stage id {stage_cell.text()[:30]!r}")  # type: ignore[union-attr]
                continue
            if stage is None:
                problems.append(f"{row.sheet}!row {row.row}: no stage id")
                continue
            if stage is Stage.TRADITIONAL:
                continue  # context only, never answered
            found.extend(_answered(function_id, stage, answer_cell, comment_cell, row, problems))
    return found


def _answered(
    function_id: str, stage: Stage, answer_cell: Cell | None, comment_cell: Cell | None, row: MarkedRow,
    problems: list[str],
) -> list[_Read]:  # fmt: skip
    """What one answer cell and its comment cell say (nothing when both are blank)."""
    answer = _parse_answer(answer_cell, row, problems)
    comment = _parse_comment(comment_cell, row, problems)
    if answer is None and not comment:
        return []
    return [_Read(function_id, stage, answer, comment, _where(row, answer_cell or comment_cell))]


def _deliverable_rows(engagement: Engagement, contents: WorkbookContents, problems: list[str]) -> list[_Read]:
    found: list[_Read] = []
    for sheet in contents.sheets:
        stages = [s for s in RATED_STAGES if header_key(layout.rating_header(s)) in sheet.columns]
        if not stages:
            continue  # a marked sheet without ratings (findings, roadmap, evidence)
        for row in sheet.rows:
            function_id = _function_id(engagement, row, problems)
            if function_id is None:
                continue
            for stage in stages:
                answer_cell = row.get(layout.rating_header(stage))
                comment_cell = row.get(layout.comment_header(stage))
                found.extend(_answered(function_id, stage, answer_cell, comment_cell, row, problems))
    return found


def read_responses(
    engagement: Engagement,
    path: Path,
    *,
    respondent: str | None = None,
    force: bool = False,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> ImportPlan:
    """Read a filled questionnaire (or a deliverable workbook) and compare it with what is stored.

    ``respondent`` names who answered (required for a deliverable; for a
    questionnaire it overrides the name in the file). ``force`` accepts a
    workbook exported from another engagement. Changes nothing.
    """
    name = path.name
    contents = read_workbook(
        path,
        strict_headers=_STRICT_HEADERS,
        names=(layout.RESPONDENT_NAME, layout.RESPONDENT_ROLE),
        progress=progress,
        cancel=cancel,
    )
    kind = contents.kind
    if kind not in (layout.KIND_QUESTIONNAIRE, layout.KIND_DELIVERABLE):
        raise BadInput(f"{name} is a ZTMM Workbench workbook of an unknown kind {kind!r}")
    meta = engagement.meta()
    source_engagement = contents.meta.get("engagement", "")
    if source_engagement != meta.id and not force:
        raise OtherEngagement(
            f"{name} was exported from another engagement ({source_engagement or 'none'}), not {meta.client}'s "
            f"({meta.id}); refused (import it with --force-engagement if that is intended)"
        )
    notes: list[str] = []
    given = _clean_name(respondent or "", "respondent name")
    in_file = _clean_name(contents.names.get(layout.RESPONDENT_NAME, ""), "respondent name in the file")
    if kind == layout.KIND_DELIVERABLE:
        if not given:
            raise NeedsRespondent(f"{name} is a deliverable workbook: name the respondent with --respondent")
        who = given
    else:
        who = given or in_file
        if not who:
            raise NeedsRespondent(
                f"{name} does not name its respondent (Instructions, 'Your name'); name them with --respondent"
            )
        if given and in_file and given.casefold() != in_file.casefold():
            notes.append(f"the file names {in_file!r}; imported as {given!r} (--respondent)")
    who = _known_respondent(engagement, who)
    role = _clean_name(contents.names.get(layout.RESPONDENT_ROLE, ""), "respondent role")

    problems = list(contents.problems)
    if not contents.sheets:
        problems.append(f"no sheet has a {layout.FUNCTION_ID} column")
    if kind == layout.KIND_QUESTIONNAIRE:
        read = _questionnaire_rows(engagement, contents, problems, notes)
    else:
        read = _deliverable_rows(engagement, contents, problems)
    seen: dict[tuple[str, Stage], str] = {}
    for item in read:
        key = (item.function_id, item.stage)
        if key in seen:
            problems.append(f"{item.where}: {item.function_id} {item.stage.label} is answered twice (also {seen[key]})")
        seen[key] = item.where
    if problems:
        raise BadInput(_problem_line(name, problems))
    if cancel is not None:
        cancel.check()

    plan = _compare(engagement, read, who=who, role=role, notes=notes)
    progress(4, 4, f"{len(plan.differences)} differences")
    return ImportPlan(
        source_name=name,
        source_sha256=contents.sha256,
        kind=kind,
        engagement_id=plan.engagement_id,
        respondents=(who,),
        role=role,
        differences=plan.differences,
        answered=plan.answered,
        problems=plan.problems,
    )


def _compare(engagement: Engagement, read: list[_Read], *, who: str, role: str, notes: list[str]) -> ImportPlan:
    """The differences between answers read for ``who`` and what is stored for them."""
    stored = {(r.function_id, r.stage): r for r in responses(engagement) if r.respondent == who}
    assessments = engagement.assessments()
    scope = {f.id for f in engagement.functions_in_scope()}
    outside = sorted({i.function_id for i in read if i.function_id not in scope})
    if outside:
        notes.append(f"answers for {len(outside)} function(s) outside the engagement's scope are kept too")
    differences = []
    for item in read:
        before = stored.get((item.function_id, item.stage))
        old_answer = before.answer if before else None
        old_comment = before.comment if before else ""
        new_answer = item.answer if item.answer is not None else old_answer
        new_comment = item.comment or old_comment
        if (new_answer, new_comment) == (old_answer, old_comment):
            continue
        function = engagement.catalog.function(item.function_id)
        differences.append(
            Difference(
                function_id=function.id,
                function_code=function.code,
                function_name=function.name,
                stage=item.stage,
                respondent=who,
                role=role,
                old_answer=old_answer,
                new_answer=new_answer,
                old_comment=old_comment,
                new_comment=new_comment,
                rating=assessments[function.id].rating(item.stage).rating,
                where=item.where,
            )
        )
    return ImportPlan(
        source_name="",
        source_sha256="",
        kind="",
        engagement_id=engagement.meta().id,
        respondents=(who,),
        role=role,
        differences=tuple(differences),
        answered=len(read),
        problems=tuple(notes),
    )


def record_responses(
    engagement: Engagement,
    respondent: str,
    answers: Iterable[tuple[str, Stage, Answer | None, str]],
    *,
    role: str = "",
    source_name: str,
    by: str | None = None,
) -> ResponseChanges:
    """Record answers given another way than a workbook (in a workshop, by mail): (function, stage, answer, comment).

    The same rules as an import: kept per respondent, never the assessor's rating.
    """
    who = _known_respondent(engagement, _clean_name(respondent, "respondent name"))
    read = []
    for function_key, stage, answer, comment in answers:
        if stage not in RATED_STAGES:
            raise BadInput(f"{stage.label} is the floor of the model and is not rated")
        read.append(_Read(engagement.catalog.function(function_key).id, stage, answer, comment, source_name))
    plan = _compare(engagement, read, who=who, role=_clean_name(role, "respondent role"), notes=[])
    named = ImportPlan(
        source_name=source_name,
        source_sha256="",
        kind="recorded",
        engagement_id=plan.engagement_id,
        respondents=(who,),
        role=plan.role,
        differences=plan.differences,
        answered=plan.answered,
    )
    return apply_responses(engagement, named, by=by)


# -- import: applying and undoing -----------------------------------------------------------------


@dataclass(frozen=True)
class PriorResponse:
    """What one slot (function, stage, respondent) held before a change: a response, or nothing."""

    function_id: str
    stage: Stage
    respondent: str
    response: Response | None


@dataclass(frozen=True)
class ResponseChanges(Changes):
    """``Changes`` of an import or a restore, with what it replaced: pass ``previous`` to
    :func:`restore_responses` to undo it (and that call's ``previous`` to redo it)."""

    previous: tuple[PriorResponse, ...] = field(default_factory=tuple)


def _stored(row: ResponseRow | None) -> Response | None:
    return _response(row) if row is not None else None


def apply_responses(
    engagement: Engagement, plan: ImportPlan, *, accept: Collection[int] | None = None, by: str | None = None
) -> ResponseChanges:
    """Apply the plan's differences (those whose indices are in ``accept``; None: all) in one transaction."""
    if plan.engagement_id != engagement.meta().id:
        raise BadInput(f"{plan.source_name} was read against another engagement; read it again")
    chosen = range(len(plan.differences)) if accept is None else sorted(set(accept))
    for index in chosen:
        if not 0 <= index < len(plan.differences):
            raise BadInput(f"no difference number {index} (the import has {len(plan.differences)})")
    if not chosen:
        return ResponseChanges()
    previous: list[PriorResponse] = []
    functions: set[str] = set()
    with engagement.edit(by) as (session, audit):
        audit.record("import", plan.source_sha256, "source", None, f"{plan.source_name} ({plan.kind})")
        for index in chosen:
            diff = plan.differences[index]
            key = (diff.function_id, diff.stage.key, diff.respondent)
            row = session.get(ResponseRow, key)
            current = _stored(row)
            if (current.answer if current else None, current.comment if current else "") != (
                diff.old_answer,
                diff.old_comment,
            ):
                raise BadInput(
                    f"{diff.respondent}'s answers changed since {plan.source_name} was read; read it again "
                    "(nothing was imported)"
                )
            previous.append(PriorResponse(diff.function_id, diff.stage, diff.respondent, current))
            if row is None:
                row = ResponseRow(function_id=diff.function_id, stage=diff.stage.key, respondent=diff.respondent)
                session.add(row)
            slot = "/".join(key)
            new_answer = diff.new_answer.value if diff.new_answer is not None else ""
            audit.record("response", slot, "answer", row.answer if current else None, new_answer)
            audit.record("response", slot, "comment", row.comment if current else None, diff.new_comment)
            row.role = diff.role or row.role
            row.answer = new_answer
            row.comment = diff.new_comment
            row.source_name = plan.source_name
            row.source_sha256 = plan.source_sha256
            row.imported_at, row.imported_by = audit.at, audit.by
            functions.add(diff.function_id)
    return ResponseChanges(functions=frozenset(functions), previous=tuple(previous))


def restore_responses(
    engagement: Engagement, previous: Iterable[PriorResponse], *, by: str | None = None
) -> ResponseChanges:
    """Put each slot back as it was (undo of an import); returns what it replaced (for redo)."""
    replaced: list[PriorResponse] = []
    functions: set[str] = set()
    items = list(previous)
    if not items:
        return ResponseChanges()
    with engagement.edit(by) as (session, audit):
        for item in items:
            key = (item.function_id, item.stage.key, item.respondent)
            row = session.get(ResponseRow, key)
            replaced.append(PriorResponse(item.function_id, item.stage, item.respondent, _stored(row)))
            slot = "/".join(key)
            target = item.response
            if target is None:
                if row is not None:
                    audit.record("response", slot, "removed", row.answer, None)
                    session.delete(row)
            else:
                if row is None:
                    row = ResponseRow(function_id=item.function_id, stage=item.stage.key, respondent=item.respondent)
                    session.add(row)
                new_answer = target.answer.value if target.answer is not None else ""
                audit.record("response", slot, "answer", row.answer, new_answer)
                audit.record("response", slot, "comment", row.comment, target.comment)
                row.role, row.answer, row.comment = target.role, new_answer, target.comment
                row.source_name, row.source_sha256 = target.source_name, target.source_sha256
                row.imported_at, row.imported_by = target.imported_at, target.imported_by
            functions.add(item.function_id)
    replaced.reverse()  # undoing several changes to one slot restores the earliest state last
    return ResponseChanges(functions=frozenset(functions), previous=tuple(replaced))


def adopt_response(
    engagement: Engagement, function_key: str, stage: Stage | str, respondent: str, *, by: str | None = None
) -> Changes:
    """Make a respondent's answer the assessor's rating of the stage (and their comment its comment, if any).

    "Don't know" is not a rating and cannot be adopted; a blank respondent
    comment keeps the assessor's comment.
    """
    function = engagement.catalog.function(function_key)
    stage = stage if isinstance(stage, Stage) else Stage.parse(stage)
    if stage not in RATED_STAGES:
        raise BadInput(f"{stage.label} is the floor of the model and is not rated")
    wanted = " ".join(respondent.split()).casefold()
    found = next(
        (r for r in responses(engagement, function.id) if r.stage is stage and r.respondent.casefold() == wanted),
        None,
    )
    if found is None:
        raise BadInput(f"{respondent!r} gave no answer for {function.code} {stage.label}")
    if found.answer is None or found.answer.rating is None:
        what = "Don't know" if found.answer is Answer.DONT_KNOW else "no answer, only a comment"
        raise BadInput(f"{found.respondent} answered {function.code} {stage.label} with {what}; it cannot be a rating")
    comments = {stage: found.comment} if found.comment else None
    return engagement.assess(function.id, ratings={stage: found.answer.rating}, comments=comments, by=by)


# -- for the CLI and the UI ---------------------------------------------------------------------


def _label(answer: Answer | None) -> str:
    return answer.label if answer is not None else "(no answer)"


def describe(diff: Difference) -> str:
    """One line for a difference: ``1.1 Authentication, Initial: Met → Partially met (name)``."""
    what = f"{diff.function_code} {diff.function_name}, {diff.stage.label}: "
    if diff.old_answer != diff.new_answer:
        what += f"{_label(diff.old_answer)} → {_label(diff.new_answer)}"
    else:
        what += f"{_label(diff.new_answer)} (comment only)"
    if diff.old_comment != diff.new_comment:
        what += "; comment " + ("added" if not diff.old_comment else "changed")
    what += f" ({diff.respondent})"
    if diff.disagrees_with_rating:
        what += f" — your rating: {diff.rating.label}"
    return what


def default_by() -> str:
    return resolve_assessor()
