from matching import Item, Tokenizer
from matching.duplicates import DuplicateFinder, organization_key, similar_organizations
from matching.quality import assess, is_too_vague

TOKENIZER = Tokenizer()


def codes(title, description, **kwargs):
    return {issue.code for issue in assess(title, description, TOKENIZER, **kwargs)}


def test_a_vague_need_is_flagged_with_what_to_add():
    issues = assess(
        "智慧化提升",
        "打造智能平台，全面提升管理水平和服务效率，助力数字化转型。",
        TOKENIZER,
    )
    found = {issue.code for issue in issues}
    assert {"generic", "no_place", "no_scale", "no_target"} <= found
    assert is_too_vague(issues)
    assert all(issue.message for issue in issues)


def test_a_specific_need_passes():
    found = codes(
        "梁溪区老旧小区加装电梯运行安全监测",
        "为梁溪区已加装的312部电梯安装振动和困人传感器，接入区城运中心，"
        "要求困人报警30秒以内推送到维保单位，误报率不超过1%。",
    )
    assert found == set()


def test_offers_are_asked_for_cases_not_a_site():
    issues = assess("无人机", "我们做无人机。", TOKENIZER, offer=True)
    messages = " ".join(issue.message for issue in issues)
    assert "应用案例" in messages


def test_same_need_posted_twice_is_a_duplicate():
    existing = [
        Item(
            "1",
            "太湖蓝藻水华早期预警",
            "融合卫星遥感和浮标数据，提前72小时预警太湖蓝藻水华",
        ),
        Item("2", "智慧停车诱导", "道路停车位感知"),
    ]
    finder = DuplicateFinder(TOKENIZER).fit(existing)
    found = finder.find(
        Item(
            "new",
            "太湖蓝藻水华早期预警系统",
            "融合卫星遥感与浮标数据，提前72小时预警太湖蓝藻水华",
        )
    )
    assert [d.id for d in found] == ["1"]
    assert finder.find(Item("new", "紫砂文创", "紫砂壶设计")) == []


def test_a_finder_with_nothing_finds_nothing():
    assert DuplicateFinder(TOKENIZER).fit([]).find(Item("n", "标题", "描述")) == []


def test_organization_names_written_differently_are_the_same_company():
    assert organization_key("无锡芯测微电子科技有限公司") == "芯测微电子科技"
    assert organization_key("芯测微电子科技") == "芯测微电子科技"
    names = ["无锡芯测微电子科技有限公司", "江苏数智云图信息技术有限公司"]
    assert [n for n, _ in similar_organizations("芯测微电子科技", names)] == [names[0]]
    assert similar_organizations("无锡地铁集团有限公司", names) == []
