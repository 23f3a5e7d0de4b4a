from marketplace.search import get_tokenizer, query_terms


def test_taxonomy_words_stay_whole():
    words = get_tokenizer().cut("具身智能机器人助力第三代半导体和低空经济")
    for term in ("具身智能", "第三代半导体", "低空经济"):
        assert term in words


def test_query_terms_drop_punctuation_and_stop_words():
    assert query_terms("  无人机，的 巡检！！ ") == ["无人机", "巡检"]


def search(client, q, kind="scenes"):
    body = client.get(f"/api/v1/{kind}", query_string={"q": q}).get_json()
    return [item["title"] for item in body["items"]]


def test_items_with_all_words_rank_first(client, make_scene):
    make_scene(
        title="太湖水质在线监测浮标布设",
        description="在太湖梅梁湾布设水质监测浮标，监测叶绿素和溶解氧。",
    )
    make_scene(
        title="城市内河蓝藻打捞船调度优化",
        description="蓝藻打捞船的调度和航线规划，覆盖城区内河。",
    )
    make_scene(
        title="太湖蓝藻水华早期预警",
        description="融合卫星遥感和浮标数据，提前72小时预警太湖蓝藻水华。",
    )
    assert search(client, "太湖 蓝藻")[0] == "太湖蓝藻水华早期预警"
    assert len(search(client, "太湖 蓝藻")) == 3


def test_search_finds_sub_words_of_longer_words(client, make_scene):
    make_scene(
        title="人工智能辅助政务热线工单分派",
        description="用人工智能模型对12345热线工单自动分类和派单。",
    )
    assert search(client, "智能") == ["人工智能辅助政务热线工单分派"]


def test_search_finds_an_item_by_its_industry_tag(client, make_scene):
    make_scene(
        title="硕放机场周边物流配送航线",
        industries=["低空经济"],
        description="利用无人机开展机场周边园区之间的小件物流配送。",
    )
    assert search(client, "低空经济") == ["硕放机场周边物流配送航线"]


def test_index_follows_edits_without_restart(
    client, make_user, make_capability, token_for
):
    vendor = make_user("vendor")
    capability_id = make_capability(
        owner=vendor, status="draft", title="紫砂壶数字化文创设计平台"
    )
    headers = token_for(vendor)
    center = token_for(make_user("center"))
    client.patch(
        f"/api/v1/capabilities/{capability_id}",
        headers=headers,
        json={"title": "氢燃料电池叉车租赁服务"},
    )
    client.post(
        f"/api/v1/capabilities/{capability_id}/transition",
        json={"to": "submitted"},
        headers=headers,
    )
    for target in ("approved", "published"):
        client.post(
            f"/api/v1/capabilities/{capability_id}/transition",
            json={"to": target},
            headers=center,
        )
    assert search(client, "氢燃料电池 叉车", "capabilities") == [
        "氢燃料电池叉车租赁服务"
    ]
    assert search(client, "紫砂壶", "capabilities") == []


def test_search_respects_visibility(client, make_scene):
    make_scene(title="尚在草稿中的量子通信场景", status="draft")
    assert search(client, "量子通信") == []


def test_stop_words_only_query_returns_nothing(client, make_scene):
    make_scene()
    assert search(client, "的 了 和") == []


def test_search_combines_with_sort(client, make_scene):
    make_scene(title="电梯监测甲方案", budget="100000.00")
    make_scene(title="电梯监测乙方案", budget="900000.00")
    body = client.get(
        "/api/v1/scenes", query_string={"q": "电梯", "sort": "budget_desc"}
    ).get_json()
    assert [i["budget"] for i in body["items"]] == ["900000.00", "100000.00"]


def test_search_pages_report_the_total_on_every_page(client, make_scene):
    """PostgreSQL counts the matches in the ranking pass; a page past the end, which
    has no rows to carry the count, still reports it."""
    for n in range(5):
        make_scene(title=f"锡山区河道无人机巡检第{n + 1}批")
    make_scene(title="梁溪区老旧小区加装电梯")
    seen = []
    for page in (1, 2, 3, 4):
        body = client.get(f"/api/v1/scenes?q=无人机&per_page=2&page={page}").get_json()
        assert body["total"] == 5, (page, body)
        seen += [item["title"] for item in body["items"]]
    assert len(seen) == len(set(seen)) == 5
    assert all("无人机" in title for title in seen)


def test_the_page_says_when_no_item_holds_every_word(client, make_scene):
    make_scene(
        title="梁溪区电梯物联网监测",
        description="为梁溪区老旧小区的电梯安装振动和门锁传感器，实时报警。",
    )
    make_scene(
        title="新吴区路灯物联网改造",
        description="把新吴区主干道的路灯接入物联网平台，按车流调节亮度。",
    )
    some = client.get("/scenes?q=电梯 物联网").get_data(as_text=True)
    assert "共 2 条，其中 1 条包含全部关键词，排在前面" in some
    assert "没有同时包含全部关键词" not in some
    partial = client.get("/scenes?q=电梯 无人机").get_data(as_text=True)
    assert "没有同时包含全部关键词的场景机会" in partial and "共 1 条" in partial
    none = client.get("/scenes?q=紫砂壶").get_data(as_text=True)
    assert "共 0 条" in none
    assert "包含全部关键词" not in none and "没有同时包含" not in none


def test_pages_are_numbered_and_a_page_past_the_end_is_refused(client, make_scene):
    for n in range(45):
        make_scene(title=f"梁溪区第{n}号路口信号灯智能配时")
    first = client.get("/scenes").get_data(as_text=True)
    assert 'aria-current="page" class="current">1<' in first
    assert ">3</a>" in first and "共 3 页" in first
    beyond = client.get("/scenes?page=9")
    assert beyond.status_code == 404
    text = beyond.get_data(as_text=True)
    assert "没有第 9 页：共 3 页" in text and "page=3" in text
    assert client.get("/scenes?page=3").status_code == 200
