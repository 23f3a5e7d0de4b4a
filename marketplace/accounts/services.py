"""Accounts: users, password checks with throttling, and revocable sessions."""

import hashlib
import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm
from werkzeug.security import check_password_hash, generate_password_hash

from marketplace import audit, policy
from marketplace.accounts import passwords
from marketplace.accounts.models import ROLES, LoginAttempt, User, UserSession
from marketplace.errors import Conflict, Invalid, NotFound, TooManyRequests
from marketplace.organizations.models import Organization

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{3,50}$")
# Failed sign-ins are counted per account and address together, so a stranger who
# types an official's name five times slows down only himself (issue 12, finding
# 11): after FREE_FAILURES the pair waits FIRST_DELAY, doubling with each further
# failure up to MAX_DELAY. One address failing on many accounts (password spraying)
# is stopped by the address's own count.
FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
PAIR_WINDOW = timedelta(hours=1)
ADDRESS_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ADDRESS = 30
API_TOKEN_LIFETIME = timedelta(days=30)
# A fixed hash to compare against when the user does not exist, so that the response
# time does not reveal which usernames are registered.
_DUMMY_HASH = generate_password_hash("not a real password")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_user(
    session: orm.Session,
    username: str,
    password: str,
    role: str,
    *,
    organization_name: str | None = None,
    display_name: str = "",
    now: datetime,
    actor: User | None = None,
) -> User:
    """Create a user; units and vendors must belong to an organization."""
    problems: dict[str, str] = {}
    if not USERNAME_PATTERN.match(username):
        problems["username"] = "用户名须为3至50位字母、数字、下划线、点或连字符"
    weak = passwords.password_problem(password, username=username, role=role)
    if weak:
        problems["password"] = weak
    if role not in ROLES:
        problems["role"] = "角色须为 " + "、".join(ROLES)
    organization = None
    if organization_name:
        organization = session.scalar(
            sa.select(Organization).where(Organization.name == organization_name)
        )
        if organization is None:
            problems["organization"] = f"单位“{organization_name}”不存在"
    elif role in ("unit", "vendor"):
        problems["organization"] = "场景应用单位和能力企业用户必须属于一个单位"
    if organization is not None and role in ROLES and not problems:
        mixed = _role_conflict(session, organization, role)
        if mixed:
            problems["organization"] = mixed
    if problems:
        raise Invalid("用户信息有误", fields=problems)
    if session.scalar(sa.select(User.id).where(User.username == username)):
        raise Conflict(f"用户名“{username}”已存在", code="username_taken")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=generate_password_hash(password),
        role=role,
        organization=organization,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.create",
        "user",
        user.id,
        at=now,
        details={"username": username, "role": role},
    )
    return user


OWNER_ROLES = policy.OWNER_ROLES


def _role_conflict(session: orm.Session, organization: Organization, role: str) -> str:
    """Why `role` may not join `organization`, or "" if it may.

    Staff (center, reviewer, admin) and owners (unit, vendor) never share an
    organization: owners act on its items, staff review them, and one account or one
    office doing both would approve its own submissions (issue 12, finding 4).
    """
    from marketplace.capabilities.models import Capability
    from marketplace.scenes.models import Scene

    others = set(
        session.scalars(
            sa.select(User.role).where(User.organization_id == organization.id)
        )
    )
    if role in OWNER_ROLES:
        if others - OWNER_ROLES:
            return f"“{organization.name}”有促进中心或审核人员账号，不能再开设发布账号"
        return ""
    posted = any(
        session.scalar(
            sa.select(model.id).where(model.organization_id == organization.id).limit(1)
        )
        for model in (Scene, Capability)
    )
    if others & OWNER_ROLES or posted:
        return (
            f"“{organization.name}”是发布场景或能力的单位，"
            "促进中心、审核人员和管理员账号不能属于该单位"
        )
    return ""


def login_delay(failures: int) -> timedelta:
    """How long a pair must wait after its latest failure, given how many it has."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 16)
    return min(FIRST_DELAY * 2**doublings, MAX_DELAY)


def check_login_allowed(
    session: orm.Session, username: str, remote_addr: str, now: datetime
) -> None:
    """TooManyRequests (with Retry-After) while this account and address pair, or this
    address on its own, has failed too often."""
    failures = session.execute(
        sa.select(sa.func.count(), sa.func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username[:50],
            LoginAttempt.remote_addr == remote_addr,
            LoginAttempt.at >= now - PAIR_WINDOW,
        )
    ).one()
    count, latest = failures
    waits = []
    if count and latest is not None:
        waits.append(latest + login_delay(count) - now)
    by_address = session.execute(
        sa.select(sa.func.count(), sa.func.min(LoginAttempt.at)).where(
            LoginAttempt.remote_addr == remote_addr,
            LoginAttempt.at >= now - ADDRESS_WINDOW,
        )
    ).one()
    if by_address[0] >= MAX_FAILURES_PER_ADDRESS:
        waits.append(by_address[1] + ADDRESS_WINDOW - now)
    wait = max(waits, default=timedelta(0))
    if wait > timedelta(0):
        seconds = int(wait.total_seconds()) + 1
        error = TooManyRequests(
            f"登录失败次数过多，请{_wait_in_words(seconds)}后再试",
            code="too_many_login_attempts",
        )
        error.retry_after_seconds = seconds
        raise error


def _wait_in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}秒"
    return f"{-(-seconds // 60)}分钟"


def authenticate(
    session: orm.Session,
    username: str,
    password: str,
    remote_addr: str,
    *,
    now: datetime,
) -> User | None:
    """The active user with these credentials, or None (the failure is recorded).

    The caller commits either way, so that failures count.
    """
    check_login_allowed(session, username, remote_addr, now)
    user = session.scalar(sa.select(User).where(User.username == username))
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is not None and valid and user.active:
        # The pair starts afresh: the owner's own earlier typos do not stay against it.
        session.execute(
            sa.delete(LoginAttempt).where(
                LoginAttempt.username == username[:50],
                LoginAttempt.remote_addr == remote_addr,
            )
        )
        return user
    # Failures older than the longest window count for nothing: the table holds
    # about an hour of them.
    session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at < now - PAIR_WINDOW))
    session.add(LoginAttempt(username=username[:50], remote_addr=remote_addr, at=now))
    audit.record(
        session,
        None,
        "auth.login_failed",
        "user",
        user.id if user else None,
        at=now,
        details={"username": username[:50], "remote_addr": remote_addr},
    )
    return None


def open_session(
    session: orm.Session, user: User, kind: str, *, now: datetime, lifetime: timedelta
) -> str:
    """Start a browser session or API token; returns the secret the client keeps."""
    secret = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            secret_hash=hash_secret(secret),
            user=user,
            kind=kind,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    audit.record(session, user, f"auth.{kind}_opened", "user", user.id, at=now)
    return secret


def find_session_user(
    session: orm.Session, secret: str, kind: str, *, now: datetime
) -> User | None:
    """The user of a live session secret; None if unknown, expired or disabled."""
    row = session.scalar(
        sa.select(UserSession).where(
            UserSession.secret_hash == hash_secret(secret), UserSession.kind == kind
        )
    )
    if row is None or row.expires_at <= now or not row.user.active:
        return None
    return row.user


def close_session(session: orm.Session, secret: str, *, now: datetime) -> None:
    row = session.scalar(
        sa.select(UserSession).where(UserSession.secret_hash == hash_secret(secret))
    )
    if row is not None:
        audit.record(
            session, row.user, f"auth.{row.kind}_closed", "user", row.user_id, at=now
        )
        session.delete(row)


def end_all_sessions(
    session: orm.Session, actor: User, user_id: int, *, now: datetime
) -> int:
    """Revoke every session and token of a user; returns how many were ended."""
    if session.get(User, user_id) is None:
        raise NotFound("用户不存在", code="user_not_found")
    result = session.execute(
        sa.delete(UserSession).where(UserSession.user_id == user_id)
    )
    audit.record(session, actor, "auth.sessions_ended", "user", user_id, at=now)
    return result.rowcount or 0


def set_user_active(
    session: orm.Session, actor: User, user_id: int, active: bool, *, now: datetime
) -> User:
    """Disable or re-enable a user; disabling also ends all their sessions."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在", code="user_not_found")
    if not active and user.active and user.role == "admin":
        _keep_an_admin(session, user)
    user.active = active
    if not active:
        session.execute(sa.delete(UserSession).where(UserSession.user_id == user_id))
    audit.record(
        session,
        actor,
        "user.enable" if active else "user.disable",
        "user",
        user_id,
        at=now,
    )
    return user


def reset_password(
    session: orm.Session, actor: User, user_id: int, password: str, *, now: datetime
) -> User:
    """An admin sets a new password for a user (who forgot theirs): checked like a
    new one, and every session and token of the user ends."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在", code="user_not_found")
    weak = passwords.password_problem(password, username=user.username, role=user.role)
    if weak:
        raise Invalid("新密码不符合要求", fields={"password": weak})
    user.password_hash = generate_password_hash(password)
    session.execute(sa.delete(UserSession).where(UserSession.user_id == user_id))
    audit.record(session, actor, "user.password_reset", "user", user_id, at=now)
    return user


def _keep_an_admin(session: orm.Session, leaving: User) -> None:
    """Refuse to disable the last active admin: nobody could then manage accounts.

    The active admins' rows are locked (PostgreSQL) so that two admins disabling each
    other at once cannot both succeed; SQLite lets one writer at a time commit.
    """
    others = session.scalars(
        sa.select(User.id)
        .where(User.role == "admin", User.active.is_(True), User.id != leaving.id)
        .with_for_update()
    ).all()
    if not others:
        raise Conflict(
            "这是最后一个启用的系统管理员账号，不能停用；请先启用或创建另一个管理员",
            code="last_admin",
        )


def list_users(session: orm.Session, words: str = "") -> list[User]:
    """Users by id; with `words`, those whose username, name or organization holds
    every word."""
    statement = sa.select(User).outerjoin(
        Organization, Organization.id == User.organization_id
    )
    for word in words.split():
        statement = statement.where(
            sa.or_(
                User.username.contains(word, autoescape=True),
                User.display_name.contains(word, autoescape=True),
                Organization.name.contains(word, autoescape=True),
            )
        )
    return list(session.scalars(statement.order_by(User.id)))
