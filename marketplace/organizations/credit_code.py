"""The unified social credit code (统一社会信用代码) of GB 32100-2015.

18 characters: registration authority and type, 6-digit administrative division,
9-character organization code, and a check character computed modulo 31.
"""

import unicodedata

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def normalize(code: str) -> str:
    """Full-width characters to ASCII and surrounding spaces removed; case is kept."""
    return unicodedata.normalize("NFKC", code).strip()


def credit_code_problem(code: str) -> str | None:
    """Why `code` is not a valid credit code, in Chinese, or None when it is valid."""
    if len(code) != 18:
        return "统一社会信用代码应为18位"
    if any(c not in CHARSET for c in code):
        return "统一社会信用代码只能包含数字和大写字母（不含I、O、Z、S、V）"
    if not code[2:8].isdigit():
        return "统一社会信用代码第3至8位应为行政区划代码"
    if check_character(code[:17]) != code[17]:
        return "统一社会信用代码校验位不正确"
    return None
