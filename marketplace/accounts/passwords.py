"""Which passwords an account may have (issue 12, finding 11).

A password is refused when it is short (8 characters, 10 for staff, whose accounts
review and publish for the whole city), when it is on the list of common passwords,
when it is made of the user's own name, or when it has almost no variety
(aaaaaaaa, 12121212, abcdefgh).
"""

import functools
import gzip
from pathlib import Path

MIN_LENGTH = 8
MIN_STAFF_LENGTH = 10
MAX_LENGTH = 128
STAFF_ROLES = frozenset({"admin", "center", "reviewer"})
_COMMON_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"
_DRESSING = "0123456789!@#$%.*_-"
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(_COMMON_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def minimum_length(role: str) -> int:
    return MIN_STAFF_LENGTH if role in STAFF_ROLES else MIN_LENGTH


def password_problem(password: str, *, username: str, role: str) -> str | None:
    """Why this password is refused for this account, in Chinese; None if it is fine."""
    length = minimum_length(role)
    if len(password) < length:
        return f"密码至少{length}位"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过{MAX_LENGTH}位"
    folded = password.casefold()
    # A common word dressed with digits or a symbol (dragon2026, 2026password!) is
    # guessed as fast as the word itself.
    core = folded.strip(_DRESSING)
    if folded in common_passwords() or (len(core) >= 4 and core in common_passwords()):
        return "这个密码过于常见，很容易被猜中，请换一个"
    name = username.casefold()
    if len(name) >= 3 and (name in folded or folded in name or name[::-1] in folded):
        return "密码不能包含用户名"
    if len(set(folded)) < 4 or _is_run(folded):
        return "密码过于简单（重复或连续的字符），请加入不同的字母、数字或符号"
    return None


def _is_run(text: str) -> bool:
    """A stretch of a sequence or a keyboard row, forwards or backwards, or a short
    unit repeated (abcdefgh, 87654321, qwertyui, abcabcabc)."""
    for sequence in ("abcdefghijklmnopqrstuvwxyz", *_KEYBOARD_ROWS):
        if text in sequence or text in sequence[::-1]:
            return True
    for unit in range(1, len(text) // 2 + 1):
        if len(text) % unit == 0 and text[:unit] * (len(text) // unit) == text:
            return True
    return False
