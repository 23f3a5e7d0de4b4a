import pickle

import numpy as np
import pytest

from matching import FEATURES, Item, Matcher, NotFittedError, fit_weights
from matching.weights import as_vector

SUPPLY = [
    Item(
        "c1",
        "输电线路无人机自主巡检",
        "多旋翼无人机沿高压输电线路自主飞行，识别绝缘子破损",
        domains=("城市治理",),
        industries=("低空经济",),
        districts=("江阴市",),
        maturity="规模化应用",
    ),
    Item(
        "c2",
        "农田无人机植保服务",
        "无人机喷洒农药，覆盖水稻小麦田块",
        domains=("产业发展",),
        industries=("低空经济",),
        districts=("宜兴市",),
        maturity="规模化应用",
    ),
    Item(
        "c3",
        "智慧停车诱导系统",
        "道路停车位地磁感知和诱导屏发布",
        domains=("城市治理",),
        industries=("物联网",),
        districts=("梁溪区",),
    ),
    Item(
        "c4",
        "eVTOL 低空飞行器物流配送",
        "低空飞行器运送医疗样本，航线规划",
        domains=("社会民生",),
        industries=("低空经济",),
    ),
]
SCENE = Item(
    "s1",
    "江阴高压线路巡检",
    "希望用无人机对220kV线路开展巡检，自动识别缺陷",
    domains=("城市治理",),
    industries=("低空经济",),
    districts=("江阴市",),
    kind="集成应用类",
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher().fit(SUPPLY)


def test_fit_returns_self_and_learned_state_ends_in_underscore(matcher):
    assert isinstance(matcher, Matcher)
    assert matcher.supply_ids_ == ["c1", "c2", "c3", "c4"]


def test_rank_before_fit_raises():
    with pytest.raises(NotFittedError):
        Matcher().rank(SCENE)


def test_empty_supply_is_refused_clearly():
    with pytest.raises(ValueError, match="供给集为空"):
        Matcher().fit([])


def test_right_technology_for_the_right_need_ranks_first(matcher):
    ranking = matcher.rank(SCENE, k=4)
    assert ranking.demand_id == "s1"
    assert ranking.matches[0].supply_id == "c1"
    scores = [m.score for m in ranking.matches]
    assert scores == sorted(scores, reverse=True)
    # Same words (无人机), different need: crop spraying ranks below inspection.
    assert [m.supply_id for m in ranking.matches].index("c2") > 0


def test_reasons_name_shared_terms_fields_and_their_shares(matcher):
    best = matcher.rank(SCENE, k=1).matches[0]
    texts = " ".join(r["text"] for r in best.reasons)
    assert "共同关键词" in texts and "无人机" in texts
    assert "领域一致：城市治理" in texts
    # A reason under 5% of the score (here the district) is left out as noise.
    assert all(r["share"] >= 0.05 for r in best.reasons)
    # The reasons told cover most of the score; the rest had nothing to name.
    assert 0.6 <= sum(r["share"] for r in best.reasons) <= 1.0


def test_synonyms_connect_different_words():
    supply = [
        Item("a", "低空飞行器航拍服务", "提供低空飞行器航拍和测绘"),
        Item("b", "紫砂壶文创设计", "紫砂壶造型设计与文创"),
    ]
    ranking = Matcher().fit(supply).rank(Item("q", "无人机测绘", "需要无人机"), k=2)
    assert ranking.matches[0].supply_id == "a"


def test_a_term_the_dictionary_lacks_still_matches_by_its_characters():
    supply = [
        Item("a", "锂电隔膜涂覆线", "隔膜涂覆产线改造"),
        Item("b", "智慧停车", "停车诱导"),
    ]
    ranking = Matcher().fit(supply).rank(Item("q", "涂覆隔膜工艺", "隔膜"), k=2)
    assert [m.supply_id for m in ranking.matches][0] == "a"


def test_ranking_is_deterministic_and_ties_break_by_id():
    twins = [
        Item("b", "电梯监测", "电梯困人监测"),
        Item("a", "电梯监测", "电梯困人监测"),
    ]
    matcher = Matcher().fit(twins)
    first = matcher.rank(Item("q", "电梯监测", "电梯"), k=2)
    assert [m.supply_id for m in first.matches] == ["a", "b"]
    assert matcher.rank(Item("q", "电梯监测", "电梯"), k=2) == first


def test_refit_replaces_the_index(matcher):
    other = Matcher().fit(SUPPLY).fit(SUPPLY[2:3])
    assert other.supply_ids_ == ["c3"]
    assert [m.supply_id for m in other.rank(SCENE, 5).matches] in ([], ["c3"])


def test_both_directions_work():
    scenes = [
        SCENE,
        Item(
            "s2",
            "老旧小区停车难治理",
            "需要停车位感知与诱导",
            domains=("城市治理",),
            districts=("梁溪区",),
        ),
    ]
    ranking = Matcher().fit(scenes).rank(SUPPLY[2], k=2)
    assert ranking.matches[0].supply_id == "s2"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😀🤖🚁",
        "的了和",
        "x" * 1_000_000,
        "AI赋能 smart city 无人机 drone 5G",
    ],
)
def test_odd_text_never_crashes(matcher, text):
    ranking = matcher.rank(Item("q", text or " ", text), k=3)
    assert len(ranking.matches) <= 3


def test_unknown_keys_are_ignored_and_single_values_become_lists():
    item = Item.from_dict(
        {
            "id": 3,
            "title": "t",
            "district": "梁溪区",
            "domain": "城市治理",
            "colour": "red",
            "budget": "abc",
        }
    )
    assert (item.id, item.districts, item.domains, item.budget) == (
        "3",
        ("梁溪区",),
        ("城市治理",),
        None,
    )


@pytest.mark.parametrize(
    "bad", [{}, {"id": 1}, {"title": "no id"}, [1, 2], {"id": {"x": 1}, "title": "t"}]
)
def test_items_without_id_or_text_are_rejected(bad):
    with pytest.raises(ValueError):
        Item.from_dict(bad)


def test_score_all_agrees_with_rank(matcher):
    matrix = matcher.score_all([SCENE])
    ranking = matcher.rank(SCENE, k=4, explain=False)
    for match in ranking.matches:
        column = matcher.supply_ids_.index(match.supply_id)
        assert matrix[0, column] == pytest.approx(match.score, abs=1e-3)
    assert matcher.score_all([]).shape == (0, len(matcher.supply_ids_))


def test_fitted_matcher_can_be_pickled(matcher):
    clone = pickle.loads(pickle.dumps(matcher))
    assert clone.rank(SCENE, 2) == matcher.rank(SCENE, 2)


def test_weights_are_normalised_and_checked():
    vector = as_vector({"words": 2, "chars": 2})
    assert vector.sum() == pytest.approx(1) and vector[0] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        as_vector({"words": -1, "chars": 1})
    with pytest.raises(ValueError):
        as_vector({"colour": 1})


def test_fit_weights_learns_which_feature_separates_labels():
    rng = np.random.default_rng(0)
    features = rng.random((200, len(FEATURES)))
    labels = (features[:, 0] > 0.5).astype(int)
    weights = fit_weights(features, labels)
    assert max(weights, key=weights.get) == "words"
    with pytest.raises(ValueError):
        fit_weights(features, [1] * 200)


def test_term_index_rows_are_sklearns_tfidf_rows():
    import random

    import numpy as np

    from matching.retrieve import TermIndex

    rng = random.Random(7)
    vocabulary = [f"词{i}" for i in range(200)]
    documents = [rng.choices(vocabulary, k=rng.randint(0, 40)) for _ in range(150)]
    index = TermIndex(documents)
    queries = [
        rng.choices([*vocabulary, "未知"], k=rng.randint(0, 30)) for _ in range(60)
    ]
    queries += [[], ["未知"]]
    ours = index.transform(queries)
    theirs = index.tfidf.transform(index.counter.transform(queries))
    assert ours.shape == theirs.shape
    assert np.abs((ours - theirs).toarray()).max() < 1e-6
    assert np.abs((index.transform_one(queries[5]) - ours[5]).toarray()).max() < 1e-6
    assert index.transform([]).shape == (0, len(index.vocabulary))
