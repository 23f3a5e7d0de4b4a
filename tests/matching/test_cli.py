import io
import json

from matching.cli import main


def write_jsonl(path, rows):
    path.write_text(
        "\n".join(
            r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows
        )
        + "\n",
        encoding="utf-8",
    )
    return path


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), out=out, errors=err)
    return status, out.getvalue(), err.getvalue()


def test_rank_prints_the_contract_shape(tmp_path):
    supply = write_jsonl(
        tmp_path / "s.jsonl",
        [
            {
                "id": "c1",
                "title": "输电线路无人机巡检",
                "description": "无人机巡检高压线",
                "domains": ["城市治理"],
                "unknown": 1,
            },
            {"id": "c2", "title": "智慧停车", "description": "停车诱导"},
        ],
    )
    demand = write_jsonl(
        tmp_path / "d.jsonl",
        [
            {
                "id": "s1",
                "title": "高压线路巡检",
                "description": "需要无人机巡检",
                "domain": "城市治理",
            },
        ],
    )
    status, out, err = run(
        "rank", "--demand", str(demand), "--supply", str(supply), "-k", "1"
    )
    assert status == 0, err
    record = json.loads(out)
    assert record["demand_id"] == "s1"
    assert len(record["matches"]) == 1
    match = record["matches"][0]
    assert match["supply_id"] == "c1" and isinstance(match["score"], float)
    assert match["reasons"] and "text" in match["reasons"][0]


def test_bad_lines_are_named_and_skipped_or_stop_with_strict(tmp_path):
    supply = write_jsonl(
        tmp_path / "s.jsonl",
        [
            {"id": "c1", "title": "电梯监测", "description": "电梯困人监测"},
            "{not json",
            {"title": "no id"},
        ],
    )
    demand = write_jsonl(tmp_path / "d.jsonl", [{"id": "s1", "title": "电梯"}])
    status, out, err = run("rank", "--demand", str(demand), "--supply", str(supply))
    assert status == 0
    assert "s.jsonl:2: 不是有效的 JSON" in err and "s.jsonl:3" in err
    assert json.loads(out)["demand_id"] == "s1"
    status, out, err = run(
        "rank", "--demand", str(demand), "--supply", str(supply), "--strict"
    )
    assert status == 2 and "s.jsonl:2" in err and out == ""


def test_empty_supply_and_missing_file_are_clear(tmp_path):
    empty = write_jsonl(tmp_path / "s.jsonl", [])
    demand = write_jsonl(tmp_path / "d.jsonl", [{"id": "s1", "title": "电梯"}])
    status, _, err = run("rank", "--demand", str(demand), "--supply", str(empty))
    assert status == 2 and "供给集为空" in err
    status, _, err = run(
        "rank", "--demand", str(tmp_path / "none.jsonl"), "--supply", str(demand)
    )
    assert status == 2 and "无法读取" in err
