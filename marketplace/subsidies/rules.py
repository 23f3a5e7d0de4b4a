"""The support measures as data: read from `seed_data/subsidy_rules.json`, with the
tier bounds the policies leave to guidelines replaced by the admin's latest version.

Plain data and functions: the quote engine, the pages, the API and the tests read the
same rulebook.
"""

import json
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).resolve().parents[2] / "seed_data" / "subsidy_rules.json"

RECIPIENTS = {
    "applicant": "申请单位（场景应用单位）",
    "provider": "场景提供企业",
    "insurer": "保险机构",
    "district": "园区所在区",
}
CAP_SCOPES = {
    "project": "每个项目",
    "enterprise_period": "每家单位在政策执行期内",
    "enterprise_year": "每家单位每年",
}
BASES = {
    "provider_investment": "场景提供企业实际投入",
    "robot_procurement": "具身智能机器人采购投入",
    "project_investment": "项目实际投入",
    "insurance_premium": "实际承保保费",
    "assessment_score": "综合评价得分",
}


@dataclass(frozen=True)
class Source:
    file: str
    article: str
    text: str

    @property
    def citation(self) -> str:
        return f"{POLICY_TITLES.get(self.file, self.file)}{self.article}"


POLICY_TITLES = {
    "2025-12-scene-innovation-measures.txt": (
        "《无锡市支持场景创新高质量发展的若干政策措施》"
    ),
    "2025-04-ai-plus-city-opinions.txt": "《关于推动“人工智能+”城市建设的若干意见》",
    "2025-07-tech-transfer-measures.txt": "《无锡市加快推进科技成果转化的若干措施》",
}


@dataclass(frozen=True)
class Tier:
    """From `minimum` (inclusive) up to the next tier: a fixed `amount`, or `rate`
    of the whole base."""

    minimum: Decimal
    amount: Decimal | None = None
    rate: Decimal | None = None

    def value(self, base: Decimal) -> Decimal:
        if self.amount is not None:
            return self.amount
        assert self.rate is not None
        return base * self.rate

    def award(self) -> str:
        if self.amount is not None:
            return yuan(self.amount)
        assert self.rate is not None
        return f"按{percent(self.rate)}"


@dataclass(frozen=True)
class Cap:
    scope: str
    amount: Decimal
    label: str


@dataclass(frozen=True)
class Formula:
    kind: str  # "tiers" or "loan_interest"
    base: str = ""
    base_label: str = ""
    guideline: bool = False
    tiers: tuple[Tier, ...] = ()
    share_of_lpr: Decimal = Decimal(0)
    months_per_contract: int = 12

    def measure(self, value: Decimal) -> str:
        if self.base == "assessment_score":
            return f"{value.normalize():f}分"
        return yuan(value)

    def tier_label(self, index: int) -> str:
        """ "100万元至500万元：20万元" — the range a tier covers and what it gives."""
        tier = self.tiers[index]
        upper = self.tiers[index + 1].minimum if index + 1 < len(self.tiers) else None
        if tier.minimum <= Decimal("0.01") and upper is not None:
            span = f"不足{self.measure(upper)}"
        elif tier.minimum <= Decimal("0.01"):
            span = "不论多少"
        elif upper is None:
            span = f"{self.measure(tier.minimum)}及以上"
        else:
            span = f"{self.measure(tier.minimum)}至不足{self.measure(upper)}"
        return f"{span}：{tier.award()}"

    def tier_labels(self) -> list[str]:
        return [self.tier_label(i) for i in range(len(self.tiers))]


@dataclass(frozen=True)
class Guideline:
    """Which admin version of guideline values a rule or policy cap uses."""

    version: int
    set_on: date
    note: str = ""


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    source: Source
    policy: str
    starts: date
    ends: date
    recipient: str
    formula: Formula
    caps: tuple[Cap, ...]
    exclusion_group: str
    applicant_kinds: tuple[str, ...] = ()
    scene_categories: tuple[str, ...] = ()
    insurance_kinds: tuple[str, ...] = ()
    requires_district_support: bool = False
    condition_note: str = ""
    guideline: Guideline | None = None

    def in_force(self, day: date) -> bool:
        return self.starts <= day <= self.ends


@dataclass(frozen=True)
class PolicyCap:
    """A cap over every rule of one policy for one recipient and year."""

    policy: str
    label: str
    source: Source
    amount: Decimal
    guideline_value: bool
    guideline: Guideline | None = None


@dataclass(frozen=True)
class Rulebook:
    rules: tuple[Rule, ...]
    policy_caps: dict[str, PolicyCap]
    exclusion_groups: dict[str, str]  # id -> name
    rounding: str
    exclusion_basis: dict[str, str] = field(default_factory=dict)
    note: str = ""
    by_id: dict[str, Rule] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_id.update({rule.id: rule for rule in self.rules})

    def rule(self, rule_id: str) -> Rule:
        return self.by_id[rule_id]

    def with_tiers(
        self, rule_id: str, tiers: tuple[Tier, ...], guideline: Guideline
    ) -> "Rulebook":
        rules = tuple(
            replace(r, formula=replace(r.formula, tiers=tiers), guideline=guideline)
            if r.id == rule_id
            else r
            for r in self.rules
        )
        return replace(self, rules=rules, by_id={})

    def with_policy_cap(
        self, policy: str, amount: Decimal, guideline: Guideline
    ) -> "Rulebook":
        caps = dict(self.policy_caps)
        caps[policy] = replace(caps[policy], amount=amount, guideline=guideline)
        return replace(self, policy_caps=caps, by_id={})


def yuan(amount: Decimal) -> str:
    """An amount as officials write it: 万元 from ten thousand up, else 元."""
    if amount >= 10_000 and amount % 100 == 0:
        wan = (amount / 10_000).normalize()
        return f"{wan:f}万元"
    return f"{amount.quantize(Decimal('0.01')):,}元"


def percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _decimal(value: Any, what: str) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f'{what}应为数字（写成字符串，如 "1000000"）')
    try:
        number = Decimal(value.strip())
    except ArithmeticError:
        raise ValueError(f"{what}“{value}”不是数字") from None
    if not number.is_finite():
        raise ValueError(f"{what}应为有限的数字")
    return number


def parse_tiers(raw: list[dict[str, Any]]) -> tuple[Tier, ...]:
    """Tiers from data, checked: ascending minimums, each with one of amount/rate."""
    tiers = []
    for number, entry in enumerate(raw, start=1):
        amount, rate = entry.get("amount"), entry.get("rate")
        if (amount in (None, "")) == (rate in (None, "")):
            raise ValueError(f"第{number}档须且只须给出金额或比例之一")
        if entry.get("minimum") in (None, ""):
            raise ValueError(f"第{number}档缺少起点")
        tiers.append(
            Tier(
                _decimal(entry["minimum"], f"第{number}档起点"),
                _decimal(amount, f"第{number}档金额")
                if amount not in (None, "")
                else None,
                _decimal(rate, f"第{number}档比例") if rate not in (None, "") else None,
            )
        )
    minimums = [t.minimum for t in tiers]
    if minimums != sorted(minimums) or len(set(minimums)) != len(minimums):
        raise ValueError("各档起点须从低到高且互不相同")
    return tuple(tiers)


def _source(raw: dict[str, str]) -> Source:
    return Source(raw["file"], raw["article"], raw["text"])


def _rule(raw: dict[str, Any]) -> Rule:
    formula = raw["formula"]
    return Rule(
        id=raw["id"],
        name=raw["name"],
        source=_source(raw["source"]),
        policy=raw["policy"],
        starts=date.fromisoformat(raw["in_force"][0]),
        ends=date.fromisoformat(raw["in_force"][1]),
        recipient=raw["recipient"],
        formula=Formula(
            kind=formula["kind"],
            base=formula.get("base", ""),
            base_label=formula.get("base_label", ""),
            guideline=bool(formula.get("guideline", False)),
            tiers=parse_tiers(formula.get("tiers", [])),
            share_of_lpr=Decimal(formula.get("share_of_lpr", "0")),
            months_per_contract=int(formula.get("months_per_contract", 12)),
        ),
        caps=tuple(
            Cap(c["scope"], Decimal(c["amount"]), c["label"]) for c in raw["caps"]
        ),
        exclusion_group=raw["exclusion_group"],
        applicant_kinds=tuple(raw.get("applicant_kinds", ())),
        scene_categories=tuple(raw.get("scene_categories", ())),
        insurance_kinds=tuple(raw.get("insurance_kinds", ())),
        requires_district_support=bool(raw.get("requires_district_support", False)),
        condition_note=raw.get("condition_note", ""),
    )


def load_rulebook(path: Path = RULES_FILE) -> Rulebook:
    """The bundled rulebook, with the guideline values of the file (version 0)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    rules = tuple(_rule(raw) for raw in data["rules"])
    for rule in rules:
        if rule.recipient not in RECIPIENTS:
            raise ValueError(f"{rule.id}: 未知的受益方 {rule.recipient}")
        if rule.exclusion_group not in data["exclusion_groups"]:
            raise ValueError(f"{rule.id}: 未知的就高不重复组 {rule.exclusion_group}")
        if any(cap.scope not in CAP_SCOPES for cap in rule.caps):
            raise ValueError(f"{rule.id}: 未知的上限口径")
    return Rulebook(
        rules=rules,
        policy_caps={
            policy: PolicyCap(
                policy,
                raw["label"],
                _source(raw["source"]),
                Decimal(raw["amount"]),
                bool(raw.get("guideline", False)),
            )
            for policy, raw in data["policy_caps"].items()
        },
        exclusion_groups={
            group: raw["name"] for group, raw in data["exclusion_groups"].items()
        },
        exclusion_basis={
            group: raw["basis"] for group, raw in data["exclusion_groups"].items()
        },
        rounding=data["rounding"],
        note=data["_source"],
    )
