"""`python -m matching rank --demand D.jsonl --supply S.jsonl -k K`.

Prints one JSON line per demand item: {"demand_id", "matches": [{"supply_id",
"score", "strong", "reasons"}]}, best first; the score is calibrated (the estimated
probability that an officer judges the pair relevant) and `strong` marks the pairs the
platform calls strong matches. A line that is not a JSON object with an id and
some text is reported on stderr with its file and line number and skipped; with
--strict the run stops there instead (exit status 2).
"""

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from matching._matcher import Matcher
from matching.items import Item
from matching.synonyms import read_synonym_groups


class InputError(Exception):
    """A bad input file or line, reported as such (not as a crash)."""


def read_items(path: Path, *, strict: bool, errors: TextIO) -> Iterator[Item]:
    """Items of a JSONL file; bad lines are reported (and skipped unless strict)."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise InputError(f"无法读取 {path}：{error.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield Item.from_dict(json.loads(line))
            except (json.JSONDecodeError, ValueError, UnicodeDecodeError) as error:
                reason = (
                    "不是有效的 JSON"
                    if isinstance(error, json.JSONDecodeError)
                    else str(error)
                )
                message = f"{path}:{number}: {reason}"
                if strict:
                    raise InputError(message) from None
                print(f"{message}（已跳过）", file=errors)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m matching", description="场景机会与场景能力匹配"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    rank = commands.add_parser("rank", help="为每条需求列出最匹配的供给")
    rank.add_argument("--demand", required=True, type=Path, help="需求 JSONL 文件")
    rank.add_argument("--supply", required=True, type=Path, help="供给 JSONL 文件")
    rank.add_argument("-k", type=int, default=10, help="每条需求输出的匹配数（默认10）")
    rank.add_argument("--synonyms", type=Path, help="近义词表（默认使用内置表）")
    rank.add_argument(
        "--lexical", action="store_true", help="只按关键词匹配（不用语义模型）"
    )
    rank.add_argument(
        "--strict", action="store_true", help="遇到无效行即停止（默认报告后跳过）"
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO = sys.stdout,
    errors: TextIO = sys.stderr,
) -> int:
    args = build_parser().parse_args(argv)
    if args.k < 1 or args.k > 1000:
        print("-k 须在1到1000之间", file=errors)
        return 2
    try:
        groups = read_synonym_groups(args.synonyms) if args.synonyms else None
        supply = list(read_items(args.supply, strict=args.strict, errors=errors))
        if not supply:
            raise InputError(f"供给集为空：{args.supply} 中没有有效条目")
        matcher = Matcher(
            synonym_groups=groups, embedder=None if args.lexical else "auto"
        ).fit(supply)
        print(f"匹配方式：{matcher.mode_}", file=errors)
        for demand in read_items(args.demand, strict=args.strict, errors=errors):
            ranking = matcher.rank(demand, args.k)
            record = {
                "demand_id": ranking.demand_id,
                "matches": [
                    {
                        "supply_id": m.supply_id,
                        "score": m.score,
                        "strong": m.strong,
                        "reasons": m.reasons,
                    }
                    for m in ranking.matches
                ],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    except InputError as error:
        print(str(error), file=errors)
        return 2
    except OSError as error:
        print(f"无法读取近义词表：{error}", file=errors)
        return 2
    return 0
