"""Notices, digests and saved searches.

Notices are found in plain reads (the slow part: matching and searching) and then
stored in one short write transaction that takes a lock, looks again for what exists
and inserts the rest; the unique dedupe key backs it up. A job run repeated, or run
in two processes at once, adds nothing twice.

A digest gathers a user's undelivered notices into one e-mail per period. It is
committed as `pending` before anything is sent; one process then claims it
(`pending`/`failed` → `sending`, a conditional UPDATE that only one can win), sends,
and marks it `sent`. A notice belongs to at most one digest, so a notice reaches its
recipient by e-mail at most once.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.capabilities.models import Capability
from marketplace.capabilities.services import CAPABILITIES
from marketplace.editions.services import CAPABILITY_RENEWAL
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.integers import is_id
from marketplace.items import services as items
from marketplace.items.fields import parse_fields
from marketplace.matches import services as matches
from marketplace.notifications.models import (
    FREQUENCIES,
    LISTS,
    Digest,
    Notification,
    SavedSearch,
)
from marketplace.notifications.schemas import (
    MAIL_ADDRESS,
    MAX_READ_IDS,
    SAVED_SEARCH_FIELDS,
    SETTINGS_FIELDS,
)
from marketplace.notifications.store import Notice
from marketplace.notifications.store import lock as _lock
from marketplace.notifications.store import recipients as _recipients
from marketplace.notifications.store import short as _short
from marketplace.scenes.models import Scene
from marketplace.scenes.services import SCENES
from marketplace.taxonomy import get_taxonomy

# Owners hear of a scene's deadline this long before it.
DEADLINE_NOTICE = timedelta(days=14)
# A saved search looks back this far behind its mark, so an item whose publishing
# transaction committed after the last run had read is still found (dedupe keeps
# the overlap harmless).
SEARCH_OVERLAP = timedelta(hours=1)
MAX_NEW_PER_SEARCH = 50
MAX_SAVED_SEARCHES = 50
# Digests are put together from 08:00 local time; weekly ones on Mondays.
DIGEST_HOUR = 8
DIGEST_WEEKDAY = 0
# Unread notices older than this are left to the in-app list.
DIGEST_LOOKBACK = timedelta(days=30)
# A digest whose sending failed is retried on every run for this long.
RETRY_WINDOW = timedelta(days=3)
# A claim this old belongs to a process that died while sending; try again.
CLAIM_TIMEOUT = timedelta(minutes=10)

ITEM_KINDS = {"scenes": SCENES, "capabilities": CAPABILITIES}
SCENE_LINK = "/scenes/{}"
CAPABILITY_LINK = "/capabilities/{}"


# -- finding notices (reads only) ---------------------------------------------------


def deadline_notices(session: orm.Session, *, today: date) -> list[Notice]:
    """Owners of published scenes whose deadline falls within the next 14 days;
    once per scene and deadline (a moved deadline is reminded again)."""
    rows = session.execute(
        sa.select(Scene.id, Scene.title, Scene.deadline, Scene.organization_id).where(
            Scene.status == "published",
            Scene.deadline >= today,
            Scene.deadline <= today + DEADLINE_NOTICE,
        )
    ).all()
    owners = _recipients(session, {row.organization_id for row in rows})
    notices = []
    for row in rows:
        days = (row.deadline - today).days
        when = "今天" if days == 0 else f"{days}天后"
        for user_id in owners.get(row.organization_id, []):
            notices.append(
                Notice(
                    user_id=user_id,
                    kind="deadline_reminder",
                    item_kind="scene",
                    item_id=row.id,
                    key=row.deadline.isoformat(),
                    title=f"场景“{_short(row.title)}”将于"
                    f"{row.deadline:%Y年%m月%d日}（{when}）截止征集",
                    body="截止后该场景将自动标记为已过期、不再接受对接。"
                    "如需延期，请在截止前联系场景创新促进中心。",
                    link=SCENE_LINK.format(row.id),
                )
            )
    return notices


def renewal_notices(session: orm.Session, *, now: datetime) -> list[Notice]:
    """Vendors of published capabilities neither updated nor renewed for 12 months;
    once per capability and renewal period (the period is named by the last update,
    so a renewed capability is asked again a year later)."""
    rows = session.execute(
        sa.select(
            Capability.id,
            Capability.title,
            Capability.updated_at,
            Capability.organization_id,
        ).where(
            Capability.status == "published",
            Capability.updated_at < now - CAPABILITY_RENEWAL,
        )
    ).all()
    owners = _recipients(session, {row.organization_id for row in rows})
    notices = []
    for row in rows:
        for user_id in owners.get(row.organization_id, []):
            notices.append(
                Notice(
                    user_id=user_id,
                    kind="renewal_request",
                    item_kind="capability",
                    item_id=row.id,
                    key=row.updated_at.strftime("%Y%m%dT%H%M%S"),
                    title=f"请续期场景能力“{_short(row.title)}”",
                    body=f"该能力自{row.updated_at:%Y年%m月%d日}起已满12个月未更新或续期，"
                    "将不进入下一期场景能力清单。如仍在提供，请在能力页面点击“续期”。",
                    link=CAPABILITY_LINK.format(row.id),
                )
            )
    return notices


def strong_match_notices(
    session: orm.Session, indexes: dict[str, Any], *, now: datetime
) -> list[Notice]:
    """Owners of published items with new strong counterparts, as “本单位” shows
    them (`matches.new_strong_matches`); once per (item, counterpart)."""
    since = now - matches.NEW_WINDOW
    recent = session.scalar(
        sa.select(sa.func.count()).select_from(
            sa.union_all(
                sa.select(Scene.id).where(
                    Scene.status == "published", Scene.published_at >= since
                ),
                sa.select(Capability.id).where(
                    Capability.status == "published", Capability.published_at >= since
                ),
            ).subquery()
        )
    )
    if not recent:  # nothing published lately: no match can be new
        return []
    organization_ids = set(
        session.scalars(
            sa.union(
                sa.select(Scene.organization_id).where(Scene.status == "published"),
                sa.select(Capability.organization_id).where(
                    Capability.status == "published"
                ),
            )
        )
    )
    owners = _recipients(session, organization_ids)
    notices = []
    for user_ids in owners.values():
        viewer = session.get(User, user_ids[0])
        for item, proposal in matches.new_strong_matches(
            session, viewer, indexes, now=now
        ):
            own_kind = "scene" if isinstance(item, Scene) else "capability"
            other_kind, other_label, link = (
                ("capability", "场景能力", CAPABILITY_LINK)
                if own_kind == "scene"
                else ("scene", "场景机会", SCENE_LINK)
            )
            other = proposal.item
            for user_id in user_ids:
                notices.append(
                    Notice(
                        user_id=user_id,
                        kind="strong_match",
                        item_kind=own_kind,
                        item_id=item.id,
                        key=f"{other_kind}:{other.id}",
                        title=f"“{_short(item.title, 40)}”有新的高匹配{other_label}："
                        f"“{_short(other.title)}”",
                        body=f"匹配度{proposal.score:.0%}，"
                        f"提供方：{other.organization_name}。",
                        link=link.format(other.id),
                    )
                )
    return notices


@dataclass
class SearchResults:
    notices: list[Notice]
    # saved search id → the new high-water mark, stored with the notices
    marks: dict[int, datetime]


def saved_search_query(search: SavedSearch, taxonomy: Any) -> items.ItemQuery:
    """The list page's query for a saved search (so both match the same way)."""
    kind = ITEM_KINDS[search.list_kind]
    args = {"q": search.words, "domain": search.domain, "district": search.district}
    return items.parse_item_query(kind, {k: v for k, v in args.items() if v}, taxonomy)


def saved_search_notices(
    session: orm.Session, *, now: datetime, dialect: str
) -> SearchResults:
    """Items published since each saved search's mark that match it; once per
    (search, item). Items of the searcher's own organization are left out."""
    taxonomy = get_taxonomy(session)
    rows = session.execute(
        sa.select(SavedSearch, User.organization_id)
        .join(User, User.id == SavedSearch.user_id)
        .where(User.active.is_(True))
        .order_by(SavedSearch.id)
    ).all()
    result = SearchResults([], {})
    for search, own_organization in rows:
        kind = ITEM_KINDS[search.list_kind]
        try:
            query = saved_search_query(search, taxonomy)
        except Invalid:  # a term since removed from the taxonomy: nothing matches
            result.marks[search.id] = now
            continue
        query.sort = "newest"
        query.per_page = MAX_NEW_PER_SEARCH
        query.published_after = max(
            search.checked_until - SEARCH_OVERLAP, search.created_at
        )
        page = items.list_items(session, kind, None, query, dialect)
        link = SCENE_LINK if kind is SCENES else CAPABILITY_LINK
        for item in page.items:
            if item.organization_id == own_organization:
                continue
            result.notices.append(
                Notice(
                    user_id=search.user_id,
                    kind="saved_search",
                    item_kind=kind.name,
                    item_id=item.id,
                    key=f"search:{search.id}",
                    title=f"保存的搜索“{_short(search.name, 30)}”有新的{kind.label}："
                    f"“{_short(item.title)}”",
                    body=f"发布单位：{item.organization.name}。",
                    link=link.format(item.id),
                )
            )
        result.marks[search.id] = now
    return result


# -- storing notices (one short write transaction) ----------------------------------


# -- digests ------------------------------------------------------------------------


def digest_period(frequency: str, local: datetime) -> str | None:
    """The period a digest made at local time `local` belongs to, or None when this
    user gets no digest now (before 08:00, weekly on another day than Monday, off)."""
    if local.hour < DIGEST_HOUR:
        return None
    if frequency == "daily":
        return local.date().isoformat()
    if frequency == "weekly" and local.weekday() == DIGEST_WEEKDAY:
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return None


def period_label(digest: Digest) -> str:
    if digest.frequency == "weekly":
        year, week = digest.period.split("-W")
        return f"每周摘要（{year}年第{int(week)}周）"
    return f"每日摘要（{digest.period}）"


def assemble_digests(session: orm.Session, *, now: datetime, timezone: str) -> int:
    """Give every user due a digest one, holding their undelivered unread notices.

    Only users with an e-mail address and daily or weekly digests get one; the
    caller does not call this when no mail server is configured. Exactly one per
    (user, period) and at most one per user and local day: a lock, a fresh look at
    what exists, then the unique key.
    """
    local = now.astimezone(ZoneInfo(timezone))
    _lock(session, "notifications:digests")
    window = (
        Notification.digest_id.is_(None),
        Notification.read_at.is_(None),
        Notification.created_at >= now - DIGEST_LOOKBACK,
        Notification.created_at <= now,
    )
    waiting = (
        sa.select(Notification.user_id).where(*window).distinct().scalar_subquery()
    )
    users = session.execute(
        sa.select(User.id, User.digest_frequency, User.email).where(
            User.id.in_(waiting),
            User.active.is_(True),
            User.email.is_not(None),
            User.email != "",
            User.digest_frequency.in_(("daily", "weekly")),
        )
    ).all()
    due = {
        row.id: period
        for row in users
        if (period := digest_period(row.digest_frequency, local)) is not None
    }
    if not due:
        return 0
    frequency = {row.id: row.digest_frequency for row in users}
    # One digest a day at most, whatever the frequency: a user who switches between
    # daily and weekly on a Monday after that day's digest gets the next one
    # tomorrow or next Monday, not a second e-mail today.
    local_midnight = datetime.combine(local.date(), time(), local.tzinfo)
    served_today = set(
        session.scalars(
            sa.select(Digest.user_id).where(
                Digest.user_id.in_(list(due)), Digest.created_at >= local_midnight
            )
        )
    )
    created = 0
    for user_id, period in sorted(due.items()):
        if user_id in served_today:
            continue
        digest = Digest(
            user_id=user_id,
            period=period,
            frequency=frequency[user_id],
            status="pending",
            created_at=now,
        )
        session.add(digest)
        session.flush()
        digest.notice_count = session.execute(
            sa.update(Notification)
            .where(Notification.user_id == user_id, *window)
            .values(digest_id=digest.id)
        ).rowcount
        created += 1
    session.flush()
    return created


def due_digests(session: orm.Session, *, now: datetime) -> list[int]:
    """Digests to send now: never tried, failed recently, or abandoned mid-send."""
    rows = session.scalars(
        sa.select(Digest.id)
        .where(
            sa.or_(
                sa.and_(
                    Digest.status.in_(("pending", "failed")),
                    Digest.created_at >= now - RETRY_WINDOW,
                ),
                sa.and_(
                    Digest.status == "sending",
                    Digest.claimed_at < now - CLAIM_TIMEOUT,
                    Digest.created_at >= now - RETRY_WINDOW,
                ),
            )
        )
        .order_by(Digest.id)
    )
    return list(rows)


def claim_digest(session: orm.Session, digest_id: int, *, now: datetime) -> bool:
    """Take a digest for sending; only one process wins (a conditional UPDATE)."""
    claimed = session.execute(
        sa.update(Digest)
        .where(
            Digest.id == digest_id,
            sa.or_(
                Digest.status.in_(("pending", "failed")),
                sa.and_(
                    Digest.status == "sending",
                    Digest.claimed_at < now - CLAIM_TIMEOUT,
                ),
            ),
        )
        .values(status="sending", claimed_at=now, attempts=Digest.attempts + 1)
    )
    return claimed.rowcount == 1


@dataclass
class DigestContent:
    digest: Digest
    user: User
    notices: list[Notification]


def digest_content(session: orm.Session, digest_id: int) -> DigestContent:
    digest = session.get(Digest, digest_id)
    if digest is None:
        raise NotFound("摘要不存在", code="digest_not_found")
    user = session.get(User, digest.user_id)
    assert user is not None  # the digest is deleted with its user
    notices = list(
        session.scalars(
            sa.select(Notification)
            .where(Notification.digest_id == digest_id)
            .order_by(Notification.kind, Notification.created_at, Notification.id)
        )
    )
    return DigestContent(digest, user, notices)


def finish_digest(
    session: orm.Session,
    digest_id: int,
    status: str,
    *,
    now: datetime,
    recipient: str = "",
    error: str = "",
) -> None:
    """Record the outcome of a claimed digest: sent, failed or skipped."""
    values: dict[str, Any] = {"status": status, "last_error": error[:2000]}
    if status == "sent":
        values.update(sent_at=now, recipient=recipient)
    session.execute(
        sa.update(Digest)
        .where(Digest.id == digest_id, Digest.status == "sending")
        .values(**values)
    )


# -- in-app notices -----------------------------------------------------------------


def unread_count(session: orm.Session, user_id: int) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count()).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def list_notifications(
    session: orm.Session,
    user: User,
    *,
    unread_only: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> items.Page:
    """The user's notices: unread first, newest first."""
    statement = sa.select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    total = session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    rows = session.scalars(
        statement.order_by(
            Notification.read_at.is_not(None),
            Notification.created_at.desc(),
            Notification.id.desc(),
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return items.Page(list(rows), total or 0, page, per_page)


def parse_read_request(payload: Any) -> list[int] | None:
    """`{"ids": [...]}` or `{"all": true}`; None means all."""
    if not isinstance(payload, dict):
        raise Invalid("请求内容应为对象", code="invalid_body")
    if payload.get("all") is True and "ids" not in payload:
        return None
    ids = payload.get("ids")
    if not isinstance(ids, list) or not ids or not all(is_id(i) for i in ids):
        raise Invalid(
            "请给出要标为已读的通知编号，或 all 为 true",
            fields={"ids": "应为非空的整数列表（或改用 all: true）"},
        )
    if len(ids) > MAX_READ_IDS:
        raise Invalid(
            f"一次最多标记{MAX_READ_IDS}条", fields={"ids": f"最多{MAX_READ_IDS}个"}
        )
    return ids


def mark_read(
    session: orm.Session, user: User, ids: list[int] | None, *, now: datetime
) -> int:
    """Mark the user's notices read (all of them when `ids` is None).

    Any id that is not the user's own is NotFound, and nothing is marked.
    """
    mine = Notification.user_id == user.id
    if ids is not None:
        wanted = set(ids)
        found = set(
            session.scalars(
                sa.select(Notification.id).where(mine, Notification.id.in_(wanted))
            )
        )
        if found != wanted:
            raise NotFound("通知不存在", code="notification_not_found")
        target = sa.and_(mine, Notification.id.in_(wanted))
    else:
        target = mine
    updated = session.execute(
        sa.update(Notification)
        .where(target, Notification.read_at.is_(None))
        .values(read_at=now)
    ).rowcount
    if updated:
        audit.record(
            session,
            user,
            "notification.read",
            "user",
            user.id,
            at=now,
            details={"count": updated, "ids": sorted(ids) if ids else "all"},
        )
    return updated


def update_settings(
    session: orm.Session, user: User, payload: Any, *, now: datetime
) -> User:
    """Change where digests go and how often (daily, weekly, off)."""
    if not isinstance(payload, dict):
        raise Invalid("请求内容应为对象", code="invalid_body")
    problems: dict[str, str] = {}
    try:
        email = parse_fields(SETTINGS_FIELDS, payload, get_taxonomy(session))["email"]
    except Invalid as error:
        problems.update(error.fields)
        email = ""
    if email and not MAIL_ADDRESS.match(email):
        problems["email"] = "接收邮箱：格式不正确，应类似 name@example.com"
    frequency = payload.get("digest_frequency", user.digest_frequency)
    if frequency not in FREQUENCIES:
        problems["digest_frequency"] = "摘要频率：可选 " + "、".join(FREQUENCIES)
    if problems:
        raise Invalid("设置有误，请按提示修改", fields=problems)
    before = user.digest_frequency
    email_changed = (user.email or "") != email
    if not email_changed and before == frequency:
        return user
    user.email = email or None
    user.digest_frequency = frequency
    audit.record(
        session,
        user,
        "notification.settings",
        "user",
        user.id,
        at=now,
        before=before,
        after=frequency,
        details={"email_changed": email_changed, "email_set": bool(email)},
    )
    return user


# -- saved searches -----------------------------------------------------------------


def list_saved_searches(session: orm.Session, user: User) -> list[SavedSearch]:
    return list(
        session.scalars(
            sa.select(SavedSearch)
            .where(SavedSearch.user_id == user.id)
            .order_by(SavedSearch.created_at.desc(), SavedSearch.id.desc())
        )
    )


def create_saved_search(
    session: orm.Session, user: User, payload: Any, *, now: datetime
) -> SavedSearch:
    """Save a search (words, domain, district) of one list; new matches arrive as
    notices from now on."""
    if not isinstance(payload, dict):
        raise Invalid("请求内容应为对象", code="invalid_body")
    problems: dict[str, str] = {}
    list_kind = payload.get("list")
    if not isinstance(list_kind, str) or list_kind not in LISTS:
        problems["list"] = "清单：可选 scenes（场景机会）或 capabilities（场景能力）"
    # An empty choice means "any", as on the list page.
    present = {
        f.name: payload[f.name]
        for f in SAVED_SEARCH_FIELDS
        if payload.get(f.name) not in (None, "")
    }
    try:
        values = parse_fields(
            SAVED_SEARCH_FIELDS, present, get_taxonomy(session), partial=True
        )
    except Invalid as error:
        problems.update(error.fields)
        values = {}
    words, domain, district = (
        values.get("words", ""),
        values.get("domain", ""),
        values.get("district", ""),
    )
    if not problems and not (words or domain or district):
        problems["words"] = "关键词、领域、板块至少填写一项"
    if problems:
        raise Invalid("保存的搜索有误", fields=problems)
    same = session.scalar(
        sa.select(SavedSearch.id).where(
            SavedSearch.user_id == user.id,
            SavedSearch.list_kind == list_kind,
            SavedSearch.words == words,
            SavedSearch.domain == domain,
            SavedSearch.district == district,
        )
    )
    if same is not None:
        raise Conflict("已保存过相同的搜索", code="saved_search_exists")
    count = session.scalar(
        sa.select(sa.func.count()).where(SavedSearch.user_id == user.id)
    )
    if (count or 0) >= MAX_SAVED_SEARCHES:
        raise Conflict(
            f"最多保存{MAX_SAVED_SEARCHES}个搜索，请先删除不用的",
            code="too_many_saved_searches",
        )
    name = values.get("name") or "、".join(t for t in (words, domain, district) if t)
    search = SavedSearch(
        user_id=user.id,
        list_kind=list_kind,
        name=name[:100],
        words=words,
        domain=domain,
        district=district,
        created_at=now,
        checked_until=now,
    )
    session.add(search)
    session.flush()
    audit.record(
        session,
        user,
        "saved_search.create",
        "saved_search",
        search.id,
        at=now,
        details={
            "list": list_kind,
            "words": words,
            "domain": domain,
            "district": district,
        },
    )
    return search


def delete_saved_search(
    session: orm.Session, user: User, search_id: int, *, now: datetime
) -> None:
    """Delete one of the user's saved searches; anyone else's is NotFound."""
    search = session.get(SavedSearch, search_id)
    if search is None or search.user_id != user.id:
        raise NotFound("保存的搜索不存在", code="saved_search_not_found")
    audit.record(
        session,
        user,
        "saved_search.delete",
        "saved_search",
        search.id,
        at=now,
        details={"name": search.name, "list": search.list_kind},
    )
    session.delete(search)
    session.flush()
