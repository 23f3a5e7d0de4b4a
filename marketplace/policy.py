"""Who may do what. Default deny: an action not listed here is refused to everyone.

Two layers: every endpoint declares who may call it (`access`), checked before the view
runs; services then check the object itself with `require`, since ownership is only
known once the record is loaded.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from marketplace.errors import Forbidden, Unauthorized

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
SIGNED_IN = "signed_in"
# Only these roles own what their organization posts. A staff account (center,
# reviewer, admin) placed in a unit's organization must not gain the owner's powers
# over its drafts (issue 12, finding 4).
OWNER_ROLES = frozenset({"unit", "vendor"})


def access(*allowed: str) -> Callable[[F], F]:
    """Declare who may call an endpoint: PUBLIC, SIGNED_IN, or role names."""

    def decorate(view: F) -> F:
        view.access = frozenset(allowed)  # type: ignore[attr-defined]
        return view

    return decorate


def check_endpoint_access(view: Callable[..., Any] | None, actor: Any) -> None:
    """Refuse a request whose endpoint does not admit the actor, or declares nobody."""
    allowed: frozenset[str] | None = getattr(view, "access", None)
    if allowed is None:
        raise Forbidden("该地址未声明访问权限", code="no_policy")
    if PUBLIC in allowed:
        return
    if actor is None:
        raise Unauthorized("请先登录", code="login_required")
    if SIGNED_IN in allowed or actor.role in allowed:
        return
    raise Forbidden("您的角色无权进行此操作")


def _owns(actor: Any, item: Any) -> bool:
    return (
        actor is not None
        and actor.role in OWNER_ROLES
        and actor.organization_id == item.organization_id
    )


def _is(*roles: str) -> Callable[[Any, Any], bool]:
    def check(actor: Any, _obj: Any) -> bool:
        return actor is not None and actor.role in roles

    return check


def _owner_with_role(role: str) -> Callable[[Any, Any], bool]:
    def check(actor: Any, item: Any) -> bool:
        return actor is not None and actor.role == role and _owns(actor, item)

    return check


RULES: dict[str, Callable[[Any, Any], bool]] = {
    "scene.create": _is("unit"),
    "scene.edit": _owner_with_role("unit"),
    "scene.delete": _owner_with_role("unit"),
    "capability.create": _is("vendor"),
    "capability.edit": _owner_with_role("vendor"),
    "capability.delete": _owner_with_role("vendor"),
    "item.review": _is("center", "admin"),
    "taxonomy.edit": _is("admin"),
    "organization.create": _is("admin", "center"),
    "organization.edit": _is("admin", "center"),
    "user.manage": _is("admin"),
    "event.manage": _is("center", "admin"),
    "synonyms.edit": _is("center", "admin"),
    "subsidy.quote": _is("unit", "vendor", "reviewer", "center", "admin"),
    # Approving an award is the Development and Reform Commission's act.
    "subsidy.award": _is("reviewer"),
    "subsidy.guideline": _is("admin"),
}


def can(actor: Any, action: str, obj: Any = None) -> bool:
    rule = RULES.get(action)
    return rule is not None and rule(actor, obj)


def require(actor: Any, action: str, obj: Any = None, *, message: str = "") -> None:
    if not can(actor, action, obj):
        if actor is None:
            raise Unauthorized("请先登录", code="login_required")
        raise Forbidden(message or "您无权进行此操作")


def is_owner(actor: Any, item: Any) -> bool:
    """True when the actor is a unit or vendor of the organization that owns the
    item; staff roles never are."""
    return _owns(actor, item)
