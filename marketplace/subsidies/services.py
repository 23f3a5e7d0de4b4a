"""Subsidy use cases: check a project as entered, quote it, keep the quote, approve it
as awards, and version the guideline values. Views, the API and the demo call these.
"""

import functools
import re
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit, policy
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.integers import is_id
from marketplace.items.fields import MONEY_PATTERN
from marketplace.organizations.models import Organization
from marketplace.scenes.models import Scene
from marketplace.subsidies.models import SubsidyAward, SubsidyGuideline, SubsidyQuote
from marketplace.subsidies.quote import (
    Award,
    Loan,
    Party,
    Project,
    Quote,
    quote,
    to_fen,
)
from marketplace.subsidies.rules import (
    Guideline,
    Rulebook,
    load_rulebook,
    parse_tiers,
)

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONEY_FIELDS = {
    "provider_investment": "场景提供企业实际投入",
    "robot_procurement": "具身智能机器人采购投入",
    "project_investment": "项目实际投入",
    "insurance_premium": "实际承保保费",
}
ORGANIZATION_FIELDS = {
    "applicant_id": "申请单位",
    "provider_id": "场景提供企业",
    "insurer_id": "保险机构",
}
REQUEST_FIELDS = {
    *ORGANIZATION_FIELDS,
    *MONEY_FIELDS,
    "scene_id",
    "application_date",
    "district_supported",
    "loans",
    "insurance_kind",
    "assessment_score",
}
LOAN_FIELDS = ("principal", "lpr", "start", "months")
MAX_LOANS = 20
MAX_LOAN_MONTHS = 360
# LPR has been 3–5% for years; a figure above this was typed as a whole number
# (35 for 3.5%) or in basis points.
MAX_LPR_PERCENT = Decimal(10)
MIN_LPR_PERCENT = Decimal(1)
LPR_PATTERN = re.compile(r"^([1-9](\.\d{1,4})?|10(\.0{1,4})?)$")
SCORE_PATTERN = re.compile(r"^(100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)$")
MAX_AMOUNT = Decimal("999999999999.99")


@functools.cache
def bundled_rulebook() -> Rulebook:
    return load_rulebook()


def rulebook(session: orm.Session) -> Rulebook:
    """The bundled rules with each guideline value at the admin's latest version."""
    book = bundled_rulebook()
    latest = (
        sa.select(
            SubsidyGuideline.target,
            sa.func.max(SubsidyGuideline.version).label("version"),
        )
        .group_by(SubsidyGuideline.target)
        .subquery()
    )
    rows = session.scalars(
        sa.select(SubsidyGuideline).join(
            latest,
            sa.and_(
                SubsidyGuideline.target == latest.c.target,
                SubsidyGuideline.version == latest.c.version,
            ),
        )
    ).all()
    for row in rows:
        kind, _, name = row.target.partition(":")
        guideline = Guideline(row.version, row.set_at.date(), row.note)
        if kind == "rule" and name in book.by_id:
            book = book.with_tiers(name, parse_tiers(row.value), guideline)
        elif kind == "policy" and name in book.policy_caps:
            book = book.with_policy_cap(name, Decimal(row.value), guideline)
    return book


# -- checking what was entered ------------------------------------------------------


def _money(value: Any, label: str) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    if not isinstance(value, str):
        raise ValueError(f'{label}应为以元为单位的金额，写成字符串，如 "1250000.00"')
    text = value.strip()
    if text.startswith("-"):
        raise ValueError(f"{label}不能为负数")
    if not MONEY_PATTERN.match(text):
        raise ValueError(
            f"{label}应为不小于0的数字，最多两位小数，不带逗号，如 1250000.00"
        )
    return Decimal(text)


def _date(value: Any, label: str) -> date:
    if not isinstance(value, str) or not DATE.match(value.strip()):
        raise ValueError(f"{label}格式应为 YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{label}不是有效日期") from None


def _lpr(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError('LPR 按百分数写成字符串，如 "3.10" 表示 3.10%')
    text = value.strip()
    if not re.fullmatch(r"\d{1,3}(\.\d{1,4})?", text):
        raise ValueError('LPR 应为不小于0的百分数，如 "3.10" 表示 3.10%')
    rate = Decimal(text)
    if rate < MIN_LPR_PERCENT:
        raise ValueError(
            f"LPR 按百分数填写，如 3.10 表示 3.10%；{text}% 低于任何一期的"
            "贷款市场报价利率"
        )
    if rate > MAX_LPR_PERCENT:
        raise ValueError(
            f"LPR 按百分数填写，如 3.10 表示 3.10%；{text} 即 {text}%，远高于实际的"
            "贷款市场报价利率（近年约3%至5%），是否把 3.5 写成了 35？"
        )
    return rate


def _loan(raw: Any, number: int, problems: dict[str, str]) -> Loan | None:
    prefix = f"loans[{number - 1}]"
    if not isinstance(raw, dict):
        problems[prefix] = (
            f"第{number}笔贷款应为含 principal、lpr、start、months 的对象"
        )
        return None
    unknown = sorted(set(raw) - set(LOAN_FIELDS))
    if unknown:
        problems[prefix] = f"第{number}笔贷款有未知字段：{'、'.join(unknown)}"
    values: dict[str, Any] = {}
    checks = {
        "principal": lambda v: _money(v, f"第{number}笔贷款本金"),
        "lpr": _lpr,
        "start": lambda v: _date(v, f"第{number}笔贷款起始日"),
    }
    for name, check in checks.items():
        if raw.get(name) in (None, ""):
            problems[f"{prefix}.{name}"] = f"第{number}笔贷款缺少 {name}"
            continue
        try:
            values[name] = check(raw[name])
        except ValueError as reason:
            problems[f"{prefix}.{name}"] = str(reason)
    if values.get("principal") == 0:
        problems[f"{prefix}.principal"] = f"第{number}笔贷款本金应大于0"
    months = raw.get("months")
    if isinstance(months, bool) or not isinstance(months, int):
        problems[f"{prefix}.months"] = f"第{number}笔贷款期限应为月数（整数）"
    elif not 1 <= months <= MAX_LOAN_MONTHS:
        problems[f"{prefix}.months"] = (
            f"第{number}笔贷款期限应为1到{MAX_LOAN_MONTHS}个月"
        )
    else:
        values["months"] = months
    if len(values) < len(LOAN_FIELDS) or prefix in problems:
        return None
    return Loan(**values)


def _organization(
    session: orm.Session,
    value: Any,
    name: str,
    problems: dict[str, str],
    missing: dict[str, str],
) -> Party | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not is_id(value):
        problems[name] = f"{ORGANIZATION_FIELDS[name]}应为单位编号（正整数）"
        return None
    organization = session.get(Organization, value)
    if organization is None:
        missing[name] = f"{ORGANIZATION_FIELDS[name]}（编号{value}）不存在"
        return None
    return Party(
        organization.id, organization.name, organization.kind, organization.district
    )


def parse_project(
    session: orm.Session, body: dict[str, Any], rules: Rulebook
) -> tuple[Project, dict[str, Any]]:
    """The project of a quote request, and the request as it is kept. Every problem
    is named at once and nothing is written: malformed fields (Invalid, 422), then
    organizations or scenes that do not exist (NotFound, 404), then a scene that is
    not the applicant's (Conflict, 409)."""
    problems: dict[str, str] = {}
    missing: dict[str, str] = {}
    conflicts: dict[str, str] = {}
    for name in sorted(set(body) - REQUEST_FIELDS):
        problems[name] = "未知字段"
    if body.get("applicant_id") is None:
        problems["applicant_id"] = "请填写申请单位（applicant_id）"
    parties = {
        name: _organization(session, body.get(name), name, problems, missing)
        for name in ORGANIZATION_FIELDS
    }
    amounts: dict[str, Decimal] = {}
    for name, label in MONEY_FIELDS.items():
        try:
            amounts[name] = _money(body.get(name), label)
        except ValueError as reason:
            problems[name] = str(reason)
        else:
            if amounts[name] > MAX_AMOUNT:
                problems[name] = f"{label}超出可受理的范围"
    score = Decimal(0)
    raw_score = body.get("assessment_score")
    if raw_score not in (None, ""):
        if not isinstance(raw_score, str) or not SCORE_PATTERN.match(raw_score.strip()):
            problems["assessment_score"] = (
                '综合评价得分为百分制，应为0到100之间的数字（字符串，如 "85"）'
            )
        else:
            score = Decimal(raw_score.strip())
    application_date = None
    if body.get("application_date") in (None, ""):
        problems["application_date"] = "请填写申请日期（application_date，YYYY-MM-DD）"
    else:
        try:
            application_date = _date(body["application_date"], "申请日期")
        except ValueError as reason:
            problems["application_date"] = str(reason)
    supported = body.get("district_supported", False)
    if not isinstance(supported, bool):
        problems["district_supported"] = "应为 true 或 false"
    kind = body.get("insurance_kind", "")
    kinds = {k for rule in rules.rules for k in rule.insurance_kinds}
    if not isinstance(kind, str) or (kind and kind not in kinds):
        problems["insurance_kind"] = f"险种应为{'、'.join(sorted(kinds))}之一"
        kind = ""
    loans: list[Loan] = []
    raw_loans = body.get("loans", [])
    if not isinstance(raw_loans, list):
        problems["loans"] = "贷款应为列表"
    elif len(raw_loans) > MAX_LOANS:
        problems["loans"] = f"一次最多测算{MAX_LOANS}笔贷款"
    else:
        for number, raw in enumerate(raw_loans, start=1):
            loan = _loan(raw, number, problems)
            if loan is not None:
                loans.append(loan)
    scene = None
    scene_id = body.get("scene_id")
    if scene_id is not None:
        if isinstance(scene_id, bool) or not isinstance(scene_id, int):
            problems["scene_id"] = "场景应为场景编号（正整数）"
        else:
            scene = session.get(Scene, scene_id) if is_id(scene_id) else None
            applicant = parties["applicant_id"]
            if scene is None or scene.status == "draft":
                missing["scene_id"] = f"场景（编号{scene_id}）不存在或尚未提交"
                scene = None
            elif applicant is not None and scene.organization_id != applicant.id:
                conflicts["scene_id"] = (
                    f"场景“{scene.title}”不是申请单位的场景："
                    "由场景应用单位为本单位的场景申请"
                )
    if problems:
        raise Invalid("测算内容有误", fields=problems)
    if missing:
        raise NotFound("测算引用的单位或场景不存在", code="not_found", fields=missing)
    if conflicts:
        raise Conflict(
            "场景与申请单位不符", code="scene_not_applicants", fields=conflicts
        )
    assert application_date is not None and parties["applicant_id"] is not None
    project = Project(
        applicant=parties["applicant_id"],
        application_date=application_date,
        provider=parties["provider_id"],
        insurer=parties["insurer_id"],
        scene_id=scene.id if scene else None,
        scene_category=scene.category if scene else None,
        insurance_kind=kind,
        district_supported=bool(supported),
        loans=tuple(loans),
        assessment_score=score,
        **amounts,
    )
    kept = {
        "applicant_id": project.applicant.id,
        "provider_id": project.provider.id if project.provider else None,
        "insurer_id": project.insurer.id if project.insurer else None,
        "scene_id": project.scene_id,
        "application_date": application_date.isoformat(),
        "district_supported": project.district_supported,
        "insurance_kind": kind,
        "assessment_score": str(score),
        **{name: str(value) for name, value in amounts.items()},
        "loans": [
            {
                "principal": str(loan.principal),
                "lpr": str(loan.lpr),
                "start": loan.start.isoformat(),
                "months": loan.months,
            }
            for loan in loans
        ],
    }
    return project, kept


# -- quoting -------------------------------------------------------------------------


def history(session: orm.Session, project: Project) -> list[Award]:
    """The approved awards that bear on the project's caps and exclusion groups: those
    of its recipients, and those of its scene."""
    keys = [
        f"org:{p.id}"
        for p in (project.applicant, project.provider, project.insurer)
        if p
    ]
    keys.append(f"district:{project.applicant.district}")
    condition = SubsidyAward.recipient.in_(keys)
    if project.scene_id is not None:
        condition = sa.or_(condition, SubsidyAward.scene_id == project.scene_id)
    rows = session.scalars(sa.select(SubsidyAward).where(condition)).all()
    return [
        Award(
            r.rule_id,
            r.policy,
            r.exclusion_group,
            r.recipient,
            r.scene_id,
            r.amount,
            r.base,
            r.application_date,
        )
        for r in rows
    ]


def quote_json(result: Quote) -> dict[str, Any]:
    """The answer of CONTRACT.md: amounts as decimal strings in yuan."""
    return {
        "lines": [
            {
                "rule": line.rule,
                "name": line.name,
                "source": line.source,
                "source_text": line.source_text,
                "recipient": line.recipient_name,
                "applicable": line.applicable,
                "amount_before_caps": str(to_fen(line.amount_before_caps)),
                "amount": str(to_fen(line.amount)),
                "exclusion_group": line.exclusion_group,
                "paid": line.paid,
                "explanation": line.explanation,
                "guideline": line.guideline or None,
                "caps": [
                    {
                        "label": step.label,
                        "before": str(to_fen(step.before)),
                        "after": str(to_fen(step.after)),
                    }
                    for step in line.caps
                ],
                "_recipient_key": line.recipient,
                "_base": str(line.base),
            }
            for line in result.lines
        ],
        "total": str(to_fen(result.total)),
        "notices": result.notices,
        "rounding": result.rounding,
    }


def public_quote_json(
    result: dict[str, Any], stored: SubsidyQuote | None = None
) -> dict[str, Any]:
    """A quote as the API shows it (without the keys kept for awarding), with its
    record when it was kept."""
    lines = [
        {k: v for k, v in line.items() if not k.startswith("_")}
        for line in result["lines"]
    ]
    answer = {**result, "lines": lines, "id": None, "status": None}
    if stored is not None:
        answer.update(
            id=stored.id,
            status=stored.status,
            created_at=stored.created_at.isoformat(),
            request=stored.request,
            awarded_at=stored.awarded_at.isoformat() if stored.awarded_at else None,
            award_comment=stored.award_comment or None,
        )
    return answer


def make_quote(
    session: orm.Session, actor: Any, body: dict[str, Any], *, now: datetime
) -> tuple[dict[str, Any], SubsidyQuote | None]:
    """Quote the project of `body` against the rules and the awards so far.

    Anyone may quote (a policy calculator, like those of 政务服务网; approved awards
    are announced publicly, so the caps they fill are no secret). A signed-in user's
    quote is kept, so that a reviewer can approve it.
    """
    rules = rulebook(session)
    project, kept = parse_project(session, body, rules)
    result = quote_json(quote(rules, project, history(session, project)))
    if actor is None:
        return result, None
    policy.require(actor, "subsidy.quote")
    stored = SubsidyQuote(
        created_by=actor.id,
        created_at=now,
        applicant_id=project.applicant.id,
        provider_id=project.provider.id if project.provider else None,
        insurer_id=project.insurer.id if project.insurer else None,
        scene_id=project.scene_id,
        application_date=project.application_date,
        request=kept,
        result=result,
        total=Decimal(result["total"]),
        status="quoted",
    )
    session.add(stored)
    session.flush()
    audit.record(
        session,
        actor,
        "subsidy.quote",
        "subsidy_quote",
        stored.id,
        at=now,
        details={"total": result["total"], "applicant_id": project.applicant.id},
    )
    return result, stored


def can_view_quote(actor: Any, stored: SubsidyQuote) -> bool:
    if actor is None:
        return False
    if actor.role in ("reviewer", "center", "admin") or stored.created_by == actor.id:
        return True
    parties = {stored.applicant_id, stored.provider_id, stored.insurer_id}
    return actor.role in policy.OWNER_ROLES and actor.organization_id in parties


def get_quote(
    session: orm.Session, actor: Any, quote_id: int, *, for_update: bool = False
) -> SubsidyQuote:
    stored = None
    if is_id(quote_id):
        query = sa.select(SubsidyQuote).where(SubsidyQuote.id == quote_id)
        if for_update:
            query = query.with_for_update()
        stored = session.scalar(query)
    if stored is None or not can_view_quote(actor, stored):
        raise NotFound("测算记录不存在或无权查看", code="quote_not_found")
    return stored


def list_quotes(
    session: orm.Session, actor: Any, limit: int = 200
) -> list[SubsidyQuote]:
    query = sa.select(SubsidyQuote).order_by(SubsidyQuote.id.desc()).limit(limit)
    if actor.role in policy.OWNER_ROLES:
        org = actor.organization_id
        query = query.where(
            sa.or_(
                SubsidyQuote.created_by == actor.id,
                SubsidyQuote.applicant_id == org,
                SubsidyQuote.provider_id == org,
                SubsidyQuote.insurer_id == org,
            )
        )
    return list(session.scalars(query))


def awaiting_award(session: orm.Session) -> int:
    """Kept quotes with something to pay that no reviewer has approved yet."""
    return (
        session.scalar(
            sa.select(sa.func.count()).where(
                SubsidyQuote.status == "quoted", SubsidyQuote.total > 0
            )
        )
        or 0
    )


def approve_quote(
    session: orm.Session,
    actor: Any,
    quote_id: int,
    *,
    comment: str,
    now: datetime,
) -> SubsidyQuote:
    """The reviewer approves a quote: its paid lines become awards, once.

    The quote is computed again against the awards approved since; if anything
    changed (another award, a guideline version), nothing is approved and the
    reviewer is asked to quote again, so an award never exceeds a cap.
    """
    policy.require(actor, "subsidy.award", message="只有审核部门可以审定奖励")
    stored = get_quote(session, actor, quote_id, for_update=True)
    if stored.status == "awarded":
        raise Conflict("该测算已审定，不能重复审定", code="already_awarded")
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise Invalid("审定意见过长", fields={"comment": "最多500字"})
    rules = rulebook(session)
    project, _ = parse_project(session, dict(stored.request), rules)
    # Other approvals for the same recipients wait here until this one commits
    # (PostgreSQL; SQLite transactions already hold the write lock).
    recipients = sorted(
        {p.id for p in (project.applicant, project.provider, project.insurer) if p}
    )
    session.execute(
        sa.select(Organization.id)
        .where(Organization.id.in_(recipients))
        .order_by(Organization.id)
        .with_for_update()
    ).all()
    again = quote_json(quote(rules, project, history(session, project)))
    if again["lines"] != stored.result["lines"]:
        raise Conflict(
            "测算之后已有其他奖励审定或档位调整，本次测算已不准确，请重新测算后再审定",
            code="quote_outdated",
        )
    paid = [
        line for line in again["lines"] if line["paid"] and Decimal(line["amount"]) > 0
    ]
    if not paid:
        raise Conflict("该测算没有可支付的项目，无需审定", code="nothing_to_award")
    for line in paid:
        rule = rules.rule(line["rule"])
        session.add(
            SubsidyAward(
                quote_id=stored.id,
                rule_id=rule.id,
                policy=rule.policy,
                exclusion_group=rule.exclusion_group,
                recipient=line["_recipient_key"],
                recipient_name=line["recipient"],
                scene_id=stored.scene_id,
                amount=Decimal(line["amount"]),
                base=Decimal(line["_base"]),
                application_date=stored.application_date,
                approved_at=now,
            )
        )
    stored.status, stored.awarded_by, stored.awarded_at = "awarded", actor.id, now
    stored.award_comment = comment
    session.flush()
    audit.record(
        session,
        actor,
        "subsidy.award",
        "subsidy_quote",
        stored.id,
        at=now,
        before="quoted",
        after="awarded",
        comment=comment,
        details={"total": stored.result["total"], "rules": [p["rule"] for p in paid]},
    )
    return stored


def awards_of(session: orm.Session, quote_id: int) -> list[SubsidyAward]:
    return list(
        session.scalars(
            sa.select(SubsidyAward)
            .where(SubsidyAward.quote_id == quote_id)
            .order_by(SubsidyAward.id)
        )
    )


# -- guideline values -------------------------------------------------------------


def guideline_history(session: orm.Session, target: str) -> list[SubsidyGuideline]:
    return list(
        session.scalars(
            sa.select(SubsidyGuideline)
            .where(SubsidyGuideline.target == target)
            .order_by(SubsidyGuideline.version.desc())
        )
    )


def set_tiers(
    session: orm.Session,
    actor: Any,
    rule_id: str,
    tiers: list[dict[str, str]],
    *,
    note: str,
    now: datetime,
) -> SubsidyGuideline:
    """A new version of a rule's guideline tiers (the old ones stay on record)."""
    policy.require(actor, "subsidy.guideline", message="只有系统管理员可以调整档位")
    book = bundled_rulebook()
    if rule_id not in book.by_id or not book.rule(rule_id).formula.guideline:
        raise NotFound("该规则没有可调整的档位", code="rule_not_found")
    try:
        parsed = parse_tiers(tiers)
    except ValueError as reason:
        raise Invalid("档位有误", fields={"tiers": str(reason)}) from None
    if not parsed:
        raise Invalid("档位有误", fields={"tiers": "至少需要一档"})
    cap = max((c.amount for c in book.rule(rule_id).caps), default=None)
    for tier in parsed:
        if tier.minimum < 0 or (tier.amount is not None and tier.amount < 0):
            raise Invalid("档位有误", fields={"tiers": "起点和金额不能为负数"})
        if tier.rate is not None and not 0 < tier.rate <= 1:
            raise Invalid(
                "档位有误", fields={"tiers": "比例应在0到1之间，如 0.3 表示30%"}
            )
        if tier.amount is not None and cap is not None and tier.amount > cap:
            raise Invalid(
                "档位有误",
                fields={"tiers": f"一档金额{tier.amount}元超过了政策规定的上限{cap}元"},
            )
    target = f"rule:{rule_id}"
    version = (
        session.scalar(
            sa.select(sa.func.max(SubsidyGuideline.version)).where(
                SubsidyGuideline.target == target
            )
        )
        or 0
    ) + 1
    row = SubsidyGuideline(
        target=target,
        version=version,
        value=[
            {
                "minimum": str(t.minimum),
                **({"amount": str(t.amount)} if t.amount is not None else {}),
                **({"rate": str(t.rate)} if t.rate is not None else {}),
            }
            for t in parsed
        ],
        note=(note or "").strip()[:500],
        set_by=actor.id,
        set_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "subsidy.guideline",
        "subsidy_rule",
        None,
        at=now,
        details={"rule": rule_id, "version": version, "tiers": row.value},
    )
    return row


def rule_json(book: Rulebook) -> list[dict[str, Any]]:
    """The rules as published: source, period, recipient, formula, caps, group."""
    return [
        {
            "id": rule.id,
            "name": rule.name,
            "source": {**asdict(rule.source), "citation": rule.source.citation},
            "in_force": [rule.starts.isoformat(), rule.ends.isoformat()],
            "recipient": rule.recipient,
            "formula": {
                "kind": rule.formula.kind,
                "base": rule.formula.base or None,
                "guideline": rule.formula.guideline,
                "guideline_version": rule.guideline.version if rule.guideline else 0,
                "tiers": [
                    {
                        "minimum": str(t.minimum),
                        "amount": str(t.amount) if t.amount is not None else None,
                        "rate": str(t.rate) if t.rate is not None else None,
                    }
                    for t in rule.formula.tiers
                ],
                "share_of_lpr": str(rule.formula.share_of_lpr)
                if rule.formula.kind == "loan_interest"
                else None,
            },
            "caps": [
                {"scope": c.scope, "amount": str(c.amount), "label": c.label}
                for c in rule.caps
            ],
            "exclusion_group": rule.exclusion_group,
            "applicant_kinds": list(rule.applicant_kinds),
            "requires_district_support": rule.requires_district_support,
        }
        for rule in book.rules
    ]
