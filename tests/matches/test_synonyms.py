import pytest
import sqlalchemy as sa

from marketplace import create_app, search
from marketplace.audit import AuditEntry
from marketplace.capabilities.models import Capability
from marketplace.matches.models import SynonymGroup

SCENE = {
    "title": "老城区雨污混接点排查与整改",
    "description": "梁溪区老城区雨污混接问题突出，需要排查雨污混接点位并给出整改清单。",
}
CAPABILITY = {
    "title": "管网错接智能诊断服务",
    "description": "通过流量与水质数据分析定位管网错接位置，出具诊断报告。",
    "domains": ["城市治理"],
    "industries": ["物联网"],
}


@pytest.fixture(autouse=True)
def fresh_dictionary(monkeypatch):
    """This test's own process-wide tokenizer, as in a newly started worker."""
    monkeypatch.setattr(search, "_tokenizer", None)
    monkeypatch.setattr(search, "_dictionary_version", None)


def shared_words(client, scene_id, capability_id):
    response = client.get(f"/api/v1/scenes/{scene_id}/matches?k=10")
    assert response.status_code == 200
    for item in response.get_json()["items"]:
        if item["capability_id"] == capability_id:
            return " ".join(
                r["text"] for r in item["reasons"] if r["factor"] == "words"
            )
    return None


def other_worker(database_url):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "MARKETPLACE_SCHEDULER": "off",
        }
    )


def test_a_center_group_makes_different_words_match_in_every_worker(
    client,
    db,
    make_scene,
    make_capability,
    make_user,
    login,
    form_post,
    database_url,
    token_for,
    monkeypatch,
):
    scene_id = make_scene(**SCENE)
    capability_id = make_capability(**CAPABILITY)
    worker = other_worker(database_url)
    other = worker.test_client()
    assert "雨污混接" not in (shared_words(other, scene_id, capability_id) or "")

    login(make_user("center"))
    response = form_post("/matches/synonyms", {"words": "雨污混接，管网错接、混错接"})
    assert response.status_code == 302
    page = client.get("/matches/synonyms").get_data(as_text=True)
    assert "已添加同义词组“雨污混接、管网错接、混错接”，重新切词2个条目" in page
    assert "使用中" in page

    # The item's stored words now hold the new word whole (it was cut in two).
    tokens = db.scalar(sa.select(Capability.search_tokens)).split()
    assert "管网错接" in tokens
    # The other worker refits on its next request and shows the shared word.
    assert "雨污混接" in shared_words(other, scene_id, capability_id)
    entry = db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "synonyms.add"))
    assert entry.details["words"] == ["雨污混接", "管网错接", "混错接"]

    # A worker started before the group, writing an item, first learns the words.
    monkeypatch.setattr(search, "_tokenizer", None)
    monkeypatch.setattr(search, "_dictionary_version", None)
    created = other.post(
        "/api/v1/capabilities",
        json={
            **CAPABILITY,
            "type": "新技术",
            "maturity": "小批量应用",
            "districts": ["梁溪区"],
        },
        headers=token_for(make_user("vendor")),
    )
    assert created.status_code == 201, created.get_json()
    new_tokens = db.get(Capability, created.get_json()["id"]).search_tokens.split()
    assert "管网错接" in new_tokens

    # Re-cutting every item in a fresh process (`flask reindex`) keeps the word whole.
    monkeypatch.setattr(search, "_tokenizer", None)
    monkeypatch.setattr(search, "_dictionary_version", None)
    result = worker.test_cli_runner().invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    db.rollback()
    assert all(
        "管网错接" in tokens.split()
        for tokens in db.scalars(sa.select(Capability.search_tokens))
    )

    group_id = db.scalar(sa.select(SynonymGroup.id))
    assert form_post(f"/matches/synonyms/{group_id}/retire").status_code == 302
    assert "雨污混接" not in (shared_words(other, scene_id, capability_id) or "")
    db.rollback()  # a fresh snapshot
    assert db.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "synonyms.retire")
    )
    worker.extensions["db"]["engine"].dispose()


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        ("雨污混接", "至少需要两个不同的词"),
        ("雨污混接 雨污混接", "至少需要两个不同的词"),
        ("雨污混接 管", "单个字不能作为同义词：管"),
        ("雨污混接 " + "长" * 21, "每个词最多20个字"),
        ("无人机 飞行平台", "“无人机”已在以“无人机”开头的组中"),
        ("航拍平台 uav", "“uav”已在以“无人机”开头的组中"),
    ],
)
def test_bad_groups_are_refused_with_the_reason_and_nothing_is_saved(
    client, db, make_user, login, form_post, words, reason
):
    login(make_user("center"))
    response = form_post("/matches/synonyms", {"words": words}, follow_redirects=True)
    assert reason in response.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(SynonymGroup)) == 0


def test_only_the_center_maintains_synonyms(client, db, make_user, login, form_post):
    login(make_user("vendor"))
    assert client.get("/matches/synonyms").status_code == 403
    response = form_post("/matches/synonyms", {"words": "雨污混接 管网错接"})
    assert response.status_code == 403
    assert db.scalar(sa.select(sa.func.count()).select_from(SynonymGroup)) == 0
    login(make_user("center"))
    assert form_post("/matches/synonyms/999/retire").status_code == 404
