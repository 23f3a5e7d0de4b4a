import pytest

from marketplace.organizations.credit_code import (
    check_character,
    credit_code_problem,
    normalize,
)


def test_known_valid_code_passes() -> None:
    assert credit_code_problem("91350100M000100Y43") is None


def test_check_character_is_computed_modulo_31() -> None:
    assert check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y44", "校验位"),
        ("91350100M000100Y4", "18位"),
        ("91350100m000100y43", "大写字母"),
        ("91350100M000100I43", "大写字母"),
        ("9135010AM000100Y43", "行政区划"),
    ],
)
def test_bad_codes_are_named_precisely(code: str, reason: str) -> None:
    problem = credit_code_problem(code)
    assert problem is not None and reason in problem


def test_full_width_input_is_normalised_then_still_checked() -> None:
    full_width = "９１３５０１００Ｍ０００１００Ｙ４３"
    assert credit_code_problem(normalize(full_width)) is None
    assert (
        credit_code_problem(normalize("９１３５０１００Ｍ０００１００Ｙ４４"))
        is not None
    )
