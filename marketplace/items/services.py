"""The workflow of a listed item, shared by scenes and capabilities.

Each feature describes itself with an `ItemKind`; its services call these functions.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit, clock, policy, search
from marketplace.errors import (
    Conflict,
    DeniedAction,
    Forbidden,
    Invalid,
    NotFound,
    TooManyRequests,
    TransitionNotAllowed,
)
from marketplace.integers import is_id, parse_int
from marketplace.items import workflow
from marketplace.items.fields import Field, parse_fields
from marketplace.matches import vectors
from marketplace.matches.models import bump_index_version
from marketplace.notifications import workflow as workflow_notices
from marketplace.taxonomy import Taxonomy, get_taxonomy
from matching import Embedder

STAFF_ROLES = frozenset({"center", "admin", "reviewer"})
MAX_PER_PAGE = 100
# Refused status changes an account may make before further refusals get 429. They
# are counted from their audit rows, so every worker and process agrees.
MAX_REFUSALS = 10
REFUSAL_WINDOW = timedelta(minutes=15)
# The moments of an item's life the public sees in its history: when it became or
# stopped being public, and how it went; the review in between is internal.
PUBLIC_HISTORY = frozenset({"published", "withdrawn", "matched", "completed"})


@dataclass(frozen=True)
class ItemKind:
    name: str  # "scene" or "capability": audit object type and policy prefix
    plural: str  # URL segment and blueprint name
    label: str  # Chinese name shown to people
    model: type
    owner_role: str
    fields: tuple[Field, ...]
    assign: Callable[[Any, dict[str, Any], date], None]
    filters: Callable[[sa.Select[Any], dict[str, Any]], sa.Select[Any]]
    filter_fields: tuple[Field, ...]
    to_json: Callable[[Any, Any], dict[str, Any]]
    tags: str  # the relationship holding the item's tag rows, loaded with the item


@dataclass
class ItemQuery:
    q: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    status: str | None = None
    mine: bool = False
    sort: str = ""
    page: int = 1
    per_page: int = 20
    # Only items published after this moment (what is new for a saved search).
    published_after: datetime | None = None
    # Only items posted (created) in this calendar year of the city's zone, as the
    # UTC bounds [start, end).
    created_between: tuple[datetime, datetime] | None = None


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int
    # With a search of several words: how many of the results contain all of them.
    with_all_words: int | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def parties(actor: Any, item: Any) -> set[str]:
    """The roles the actor plays towards the item, in workflow terms."""
    result: set[str] = set()
    if actor is None:
        return result
    if policy.is_owner(actor, item):
        result.add("owner")
    if actor.role in ("center", "admin"):
        result.add("center")
    return result


def can_view(actor: Any, item: Any) -> bool:
    """Public items to all; drafts only to the owner; the rest to owner and staff."""
    if item.is_public:
        return True
    if actor is None:
        return False
    if policy.is_owner(actor, item):
        return True
    return actor.role in STAFF_ROLES and item.status != "draft"


def can_see_contact(actor: Any, item: Any) -> bool:
    if item.contact_public:
        return True
    return actor is not None and (
        policy.is_owner(actor, item) or actor.role in STAFF_ROLES
    )


def get_visible_item(
    session: orm.Session,
    kind: ItemKind,
    actor: Any,
    item_id: int,
    *,
    for_update: bool = False,
) -> Any:
    """The item, or NotFound when it does not exist or the actor may not see it."""
    if not is_id(item_id):
        # An id from a JSON body or a form that no row can have: unknown, not a crash.
        raise NotFound(f"{kind.label}不存在或无权查看", code=f"{kind.name}_not_found")
    if for_update:
        item = session.scalar(
            sa.select(kind.model)
            .where(kind.model.id == item_id)
            .with_for_update(of=kind.model)
        )
    else:
        # The item and its tag rows in one round trip (not the model's default two).
        tags = orm.joinedload(getattr(kind.model, kind.tags))
        item = session.get(kind.model, item_id, options=[tags])
    if item is None or not can_view(actor, item):
        raise NotFound(f"{kind.label}不存在或无权查看", code=f"{kind.name}_not_found")
    return item


def _validated(
    session: orm.Session, kind: ItemKind, payload: Any, *, partial: bool
) -> tuple[dict[str, Any], Taxonomy]:
    taxonomy = get_taxonomy(session)
    return parse_fields(kind.fields, payload, taxonomy, partial=partial), taxonomy


def create_item(
    session: orm.Session,
    kind: ItemKind,
    actor: Any,
    payload: Any,
    *,
    now: datetime,
    today: date,
    embedder: Embedder | None = None,
) -> Any:
    """Create a draft owned by the actor's organization; with an `embedder`, its
    sentence vector is stored with it."""
    policy.require(
        actor,
        f"{kind.name}.create",
        message=f"只有{_role_label(kind)}可以发布{kind.label}",
    )
    values, _ = _validated(session, kind, payload, partial=False)
    item = kind.model(
        status="draft",
        organization_id=actor.organization_id,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    kind.assign(item, values, today)
    search.sync_dictionary(session)  # words the center added in another process
    item.search_tokens = search.index_tokens(
        item.title, item.description, item.keywords
    )
    session.add(item)
    session.flush()
    vectors.store_vector(session, kind.name, item, embedder, now=now)
    audit.record(
        session, actor, f"{kind.name}.create", kind.name, item.id, at=now, after="draft"
    )
    return item


def update_item(
    session: orm.Session,
    kind: ItemKind,
    actor: Any,
    item_id: int,
    payload: Any,
    *,
    now: datetime,
    today: date,
    embedder: Embedder | None = None,
) -> Any:
    """Change fields of a draft or returned item of the actor's organization; with an
    `embedder`, its sentence vector follows a changed text."""
    item = get_visible_item(session, kind, actor, item_id, for_update=True)
    policy.require(
        actor, f"{kind.name}.edit", item, message=f"只有发布单位可以修改此{kind.label}"
    )
    if item.status not in workflow.EDITABLE_STATUSES:
        raise Conflict(
            f"{workflow.STATUS_LABELS[item.status]}的{kind.label}不能修改",
            code="not_editable",
        )
    values, _ = _validated(session, kind, payload, partial=True)
    changed = sorted(values)
    kind.assign(item, values, today)
    search.sync_dictionary(session)
    item.search_tokens = search.index_tokens(
        item.title, item.description, item.keywords
    )
    item.updated_at = now
    vectors.store_vector(session, kind.name, item, embedder, now=now)
    audit.record(
        session,
        actor,
        f"{kind.name}.update",
        kind.name,
        item.id,
        at=now,
        details={"fields": changed},
    )
    return item


def delete_item(
    session: orm.Session, kind: ItemKind, actor: Any, item_id: int, *, now: datetime
) -> None:
    """Delete a draft; anything that was ever submitted stays, for the record."""
    item = get_visible_item(session, kind, actor, item_id, for_update=True)
    policy.require(
        actor,
        f"{kind.name}.delete",
        item,
        message=f"只有发布单位可以删除此{kind.label}",
    )
    if item.status not in workflow.DELETABLE_STATUSES:
        raise Conflict(f"只能删除草稿；此{kind.label}可撤回", code="not_deletable")
    audit.record(
        session,
        actor,
        f"{kind.name}.delete",
        kind.name,
        item.id,
        at=now,
        before=item.status,
        details={"title": item.title},
    )
    vectors.delete_vector(session, kind.name, item.id)
    session.delete(item)
    session.flush()


def transition_item(
    session: orm.Session,
    kind: ItemKind,
    actor: Any,
    item_id: int,
    target: str,
    *,
    comment: str = "",
    now: datetime,
) -> Any:
    """Move an item to `target` if the workflow allows it for the actor."""
    item = get_visible_item(session, kind, actor, item_id, for_update=True)
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise Invalid(
            "意见不能超过2000个字符", fields={"comment": "不能超过2000个字符"}
        )
    if target not in workflow.STATUSES[kind.name]:
        raise Invalid(
            f"未知状态“{target[:30]}”",
            fields={"to": "可选：" + "、".join(workflow.STATUSES[kind.name])},
        )
    transition = workflow.find_transition(kind.name, item.status, target)
    if transition is None or not (transition.by & parties(actor, item)):
        check_refusal_rate(session, actor, now=now)
        denied = DeniedAction(
            action=f"{kind.name}.transition_denied",
            object_type=kind.name,
            object_id=item.id,
            actor_id=actor.id if actor else None,
            details={"from": item.status, "to": target},
        )
        source, goal = (
            workflow.STATUS_LABELS[item.status],
            workflow.STATUS_LABELS[target],
        )
        if transition is None:
            raise TransitionNotAllowed(f"不能从“{source}”变为“{goal}”", denied)
        if not parties(actor, item) and actor is not None and actor.role != "reviewer":
            raise Forbidden("您无权改变此条目的状态")
        raise TransitionNotAllowed(f"您无权将此条目从“{source}”变为“{goal}”", denied)
    if target == "approved" and _submitted_by(session, kind, item) == actor.id:
        # Four eyes: whoever submitted an item never approves it, whatever roles
        # the account has come to hold since.
        raise Conflict(
            "提交审核的账号不能审核通过同一条目", code="same_account_approval"
        )
    if target in workflow.COMMENT_REQUIRED and not comment:
        raise Invalid(
            "退回时请填写意见，告诉发布单位需要修改什么",
            fields={"comment": "退回时必须填写意见"},
        )
    apply_transition(session, kind, actor, item, target, comment=comment, now=now)
    return item


def _submitted_by(session: orm.Session, kind: ItemKind, item: Any) -> int | None:
    """The account that made the item's latest submission, from the audit log."""
    return session.scalar(
        sa.select(audit.AuditEntry.actor_id)
        .where(
            audit.AuditEntry.object_type == kind.name,
            audit.AuditEntry.object_id == item.id,
            audit.AuditEntry.action == f"{kind.name}.transition",
            audit.AuditEntry.after == "submitted",
        )
        .order_by(audit.AuditEntry.at.desc(), audit.AuditEntry.id.desc())
        .limit(1)
    )


def _refusal_actions() -> list[str]:
    return [f"{name}.transition_denied" for name in workflow.TRANSITIONS]


def check_refusal_rate(session: orm.Session, actor: Any, *, now: datetime) -> None:
    """TooManyRequests (with Retry-After) once the actor's refused status changes in
    the window reach MAX_REFUSALS; nothing more is written for them until it passes."""
    if actor is None:
        return
    recent = session.scalars(
        sa.select(audit.AuditEntry.at)
        .where(
            audit.AuditEntry.action.in_(_refusal_actions()),
            audit.AuditEntry.actor_id == actor.id,
            audit.AuditEntry.at >= now - REFUSAL_WINDOW,
        )
        .order_by(audit.AuditEntry.at.desc())
        .limit(MAX_REFUSALS)
    ).all()
    if len(recent) < MAX_REFUSALS:
        return
    error = TooManyRequests(
        "被拒绝的状态变更过于频繁，请稍后再试", code="too_many_refused_transitions"
    )
    # Free again when the oldest of the last MAX_REFUSALS leaves the window.
    wait = recent[-1] + REFUSAL_WINDOW - now
    error.retry_after_seconds = max(1, int(wait.total_seconds()) + 1)
    raise error


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an item's status history as a given reader may see it."""

    at: datetime
    before: str | None
    after: str | None
    actor: str | None  # None where the reader may not see who
    comment: str
    refused: bool  # a change asked for and refused; it never happened


def return_notice(item: Any, history: list[HistoryEntry]) -> HistoryEntry | None:
    """Why a returned item came back: the latest return the reader may see (the
    owner and the center see the comment), or None if it is not returned."""
    if item.status != "returned":
        return None
    returns = [e for e in history if e.after == "returned" and not e.refused]
    return returns[-1] if returns and returns[-1].comment else None


def item_history(
    session: orm.Session, kind: ItemKind, actor: Any, item: Any
) -> list[HistoryEntry]:
    """The item's status history, oldest first, as the actor may see it.

    The owner and the center read the full log, refused changes marked as such.
    Everyone else reads only the public moments (PUBLIC_HISTORY) of changes that
    happened, without names or review comments.
    """
    entries = [
        e
        for e in audit.list_entries(session, kind.name, item.id)
        if e.before or e.after
    ]
    refusal = f"{kind.name}.transition_denied"
    if parties(actor, item):
        return [
            HistoryEntry(
                e.at, e.before, e.after, e.actor_name, e.comment, e.action == refusal
            )
            for e in entries
        ]
    return [
        HistoryEntry(
            e.at,
            e.before if e.before in workflow.PUBLIC_STATUSES else None,
            e.after,
            None,
            "",
            False,
        )
        for e in entries
        if e.action == f"{kind.name}.transition"
        and e.after in PUBLIC_HISTORY
        # A withdrawal before publication was never public.
        and (e.after != "withdrawn" or e.before in workflow.PUBLIC_STATUSES)
    ]


def apply_transition(
    session: orm.Session,
    kind: ItemKind,
    actor: Any,
    item: Any,
    target: str,
    *,
    comment: str,
    now: datetime,
) -> None:
    """Record and apply a status change already checked against the workflow."""
    audit.record(
        session,
        actor,
        f"{kind.name}.transition",
        kind.name,
        item.id,
        at=now,
        before=item.status,
        after=target,
        comment=comment,
    )
    if "published" in (item.status, target):
        bump_index_version(session, kind.plural)
    workflow_notices.notify_item_transition(
        session,
        kind.name,
        item,
        actor,
        source=item.status,
        target=target,
        target_label=workflow.STATUS_LABELS[target],
        comment=comment,
        now=now,
    )
    item.status = target
    item.updated_at = now
    if target == "published":
        item.published_at = now


def available_transitions(kind: ItemKind, actor: Any, item: Any) -> list[Any]:
    """The buttons to show an actor on an item's page."""
    return workflow.transitions_for(kind.name, item.status, parties(actor, item))


def _role_label(kind: ItemKind) -> str:
    return {"unit": "场景应用单位", "vendor": "场景能力企业"}[kind.owner_role]


def list_statement(
    kind: ItemKind,
    actor: Any,
    query: ItemQuery,
    dialect: str,
    *,
    any_status: bool = False,
) -> sa.Select[Any]:
    """The rows a list shows the actor (unsorted): what `list_items` counts and the
    dashboard aggregates. With `any_status`, the rows of every status the actor may
    list (the union of the lists by status)."""
    model = kind.model
    statement = sa.select(model)
    if query.mine:
        if (
            actor is None
            or actor.organization_id is None
            or actor.role not in policy.OWNER_ROLES
        ):
            raise Forbidden("只有单位用户可以查看本单位的条目")
        statement = statement.where(model.organization_id == actor.organization_id)
        if query.status:
            statement = statement.where(model.status == query.status)
    elif any_status:
        statement = statement.where(_listable_clause(model, actor))
    else:
        statement = statement.where(_visible_clause(model, actor, query.status))
    statement = kind.filters(statement, query.filters)
    if query.published_after is not None:
        statement = statement.where(model.published_at > query.published_after)
    if query.created_between is not None:
        start, end = query.created_between
        statement = statement.where(model.created_at >= start, model.created_at < end)
    terms = search.query_terms(query.q) if query.q.strip() else None
    if terms is not None:
        statement = statement.where(search.matching_clause(model, terms, dialect))
    return statement


def list_items(
    session: orm.Session, kind: ItemKind, actor: Any, query: ItemQuery, dialect: str
) -> Page:
    """One page of the items the actor may see, filtered, searched and sorted."""
    model = kind.model
    statement = list_statement(kind, actor, query, dialect)
    terms = search.query_terms(query.q) if query.q.strip() else None
    total = session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    with_all_words = None
    if terms is not None and len(terms) > 1 and total:
        with_all_words = session.scalar(
            sa.select(sa.func.count()).select_from(
                statement.where(
                    search.all_terms_clause(model, terms, dialect)
                ).subquery()
            )
        )
    public = not query.mine and query.status in (None, "published")
    if terms is not None and query.sort in ("", "relevance"):
        statement = search.order_by_relevance(statement, model, terms, dialect)
    else:
        statement = statement.order_by(*_sort_order(model, query.sort, public=public))
    rows = session.scalars(
        statement.limit(query.per_page).offset((query.page - 1) * query.per_page)
    ).all()
    return Page(
        items=list(rows),
        total=total or 0,
        page=query.page,
        per_page=query.per_page,
        with_all_words=with_all_words,
    )


def _visible_clause(model: Any, actor: Any, status: str | None) -> Any:
    """Rows the actor may list; without a status filter, only the public ones."""
    if status is None:
        return model.status == "published"
    return sa.and_(model.status == status, _listable_clause(model, actor))


def _listable_clause(model: Any, actor: Any) -> Any:
    """Rows the actor may list with a status filter: public ones, their own
    organization's, and for staff everything but others' drafts."""
    clauses = [model.status.in_(workflow.PUBLIC_STATUSES)]
    if actor is not None:
        if actor.organization_id is not None and actor.role in policy.OWNER_ROLES:
            clauses.append(model.organization_id == actor.organization_id)
        if actor.role in STAFF_ROLES:
            clauses.append(model.status != "draft")
    return sa.or_(*clauses)


SORTS: dict[str, str] = {
    "newest": "最新发布",
    "deadline": "截止日期最近",
    "budget_desc": "预算从高到低",
    "budget_asc": "预算从低到高",
    "relevance": "相关度",
}


def _sort_order(model: Any, sort: str, *, public: bool) -> list[Any]:
    """The order of a list; published lists sort on the indexed publication time."""
    if sort == "deadline" and hasattr(model, "deadline"):
        return [model.deadline.asc(), model.id.desc()]
    if sort == "budget_desc" and hasattr(model, "budget"):
        return [model.budget.desc().nulls_last(), model.id.desc()]
    if sort == "budget_asc" and hasattr(model, "budget"):
        return [model.budget.asc().nulls_last(), model.id.desc()]
    if public:
        return [model.published_at.desc(), model.id.desc()]
    return [
        sa.func.coalesce(model.published_at, model.created_at).desc(),
        model.id.desc(),
    ]


def parse_item_query(
    kind: ItemKind, args: Any, taxonomy: Taxonomy, *, blank_is_absent: bool = True
) -> ItemQuery:
    """Read list parameters (q, filters, status, sort, page) from a query string.

    A page's filter form sends every field, the unused ones empty: there a blank
    value means "not given". The API says what it means, so `blank_is_absent=False`
    refuses `page=` or `status=` as it would any value outside the document.
    """
    problems: dict[str, str] = {}
    if not blank_is_absent:
        known = {"page", "per_page", "status", "sort", "mine", "year"} | {
            f.name for f in kind.filter_fields
        }
        problems.update(
            (name, "不能为空：不需要时请不带这个参数")
            for name in known
            if args.get(name) == ""
        )
        if args.get("mine") not in (None, "", *BOOLEAN_TEXTS):
            problems["mine"] = "应为 true 或 false"

    def integer(name: str, default: int) -> int:
        raw = args.get(name)
        if raw in (None, ""):
            return default
        try:
            return parse_int(raw, text=True)
        except ValueError as reason:
            problems[name] = str(reason)
            return default

    page = integer("page", 1)
    per_page = integer("per_page", 20)
    if per_page > MAX_PER_PAGE:
        # Refused, not clamped: the document says at most MAX_PER_PAGE, and a
        # client asking for more should learn that rather than miss rows.
        problems["per_page"] = f"应为1到{MAX_PER_PAGE}之间的整数"
    status = args.get("status") or None
    if status is not None and status not in workflow.STATUSES[kind.name]:
        problems["status"] = "可选：" + "、".join(workflow.STATUSES[kind.name])
    sort = args.get("sort") or ""
    if sort and sort not in SORTS:
        problems["sort"] = "可选：" + "、".join(SORTS)
    filters: dict[str, Any] = {}
    present = {f.name: args.get(f.name) for f in kind.filter_fields if args.get(f.name)}
    try:
        filters = parse_fields(kind.filter_fields, present, taxonomy, partial=True)
    except Invalid as exc:
        problems.update(exc.fields)
    year = parse_year(args.get("year"), problems)
    q = args.get("q") or ""
    if len(q) > search.MAX_QUERY_LENGTH:
        problems["q"] = f"搜索词不能超过{search.MAX_QUERY_LENGTH}个字符"
    if problems:
        raise Invalid("查询参数有误", fields=problems)
    return ItemQuery(
        q=q,
        filters=filters,
        status=status,
        mine=args.get("mine") in ("1", "true"),  # "0", "false": not mine
        sort=sort,
        page=page,
        per_page=max(per_page, 1),
        created_between=None if year is None else clock.year_bounds(year),
    )


FIRST_YEAR, LAST_YEAR = 2000, 2100
BOOLEAN_TEXTS = ("true", "false", "1", "0")


def parse_year(raw: str | None, problems: dict[str, str]) -> int | None:
    """A calendar year from a query string (None when absent); a problem otherwise."""
    if raw in (None, ""):
        return None
    try:
        year = parse_int(raw, text=True)
    except ValueError:
        year = 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        problems["year"] = f"应为{FIRST_YEAR}到{LAST_YEAR}之间的年份，如 2026"
        return None
    return year
