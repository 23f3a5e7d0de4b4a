"""The quote engine on its own: hand-computed cases from the policy texts, and
properties that hold for every project (hypothesis)."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.subsidies.quote import Award, Loan, Party, Project, quote
from marketplace.subsidies.rules import Guideline, Tier, load_rulebook

BOOK = load_rulebook()
APPLICANT = Party(1, "无锡澄华精密制造有限公司", "民营企业", "新吴区")
PROVIDER = Party(2, "无锡灵犀智算科技有限公司", "民营企业", "新吴区")
INSURER = Party(3, "无锡太湖财产保险股份有限公司", "金融机构", "梁溪区")
ON = date(2026, 6, 1)


def project(**changes: object) -> Project:
    base = Project(
        applicant=APPLICANT,
        application_date=ON,
        provider=PROVIDER,
        scene_id=7,
        scene_category="企业类",
        district_supported=True,
    )
    return replace(base, **changes)


def loan(principal: str, lpr: str = "3.10", months: int = 12, start: date = ON) -> Loan:
    return Loan(Decimal(principal), Decimal(lpr), start, months)


def line(result, rule_id):
    return next(ln for ln in result.lines if ln.rule == rule_id)


def awarded(result, scene_id=7):
    """The paid lines of a quote, as the reviewer's approval records them."""
    return [
        Award(
            ln.rule,
            BOOK.rule(ln.rule).policy,
            ln.exclusion_group,
            ln.recipient,
            scene_id,
            ln.amount,
            ln.base,
            ON,
        )
        for ln in result.lines
        if ln.paid and ln.amount > 0
    ]


# -- hand-computed cases ---------------------------------------------------------------


def test_the_issue_worked_loan_check() -> None:
    # 10,000,000 × 3.10% × 20% × 12/12 = 62,000.00
    result = quote(BOOK, project(provider=None, loans=(loan("10000000"),)))
    interest = line(result, "scene_loan_interest")
    assert interest.applicable and interest.paid
    assert interest.amount_before_caps == Decimal("62000.00")
    assert interest.amount == Decimal("62000.00")
    assert result.total == Decimal("62000.00")
    assert "1000万元 × LPR 3.10% × 20% × 12/12" in interest.explanation


def test_a_large_loan_is_capped_at_500000_per_enterprise() -> None:
    # 100,000,000 × 3.10% × 20% = 620,000 before caps; the enterprise cap is 500,000
    result = quote(BOOK, project(provider=None, loans=(loan("100000000"),)))
    interest = line(result, "scene_loan_interest")
    assert interest.amount_before_caps == Decimal("620000.00")
    assert interest.amount == Decimal("500000.00")
    assert interest.caps[0].before == Decimal("620000")
    assert "每家企业政策执行期内最高50万元" in interest.explanation


def test_the_cap_counts_what_the_enterprise_already_received() -> None:
    # Already 450,000 this period: 62,000 is cut to the 50,000 left.
    earlier = Award(
        "scene_loan_interest",
        "scene_measures",
        "scene_project",
        "org:1",
        99,
        Decimal("450000.00"),
        Decimal("0"),
        date(2026, 3, 1),
    )
    result = quote(BOOK, project(provider=None, loans=(loan("10000000"),)), [earlier])
    interest = line(result, "scene_loan_interest")
    assert interest.amount_before_caps == Decimal("62000.00")
    assert interest.amount == Decimal("50000.00")
    assert "已获45万元" in interest.explanation


def test_one_year_per_loan_contract_and_only_months_inside_the_period() -> None:
    # 24-month loan from 2027-06-01: 12 months allowed, but only 7 whole months end by
    # 2027-12-31 (June..December): 12,000,000 × 3.5% × 20% × 7/12 = 49,000.00
    result = quote(
        BOOK,
        project(
            provider=None,
            application_date=date(2027, 6, 10),
            loans=(loan("12000000", "3.5", 24, date(2027, 6, 1)),),
        ),
    )
    interest = line(result, "scene_loan_interest")
    assert interest.amount == Decimal("49000.00")
    assert "× 7/12" in interest.explanation
    assert result.notices and "24个月" in result.notices[0]


def test_a_loan_taken_before_the_policy_took_effect_is_not_counted() -> None:
    old = loan("10000000", start=date(2025, 12, 1))
    result = quote(BOOK, project(provider=None, loans=(old, loan("5000000"))))
    # Only the second: 5,000,000 × 3.10% × 20% = 31,000.00
    interest = line(result, "scene_loan_interest")
    assert interest.amount == Decimal("31000.00")
    assert "不是政策执行期内新增的贷款" in interest.explanation


def test_provider_reward_and_loan_interest_pay_the_higher_never_both() -> None:
    # Provider reward: investment 6,000,000 reaches the 5,000,000 tier: 500,000.
    # Loan interest: 20,000,000 × 3.10% × 20% = 124,000. The reward is higher.
    result = quote(
        BOOK,
        project(provider_investment=Decimal("6000000"), loans=(loan("20000000"),)),
    )
    reward, interest = (
        line(result, "scene_provider_reward"),
        line(result, "scene_loan_interest"),
    )
    assert reward.amount == Decimal("500000")
    assert interest.amount == Decimal("124000.00")
    assert reward.paid and not interest.paid
    assert result.total == Decimal("500000")
    assert "就高不重复" in interest.explanation


def test_the_loan_wins_when_it_is_higher() -> None:
    # Reward: 1,500,000 investment → 200,000 tier. Interest: 60,000,000 × 3.1% × 20%
    # = 372,000, higher.
    result = quote(
        BOOK,
        project(provider_investment=Decimal("1500000"), loans=(loan("60000000"),)),
    )
    assert line(result, "scene_loan_interest").paid
    assert not line(result, "scene_provider_reward").paid
    assert result.total == Decimal("372000.00")


def test_robot_scene_opening_by_rate_tiers_capped_at_two_million() -> None:
    # 2,000,000 procurement is in the 1,000,000 tier: 40% → 800,000.
    result = quote(BOOK, project(provider=None, robot_procurement=Decimal("2000000")))
    assert line(result, "ai_robot_scene_opening").amount == Decimal("800000.00")
    # 5,000,000 × 50% = 2,500,000, capped at 2,000,000.
    result = quote(BOOK, project(provider=None, robot_procurement=Decimal("5000000")))
    robot = line(result, "ai_robot_scene_opening")
    assert robot.amount_before_caps == Decimal("2500000.00")
    assert robot.amount == Decimal("2000000.00")


def test_tech_transfer_support_is_a_share_capped_at_one_million() -> None:
    # 3,000,000 × 10% = 300,000; 20,000,000 × 10% = 2,000,000 → 1,000,000
    small = quote(BOOK, project(provider=None, project_investment=Decimal("3000000")))
    assert line(small, "tech_transfer_scene_support").amount == Decimal("300000.00")
    big = quote(BOOK, project(provider=None, project_investment=Decimal("20000000")))
    assert line(big, "tech_transfer_scene_support").amount == Decimal("1000000.00")


def test_overlapping_municipal_policies_pay_the_highest_one() -> None:
    # Robot 40% of 2,000,000 = 800,000 beats tech transfer 10% of 2,000,000 = 200,000
    # and the provider reward 200,000 (investment 1,000,000): only the robot is paid.
    result = quote(
        BOOK,
        project(
            provider_investment=Decimal("1000000"),
            robot_procurement=Decimal("2000000"),
            project_investment=Decimal("2000000"),
        ),
    )
    paid = [ln.rule for ln in result.lines if ln.paid]
    assert paid == ["ai_robot_scene_opening"]
    assert result.total == Decimal("800000.00")


def test_insurance_reward_is_its_own_group_and_goes_to_the_insurer() -> None:
    # Premium 600,000 reaches the 500,000 tier: 300,000, paid beside the loan.
    result = quote(
        BOOK,
        project(
            provider=None,
            insurer=INSURER,
            insurance_kind="中试综合保险",
            insurance_premium=Decimal("600000"),
            loans=(loan("10000000"),),
        ),
    )
    insurance = line(result, "scene_insurance_reward")
    assert insurance.paid and insurance.amount == Decimal("300000")
    assert insurance.recipient == "org:3"
    assert result.total == Decimal("362000.00")


def test_without_district_support_municipal_project_support_does_not_apply() -> None:
    result = quote(BOOK, project(district_supported=False, loans=(loan("10000000"),)))
    interest = line(result, "scene_loan_interest")
    assert not interest.applicable and interest.amount == 0
    assert "区级支持" in interest.explanation


def test_a_date_outside_the_period_says_so() -> None:
    result = quote(
        BOOK,
        project(application_date=date(2028, 1, 2), loans=(loan("10000000"),)),
    )
    interest = line(result, "scene_loan_interest")
    assert not interest.applicable
    assert "2026-01-20至2027-12-31" in interest.explanation
    # Tech transfer measures run to 2028-08-31 and still apply.
    result = quote(
        BOOK,
        project(
            application_date=date(2028, 1, 2), project_investment=Decimal("100000")
        ),
    )
    assert line(result, "tech_transfer_scene_support").amount == Decimal("10000.00")


def test_a_government_scene_gets_no_enterprise_scene_support() -> None:
    result = quote(
        BOOK, project(scene_category="政务类", provider_investment=Decimal("3000000"))
    )
    reward = line(result, "scene_provider_reward")
    assert not reward.applicable and "企业类" in reward.explanation


def test_rounding_is_half_up_to_the_fen_once() -> None:
    # 1,234,567.89 × 3.10% × 20% × 7/12 = 4,465.018... → 4,465.02; no rounding of
    # intermediate figures (rounding the yearly 7,654.32 first would give 4,465.02 too,
    # so take 5 months: exact 3,189.298... → 3,189.30).
    result = quote(
        BOOK,
        project(
            provider=None,
            application_date=date(2027, 8, 1),
            loans=(loan("1234567.89", "3.10", 12, date(2027, 8, 1)),),
        ),
    )
    interest = line(result, "scene_loan_interest")
    assert interest.amount == Decimal("3189.30")


def test_a_guideline_version_replaces_the_tiers_and_is_named_on_the_line() -> None:
    book = BOOK.with_tiers(
        "scene_provider_reward",
        (Tier(Decimal("1000000"), amount=Decimal("300000")),),
        Guideline(2, date(2026, 5, 1), "申报指南"),
    )
    result = quote(book, project(provider_investment=Decimal("1000000")))
    reward = line(result, "scene_provider_reward")
    assert reward.amount == Decimal("300000")
    assert "第2版" in reward.guideline


def test_a_second_request_for_the_same_project_tops_up_the_same_rule() -> None:
    first = quote(BOOK, project(provider_investment=Decimal("3000000")))
    assert line(first, "scene_provider_reward").amount == Decimal("200000")
    # Cumulative 6,000,000 reaches the 500,000 tier: 300,000 more; a loan in the
    # second request cannot be paid beside it for the same project.
    second = quote(
        BOOK,
        project(provider_investment=Decimal("3000000"), loans=(loan("90000000"),)),
        awarded(first),
    )
    assert line(second, "scene_provider_reward").amount == Decimal("300000")
    assert line(second, "scene_provider_reward").paid
    assert not line(second, "scene_loan_interest").paid
    assert second.total == Decimal("300000")


# -- properties ------------------------------------------------------------------------

money = st.integers(min_value=0, max_value=50_000_000_00).map(
    lambda fen: Decimal(fen) / 100
)
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2029, 12, 31))
loans = st.lists(
    st.builds(
        Loan,
        money.filter(lambda m: m > 0),
        st.integers(min_value=1, max_value=1000).map(lambda b: Decimal(b) / 100),
        days,
        st.integers(min_value=1, max_value=60),
    ),
    max_size=4,
)
projects = st.builds(
    Project,
    applicant=st.sampled_from(
        [
            APPLICANT,
            replace(APPLICANT, kind="事业单位"),
            replace(APPLICANT, kind="园区"),
        ]
    ),
    application_date=days,
    provider=st.sampled_from([PROVIDER, None]),
    insurer=st.sampled_from([INSURER, None]),
    scene_id=st.just(7),
    scene_category=st.sampled_from(["企业类", "政务类"]),
    provider_investment=money,
    robot_procurement=money,
    project_investment=money,
    insurance_premium=money,
    insurance_kind=st.sampled_from(["", "概念验证保险"]),
    district_supported=st.booleans(),
    loans=loans.map(tuple),
)
histories = st.lists(
    st.builds(
        Award,
        st.sampled_from([r.id for r in BOOK.rules]),
        st.just("scene_measures"),
        st.just("scene_project"),
        st.sampled_from(["org:1", "org:2", "org:3"]),
        st.sampled_from([7, 8]),
        money,
        money,
        days,
    ),
    max_size=4,
).map(
    lambda awards: [
        replace(
            a,
            policy=BOOK.rule(a.rule_id).policy,
            exclusion_group=BOOK.rule(a.rule_id).exclusion_group,
        )
        for a in awards
    ]
)


@settings(max_examples=300, deadline=None)
@given(projects, histories)
def test_no_line_exceeds_its_caps_and_groups_pay_once(project, history) -> None:
    result = quote(BOOK, project, history)
    for ln in result.lines:
        rule = BOOK.rule(ln.rule)
        assert ln.amount >= 0
        assert ln.amount <= ln.amount_before_caps + Decimal("0.01")
        for cap in rule.caps:
            assert ln.amount <= cap.amount
        if not ln.applicable:
            assert ln.amount == 0 and not ln.paid
    for group in BOOK.exclusion_groups:
        assert (
            sum(1 for ln in result.lines if ln.paid and ln.exclusion_group == group)
            <= 1
        )
    assert result.total == sum(ln.amount for ln in result.lines if ln.paid)


@settings(max_examples=300, deadline=None)
@given(projects, histories)
def test_caps_hold_with_what_was_already_received(project, history) -> None:
    result = quote(BOOK, project, history)
    for ln in result.lines:
        if not ln.paid:
            continue
        for cap in BOOK.rule(ln.rule).caps:
            if cap.scope == "enterprise_period":
                rule = BOOK.rule(ln.rule)
                before = sum(
                    a.amount
                    for a in history
                    if a.recipient == ln.recipient
                    and a.rule_id == ln.rule
                    and rule.in_force(a.application_date)
                )
                assert before + ln.amount <= max(cap.amount, before)


@settings(max_examples=300, deadline=None)
@given(projects)
def test_a_date_outside_a_rules_period_never_applies_it(project) -> None:
    result = quote(BOOK, project)
    for ln in result.lines:
        rule = BOOK.rule(ln.rule)
        if not rule.in_force(project.application_date):
            assert not ln.applicable and ln.amount == 0 and not ln.paid


def halves(amount: Decimal, share: int) -> tuple[Decimal, Decimal]:
    first = (amount * share / 100).quantize(Decimal("0.01"))
    return first, amount - first


@settings(max_examples=300, deadline=None)
@given(projects, st.integers(min_value=0, max_value=100), st.integers(min_value=0))
def test_splitting_a_project_never_yields_more(project, share, cut) -> None:
    """The same project asked in two requests, the first approved before the second
    is quoted, never gets more than one request for the whole."""
    whole = quote(BOOK, project).total
    parts = {}
    for name in (
        "provider_investment",
        "robot_procurement",
        "project_investment",
        "insurance_premium",
    ):
        parts[name] = halves(getattr(project, name), share)
    cut = cut % (len(project.loans) + 1)
    first = replace(
        project,
        loans=project.loans[:cut],
        **{name: pair[0] for name, pair in parts.items()},
    )
    second = replace(
        project,
        loans=project.loans[cut:],
        **{name: pair[1] for name, pair in parts.items()},
    )
    one = quote(BOOK, first)
    two = quote(BOOK, second, awarded(one))
    assert one.total + two.total <= whole


@pytest.mark.parametrize("days_after", [0, 1])
def test_the_period_boundary_is_inclusive(days_after: int) -> None:
    day = date(2027, 12, 31) + timedelta(days=days_after)
    result = quote(
        BOOK,
        project(application_date=day, loans=(loan("1000000", start=date(2027, 1, 1)),)),
    )
    assert line(result, "scene_loan_interest").applicable is (days_after == 0)
