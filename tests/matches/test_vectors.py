"""Sentence vectors in the platform: stored when items are written, the shipped demo
vectors, `flask embed`, stale vectors never mixed, and semantic reasons on the pages
and the API."""

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from marketplace.demo import DEMO_DIR
from marketplace.matches import vectors
from marketplace.matches.models import ItemVector
from marketplace.scheduler import embed_missing_vectors
from matching.embed import embedding_text, text_digest

LEAK_SCENE = {
    "title": "空压站压缩空气管网漏气排查",
    "description": "惠山区某机械厂空压站供气管网长约3公里，跑冒滴漏严重，"
    "每年多耗电约40万度，希望找到漏点并持续监测，漏点定位误差不超过1米。",
    "industries": ["高端装备"],
}
# Says what the scene needs without one of its words.
ACOUSTIC_CAMERA = {
    "title": "声学成像仪",
    "description": "手持式128路麦克风阵列，对着设备一扫即可在屏幕上看到泄漏点，"
    "已在200家工厂使用。",
    "industries": ["高端装备"],
    "domains": ["产业发展"],
}


def test_the_shipped_demo_vectors_are_what_the_model_computes(dense):
    shipped = vectors.read_seed_vectors(DEMO_DIR / vectors.SEED_VECTORS, dense.name)
    rows = json.loads((DEMO_DIR / "scenes.json").read_text(encoding="utf-8"))[:3]
    rows += json.loads((DEMO_DIR / "capabilities_b.json").read_text(encoding="utf-8"))[
        -2:
    ]
    texts = [embedding_text(r["title"], r.get("description") or "") for r in rows]
    computed = dense.passages(texts)
    assert len(shipped) == 550
    for text, vector in zip(texts, computed, strict=True):
        assert float(shipped[text_digest(text)] @ vector) > 0.9999


@pytest.mark.dense
def test_writing_an_item_stores_its_vector_with_model_and_text(
    app, db, make_scene, make_user, token_for, client, dense
):
    unit = make_user("unit")
    scene_id = make_scene(owner=unit, status="draft", **LEAK_SCENE)
    row = db.get(ItemVector, ("scene", scene_id))
    assert row.model == dense.name
    text = embedding_text(LEAK_SCENE["title"], LEAK_SCENE["description"])
    assert row.text_digest == text_digest(text)
    assert np.allclose(
        vectors.from_bytes(row.vector), dense.passages([text])[0], atol=1e-5
    )
    response = client.patch(
        f"/api/v1/scenes/{scene_id}",
        headers=token_for(unit),
        json={"description": "车间地面油污导致叉车打滑，需要清洁机器人每天清扫两次。"},
    )
    assert response.status_code == 200, response.get_json()
    db.rollback()  # a new snapshot: the request committed in another connection
    assert db.get(ItemVector, ("scene", scene_id)).text_digest != text_digest(text)


@pytest.mark.dense
def test_an_offer_sharing_no_words_is_proposed_with_a_semantic_reason(
    client, make_scene, make_capability
):
    scene_id = make_scene(**LEAK_SCENE)
    camera = make_capability(**ACOUSTIC_CAMERA)
    make_capability(
        title="幼儿园午餐营养配餐软件",
        description="为幼儿园提供带量食谱、营养分析和家长端公示，已服务300所幼儿园。",
        domains=["社会民生"],
        industries=["软件与信息技术服务"],
    )
    items = client.get(f"/api/v1/scenes/{scene_id}/matches").get_json()["items"]
    assert items[0]["capability_id"] == camera
    assert isinstance(items[0]["strong"], bool)
    semantic = [r for r in items[0]["reasons"] if r["factor"] == "dense"]
    assert semantic and semantic[0]["text"].startswith("语义")
    page = client.get(f"/scenes/{scene_id}").get_data(as_text=True)
    assert semantic[0]["text"].split("（")[0] in page and "相关可能性约" in page


@pytest.mark.dense
def test_vectors_of_another_model_are_recomputed_never_mixed(
    app, db, make_capability, make_scene, client, dense
):
    capability_id = make_capability(**ACOUSTIC_CAMERA)
    row = db.get(ItemVector, ("capability", capability_id))
    row.model, row.vector = "some-older-model/1", np.ones(384, "<f4").tobytes()
    db.commit()
    capability = db.get(vectors.Capability, capability_id)
    _, missing = vectors.stored_vectors(db, "capability", [capability], dense.name)
    assert missing == 1  # the old model's vector is not read as this model's
    assert vectors.missing_vectors(db, "capability", dense.name) == [capability_id]
    result = app.test_cli_runner().invoke(args=["embed"])
    assert result.exit_code == 0, result.output
    assert "每秒" in result.output
    db.rollback()  # a new snapshot: the request committed in another connection
    assert db.get(ItemVector, ("capability", capability_id)).model == dense.name
    assert vectors.missing_vectors(db, "capability", dense.name) == []
    again = app.test_cli_runner().invoke(args=["embed"])
    assert "计算 0 条" in again.output


@pytest.mark.dense
def test_every_worker_maps_one_shared_file_of_vectors(app, make_capability, make_scene):
    make_capability(**ACOUSTIC_CAMERA)
    scene_id = make_scene(**LEAK_SCENE)
    client = app.test_client()
    assert client.get(f"/api/v1/scenes/{scene_id}/matches").status_code == 200
    files = list(Path(app.config["VECTORS_DIRECTORY"]).glob("*.f32"))
    assert [f.name.split("-")[0] for f in files] == ["capabilities"]
    index = app.extensions["match_indexes"]["capabilities"]
    # Read from the mapped file's pages, not copied into this process's memory.
    matrix = index.matcher.vectors_
    assert not matrix.flags.owndata and isinstance(matrix.base, np.memmap)


def test_without_the_model_embed_says_why_and_the_jobs_page_says_words_only(
    app, client, make_user, login
):
    result = app.test_cli_runner().invoke(args=["embed"])
    assert result.exit_code != 0
    assert "仅按关键词匹配" in result.output
    assert "仅按关键词匹配" in embed_missing_vectors(app)
    login(make_user("admin"))
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "匹配方式：语义匹配未开启，仅按关键词匹配" in page, page[page.find("<h1") :][
        :300
    ]


def test_a_page_without_strong_matches_says_so(client, make_scene, make_capability):
    scene_id = make_scene(**LEAK_SCENE)
    # Shares a word or two with the scene but does not serve it.
    make_capability(
        title="空压站设备租赁",
        description="提供空压机、储气罐短期租赁和上门安装，按月计费，已服务50家企业。",
        domains=["社会民生"],
        industries=["软件与信息技术服务"],
    )
    items = client.get(f"/api/v1/scenes/{scene_id}/matches").get_json()["items"]
    assert items and not any(i["strong"] for i in items)
    page = client.get(f"/scenes/{scene_id}").get_data(as_text=True)
    assert "暂无强匹配" in page and "空压站设备租赁" in page


def test_deleting_a_draft_deletes_its_vector(
    app, db, make_scene, make_user, token_for, client
):
    unit = make_user("unit")
    scene_id = make_scene(owner=unit, status="draft")
    db.add(
        ItemVector(
            kind="scene",
            item_id=scene_id,
            model="m",
            text_digest="x",
            vector=b"",
            computed_at=datetime.now(UTC),
        )
    )
    db.commit()
    assert (
        client.delete(f"/api/v1/scenes/{scene_id}", headers=token_for(unit)).status_code
        == 204
    )
    assert db.scalar(sa.select(sa.func.count()).select_from(ItemVector)) == 0


@pytest.mark.dense
def test_the_intake_check_names_the_same_need_written_in_other_words(
    client, make_scene, make_user, token_for
):
    existing = make_scene(
        title="梁溪区老旧小区加装电梯运行安全物联网监测",
        description="为全区已加装的312部电梯安装振动和困人传感器，接入区城运中心，"
        "要求困人报警30秒以内推送到维保单位。",
    )
    make_scene(
        title="新吴区商务楼宇电梯能耗监测与节能改造",
        description="对园区120部电梯加装能耗计量，分析待机能耗，提出节能方案。",
    )
    response = client.post(
        "/api/v1/scenes/check",
        headers=token_for(make_user("unit")),
        json={
            "title": "梁溪区加装电梯安全监测",
            "description": "给区里三百多部加装电梯装上传感器，电梯困人后半分钟内"
            "通知维保公司，数据接到城运中心。",
        },
    )
    assert response.status_code == 200, response.get_json()
    duplicates = response.get_json()["duplicates"]
    assert [d["id"] for d in duplicates] == [existing]
    assert duplicates[0]["semantic_similarity"] >= 0.95
    assert duplicates[0]["text_similarity"] < 0.8
