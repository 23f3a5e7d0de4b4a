"""The subsidy quote: every rule of the rulebook against one project, with the amount
before and after each cap, 就高不重复 per exclusion group, and what the recipients
already received.

Pure functions over plain data (no database, no Flask). Money is Decimal throughout
and each line is rounded to the fen once, when it is finished (ROUND_HALF_UP).

Two choices the policies leave open, made so that splitting a project into several
requests never yields more than one request:
- tiers and per-project caps count the project's earlier awards of the same rule and
  recipient: the base is cumulative and what was already paid is deducted;
- once a project was paid under one rule of an exclusion group, later requests for
  that project can only top up that rule.
"""

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from marketplace.subsidies.rules import (
    RECIPIENTS,
    Rule,
    Rulebook,
    percent,
    yuan,
)

FEN = Decimal("0.01")
ZERO = Decimal(0)


def to_fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Party:
    id: int
    name: str
    kind: str
    district: str


@dataclass(frozen=True)
class Loan:
    principal: Decimal
    lpr: Decimal  # percent: 3.10 means 3.10%
    start: date
    months: int


@dataclass(frozen=True)
class Project:
    applicant: Party
    application_date: date
    provider: Party | None = None
    insurer: Party | None = None
    scene_id: int | None = None
    scene_category: str | None = None
    provider_investment: Decimal = ZERO
    robot_procurement: Decimal = ZERO
    project_investment: Decimal = ZERO
    insurance_premium: Decimal = ZERO
    assessment_score: Decimal = ZERO
    insurance_kind: str = ""
    district_supported: bool = False
    loans: tuple[Loan, ...] = ()

    def base(self, name: str) -> Decimal:
        value: Decimal = getattr(self, name)
        return value


@dataclass(frozen=True)
class Award:
    """An approved award, as later quotes count it."""

    rule_id: str
    policy: str
    exclusion_group: str
    recipient: str  # recipient key: "org:12" or "district:梁溪区"
    scene_id: int | None
    amount: Decimal
    base: Decimal
    application_date: date


@dataclass
class CapStep:
    label: str
    room: Decimal  # what the cap still allows
    before: Decimal
    after: Decimal


@dataclass
class Line:
    rule: str
    name: str
    source: str
    source_text: str
    recipient: str  # key, see Award
    recipient_name: str
    exclusion_group: str
    applicable: bool = False
    amount_before_caps: Decimal = ZERO
    amount: Decimal = ZERO
    paid: bool = False
    base: Decimal = ZERO
    steps: list[str] = field(default_factory=list)
    caps: list[CapStep] = field(default_factory=list)
    guideline: str = ""
    why: list[str] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        return "；".join([*self.steps, *self.why]) + "。"


@dataclass
class Quote:
    lines: list[Line]
    total: Decimal
    notices: list[str]
    rounding: str


def _recipient(rule: Rule, project: Project) -> tuple[str, str] | None:
    """(key, name) of who receives the rule's money, or None when nobody is named."""
    party = {
        "applicant": project.applicant,
        "provider": project.provider,
        "insurer": project.insurer,
    }.get(rule.recipient)
    if rule.recipient == "district":
        district = project.applicant.district
        return f"district:{district}", f"{district}（{project.applicant.name}所在区）"
    if party is None:
        return None
    return f"org:{party.id}", party.name


def _paid(
    history: Iterable[Award], *, recipient: str, **match: object
) -> tuple[Decimal, Decimal]:
    """(amount, base) of the awards to `recipient` whose fields equal `match`."""
    amount = base = ZERO
    for award in history:
        if award.recipient == recipient and all(
            getattr(award, k) == v for k, v in match.items()
        ):
            amount += award.amount
            base += award.base
    return amount, base


def _why_not(rule: Rule, project: Project) -> str | None:
    """The first reason the rule does not apply to the project, or None."""
    day = project.application_date
    if not rule.in_force(day):
        return (
            f"申请日期{day.isoformat()}不在本条有效期"
            f"（{rule.starts.isoformat()}至{rule.ends.isoformat()}）内"
        )
    if rule.applicant_kinds and project.applicant.kind not in rule.applicant_kinds:
        return (
            f"申请单位类型为“{project.applicant.kind}”，本条面向"
            f"{'、'.join(rule.applicant_kinds)}"
        )
    if rule.scene_categories:
        if project.scene_id is None:
            return "须对应平台上的场景项目（未选择场景）"
        if project.scene_category not in rule.scene_categories:
            return (
                f"场景类别为“{project.scene_category}”，本条面向"
                f"{'、'.join(rule.scene_categories)}场景"
            )
    if rule.requires_district_support and not project.district_supported:
        return (
            "获得市级支持的项目原则上应已获得所在区区级支持（场景政策第2条），"
            "本项目尚未获得区级支持"
        )
    if rule.recipient == "provider" and project.provider is None:
        return "未填写场景提供企业"
    if rule.recipient == "insurer":
        if project.insurer is None:
            return "未填写保险机构"
        if project.insurance_kind not in rule.insurance_kinds:
            return f"险种须为{'、'.join(rule.insurance_kinds)}"
    if rule.formula.kind == "loan_interest":
        if not project.loans:
            return "未填写专项贷款"
    elif project.base(rule.formula.base) <= 0:
        return f"未填写{rule.formula.base_label}"
    return None


def _add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _months_in_force(rule: Rule, loan: Loan) -> int:
    """Whole months of the loan, counted from its start, that end inside the rule's
    period (a month ends the day before the same day of the next month)."""
    months = 0
    while (
        months < loan.months
        and _add_months(loan.start, months + 1) - timedelta(days=1) <= rule.ends
    ):
        months += 1
    return months


def _loan_interest(rule: Rule, project: Project, line: Line) -> Decimal:
    share = rule.formula.share_of_lpr
    limit = rule.formula.months_per_contract
    total = ZERO
    for number, loan in enumerate(project.loans, start=1):
        label = f"第{number}笔贷款"
        if not rule.in_force(loan.start):
            line.steps.append(
                f"{label}起始于{loan.start.isoformat()}，不是政策执行期内新增的贷款，不计"
            )
            continue
        inside = _months_in_force(rule, loan)
        months = min(loan.months, limit, inside)
        interest = loan.principal * loan.lpr / 100 * share * months / 12
        note = ""
        if months < loan.months:
            reasons = []
            if loan.months > limit:
                reasons.append(f"单笔贷款合同不超过{limit}个月")
            if inside < min(loan.months, limit):
                reasons.append(f"执行期（至{rule.ends.isoformat()}）内仅{inside}个整月")
            note = f"（期限{loan.months}个月，{'，'.join(reasons)}）"
        line.steps.append(
            f"{label}：{yuan(loan.principal)} × LPR {loan.lpr}% × {percent(share)}"
            f" × {months}/12 = {yuan(to_fen(interest))}{note}"
        )
        total += interest
    return total


def _tiers(
    rule: Rule, project: Project, line: Line, prior_base: Decimal, prior_paid: Decimal
) -> Decimal:
    formula = rule.formula
    base = project.base(formula.base)
    line.base = base
    cumulative = base + prior_base
    if prior_base:
        line.steps.append(
            f"本项目此前已按本条获{yuan(prior_paid)}（计入{formula.base_label}"
            f"{yuan(prior_base)}），累计{formula.base_label}{yuan(cumulative)}"
        )
    reached = [i for i, t in enumerate(formula.tiers) if t.minimum <= cumulative]
    if not reached:
        lowest = formula.tiers[0].minimum if formula.tiers else ZERO
        line.steps.append(
            f"{formula.base_label}{formula.measure(cumulative)}，"
            f"未达到最低档（{formula.measure(lowest)}）"
        )
        return ZERO
    tier = formula.tiers[reached[-1]]
    value = tier.value(cumulative)
    if tier.rate is not None:
        shown = f"{yuan(cumulative)} × {percent(tier.rate)} = {yuan(to_fen(value))}"
    else:
        shown = f"{yuan(value)}"
    line.steps.append(
        f"{formula.base_label}{formula.measure(cumulative)}，"
        f"适用档位“{formula.tier_label(reached[-1])}”：{shown}"
    )
    if prior_paid:
        line.steps.append(f"扣除本项目已获的{yuan(prior_paid)}")
    return max(value - prior_paid, ZERO)


def _apply_caps(
    rule: Rule,
    rulebook: Rulebook,
    project: Project,
    line: Line,
    history: Sequence[Award],
    amount: Decimal,
) -> Decimal:
    year = project.application_date.year
    for cap in rule.caps:
        if cap.scope == "project":
            used, _ = _paid(
                history,
                recipient=line.recipient,
                rule_id=rule.id,
                scene_id=project.scene_id,
            )
        elif cap.scope == "enterprise_period":
            used = sum(
                (
                    a.amount
                    for a in history
                    if a.recipient == line.recipient
                    and a.rule_id == rule.id
                    and rule.in_force(a.application_date)
                ),
                ZERO,
            )
        else:  # enterprise_year
            used = sum(
                (
                    a.amount
                    for a in history
                    if a.recipient == line.recipient
                    and a.rule_id == rule.id
                    and a.application_date.year == year
                ),
                ZERO,
            )
        amount = _cap(line, cap.label, cap.amount, used, amount)
    policy_cap = rulebook.policy_caps.get(rule.policy)
    if policy_cap is not None:
        used = sum(
            (
                a.amount
                for a in history
                if a.recipient == line.recipient
                and a.policy == rule.policy
                and a.application_date.year == year
            ),
            ZERO,
        )
        label = f"{policy_cap.label}{yuan(policy_cap.amount)}"
        amount = _cap(line, label, policy_cap.amount, used, amount)
    return amount


def _cap(
    line: Line, label: str, limit: Decimal, used: Decimal, amount: Decimal
) -> Decimal:
    room = max(limit - used, ZERO)
    after = min(amount, room)
    line.caps.append(CapStep(label, room, amount, after))
    if after < amount:
        already = f"已获{yuan(used)}，" if used else ""
        line.steps.append(
            f"{label}（{already}尚余{yuan(room)}）：由{yuan(to_fen(amount))}减为{yuan(to_fen(after))}"
        )
    return after


def _line(
    rule: Rule, rulebook: Rulebook, project: Project, history: Sequence[Award]
) -> Line:
    recipient = _recipient(rule, project)
    key, name = recipient if recipient else ("", RECIPIENTS[rule.recipient])
    line = Line(
        rule=rule.id,
        name=rule.name,
        source=rule.source.citation,
        source_text=rule.source.text,
        recipient=key,
        recipient_name=name,
        exclusion_group=rule.exclusion_group,
    )
    reason = _why_not(rule, project)
    if reason is not None:
        line.why.append(reason)
        return line
    if rule.formula.guideline and rule.formula.kind == "tiers":
        version = (
            f"第{rule.guideline.version}版，{rule.guideline.set_on.isoformat()}调整"
            if rule.guideline
            else "初始示例值"
        )
        line.guideline = (
            f"档位由实施细则确定，此处为平台设定值（{version}），以正式申报指南为准"
        )
    line.applicable = True
    if rule.formula.kind == "loan_interest":
        gross = _loan_interest(rule, project, line)
        line.base = sum((loan.principal for loan in project.loans), ZERO)
    else:
        prior_paid, prior_base = _paid(
            history, recipient=key, rule_id=rule.id, scene_id=project.scene_id
        )
        if project.scene_id is None:
            prior_paid = prior_base = ZERO
        gross = _tiers(rule, project, line, prior_base, prior_paid)
    line.amount_before_caps = to_fen(gross)
    line.amount = to_fen(_apply_caps(rule, rulebook, project, line, history, gross))
    if rule.condition_note:
        line.why.append(rule.condition_note)
    return line


def _exclusive(
    rulebook: Rulebook, project: Project, lines: list[Line], history: Sequence[Award]
) -> None:
    """就高不重复: in each exclusion group, only the highest line is paid."""
    for group, label in rulebook.exclusion_groups.items():
        members = [ln for ln in lines if ln.exclusion_group == group]
        candidates = [ln for ln in members if ln.applicable and ln.amount > 0]
        locked = next(
            (
                a.rule_id
                for a in history
                if project.scene_id is not None
                and a.scene_id == project.scene_id
                and a.exclusion_group == group
            ),
            None,
        )
        if locked is not None:
            earlier = rulebook.rule(locked).name
            for ln in candidates:
                if ln.rule == locked:
                    ln.paid = True
                    ln.why.append(f"本项目此前已按本条获得支持，{label}，只续算本条")
                else:
                    ln.why.append(
                        f"本项目此前已按“{earlier}”获得支持，同属“{label}”，不重复享受"
                    )
            continue
        if not candidates:
            continue
        # The highest amount wins; on a tie, the rule listed first in the rulebook.
        winner = max(candidates, key=lambda ln: (ln.amount, -lines.index(ln)))
        winner.paid = True
        others = [ln for ln in candidates if ln is not winner]
        if others:
            winner.why.append(
                f"与{'、'.join('“' + o.name + '”' for o in others)}同属“{label}”，"
                "本项金额最高，按本项支付"
            )
        for other in others:
            other.why.append(
                f"与“{winner.name}”同属“{label}”，就高不重复：按金额更高的"
                f"“{winner.name}”（{yuan(winner.amount)}）支付，本项不支付"
            )


def quote(rulebook: Rulebook, project: Project, history: Sequence[Award] = ()) -> Quote:
    """Every rule against `project`, given the awards already approved."""
    lines = [_line(rule, rulebook, project, history) for rule in rulebook.rules]
    _exclusive(rulebook, project, lines, history)
    for line in lines:
        if line.applicable and line.amount == 0 and not line.paid:
            line.why.append("本次可得金额为0")
    notices = []
    for number, loan in enumerate(project.loans, start=1):
        if loan.months > 12:
            notices.append(
                f"第{number}笔贷款期限{loan.months}个月：贴息只计政策执行期内、"
                "单笔合同不超过12个月的部分"
            )
    total = sum((line.amount for line in lines if line.paid), ZERO)
    return Quote(lines, total, notices, rulebook.rounding)
