import io
import os
import signal
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from marketplace.imports.workbook import ORGANIZATION_HEADER, header_of
from marketplace.scenes.models import Scene
from marketplace.scenes.schemas import SCENE_FIELDS

DEADLINE = (date.today() + timedelta(days=60)).isoformat()


def scene_row(organization: str, **overrides):
    row = {
        "title": "惠山古镇游客客流热力监测",
        "description": "在惠山古镇主要出入口和"
        "街巷布设20路客流感知设备，高峰时段客流超过3万人次时10分钟内预警，"
        "接入区文旅局指挥平台。",
        "category": "政务类",
        "domain": "文旅消费",
        "kind": "技术驱动类",
        "industries": "物联网、智能传感器",
        "district": "惠山区",
        "budget": 800000,
        "funding_source": "财政资金",
        "deadline": DEADLINE,
        "contact_name": "陈工",
        "contact_phone": "0510-83000000",
        "contact_email": "",
        "contact_public": "是",
    }
    row.update(overrides)
    return [organization] + [row.get(f.name) for f in SCENE_FIELDS]


def workbook_bytes(rows, headers=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        headers or [ORGANIZATION_HEADER] + [header_of(f) for f in SCENE_FIELDS]
    )
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(form_post, data: bytes, kind="scenes", name="units.xlsx"):
    return form_post(
        "/imports",
        {"kind": kind, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.fixture
def center(client, make_user, login):
    user = make_user("center")
    login(user)
    return user


def test_template_has_chinese_headers_and_drop_downs(client, center):
    response = client.get("/imports/template/scenes.xlsx")
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[0] == ORGANIZATION_HEADER and "场景名称" in headers
    validations = sheet.data_validations.dataValidation
    assert len(validations) >= 5 and all(v.type == "list" for v in validations)
    assert workbook["选项"].sheet_state == "hidden"


def test_valid_sheet_previews_then_imports_every_row_once(
    client, center, form_post, make_org, db
):
    organization = make_org(name="无锡市惠山区文体旅游局")
    data = workbook_bytes(
        [
            scene_row(organization.name),
            scene_row(organization.name, title="惠山古镇夜游灯光秀升级"),
        ]
    )
    response = upload(form_post, data)
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "2 行" in page and "确认导入全部 2 行" in page
    assert db.scalar(sa.select(sa.func.count()).select_from(Scene)) == 0
    confirmed = form_post(preview_url + "/confirm")
    assert confirmed.status_code == 302
    db.rollback()
    scenes = db.scalars(sa.select(Scene)).all()
    assert {s.status for s in scenes} == {"submitted"}
    assert {s.organization_id for s in scenes} == {organization.id}
    assert scenes[0].industries == ["物联网", "智能传感器"]
    again = form_post(preview_url + "/confirm")
    assert again.status_code == 409
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(Scene)) == 2


def test_every_problem_is_named_by_row_column_and_reason(
    client, center, form_post, make_org, row_counts
):
    organization = make_org(name="无锡市惠山区文体旅游局")
    data = workbook_bytes(
        [
            scene_row(organization.name),
            scene_row("不存在的单位", budget="abc", domain="Tourism"),
            [None] * (len(SCENE_FIELDS) + 1),
            scene_row(organization.name, deadline="2020-01-01", title="=1+1"),
            scene_row("惠山区文体旅游局", title="惠山古镇夜游灯光秀升级"),
        ]
    )
    before = row_counts()
    page = client.get(upload(form_post, data).headers["Location"]).get_data(
        as_text=True
    )
    assert "第3行「发布单位」" in page and "未在平台登记" in page
    assert "第6行「发布单位」：单位“惠山区文体旅游局”未在平台登记，" in page
    assert "是否为“无锡市惠山区文体旅游局”？" in page
    assert "第3行「预算（元）」" in page
    assert "第3行「领域」" in page
    assert "第5行「征集截止日期」" in page
    assert "第5行「场景名称」：场景名称：含公式" in page or "含公式" in page
    assert "确认导入" not in page
    assert row_counts()["scenes"] == before["scenes"]


def test_likely_duplicates_are_flagged(client, center, form_post, make_org, make_scene):
    organization = make_org(name="无锡市惠山区文体旅游局")
    make_scene(title="惠山古镇游客客流热力监测")
    page = client.get(
        upload(form_post, workbook_bytes([scene_row(organization.name)])).headers[
            "Location"
        ]
    ).get_data(as_text=True)
    assert "疑似重复" in page
    assert page.count("惠山古镇游客客流热力监测") >= 2


def zip_with(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 .xls"),
        ("编号,标题\n1,测试".encode(), "不是 Excel 工作簿"),
        (b"%PDF-1.7 not a sheet", "不是 Excel 工作簿"),
        (b"PK\x03\x04 broken zip", "已损坏"),
        (zip_with({"xl/workbook.xml": b"<x/>", "xl/vbaProject.bin": b"macro"}), "宏"),
        (
            zip_with(
                {
                    "xl/workbook.xml": b"<x/>",
                    "xl/externalLinks/externalLink1.xml": b"<x/>",
                }
            ),
            "外部链接",
        ),
        (
            zip_with(
                {
                    "xl/workbook.xml": b"<x/>",
                    "xl/worksheets/sheet1.xml": b"0" * (40 * 1024 * 1024),
                }
            ),
            "压缩炸弹",
        ),
    ],
)
def test_unsafe_or_wrong_files_are_refused_with_a_message(
    client, center, form_post, row_counts, data, message
):
    before = row_counts()
    response = upload(form_post, data)
    assert response.status_code == 302
    assert message in client.get("/imports").get_data(as_text=True)
    assert row_counts() == before


def test_too_many_rows_are_refused(client, center, form_post, make_org):
    organization = make_org(name="无锡市惠山区文体旅游局")
    rows = [scene_row(organization.name, title=f"场景{i}") for i in range(5001)]
    upload(form_post, workbook_bytes(rows))
    assert "超过5000行" in client.get("/imports").get_data(as_text=True)


def test_upload_over_five_megabytes_is_413_before_reading_it(client, center, form_post):
    response = form_post(
        "/imports",
        {"kind": "scenes"},
        content_type="multipart/form-data",
        environ_overrides={"CONTENT_LENGTH": str(5 * 1024 * 1024 + 1)},
    )
    assert response.status_code == 413
    assert "过大" in response.get_data(as_text=True)


def test_another_users_preview_is_not_found(
    client, center, form_post, make_org, make_user, login
):
    organization = make_org(name="无锡市惠山区文体旅游局")
    url = upload(form_post, workbook_bytes([scene_row(organization.name)])).headers[
        "Location"
    ]
    login(make_user("center"))
    assert client.get(url).status_code == 404
    assert form_post(url + "/confirm").status_code == 404


def test_vendors_cannot_import(client, make_user, login, form_post):
    login(make_user("vendor"))
    assert upload(form_post, workbook_bytes([])).status_code == 403


CONFIRMER = """
import os, signal, sys
from datetime import date
from flask import Flask
from marketplace import audit, db
from marketplace.accounts.models import User
from marketplace.imports.services import confirm_import
url, batch_id, user_id = sys.argv[1:4]
app = Flask("confirmer")
app.config.update(DATABASE_URL=url)
db.init_app(app)
record, calls = audit.record, []

def record_then_die_on_the_second_row(*args, **kwargs):
    calls.append(1)
    if len(calls) == 2:  # the first row is in, the second is being written
        os.kill(os.getpid(), signal.SIGKILL)
    return record(*args, **kwargs)

audit.record = record_then_die_on_the_second_row
with db.session_scope(app) as session:
    confirm_import(session, session.get(User, int(user_id)), batch_id,
                   now=db.utcnow(), today=date.today())
print("not killed")
"""


def test_a_confirm_killed_halfway_imports_nothing_and_can_be_repeated(
    client, center, form_post, make_org, db, database_url
):
    organization = make_org(name="无锡市惠山区文体旅游局")
    data = workbook_bytes(
        [
            scene_row(organization.name),
            scene_row(organization.name, title="惠山古镇夜游灯光秀升级"),
        ]
    )
    preview_url = upload(form_post, data).headers["Location"]
    batch_id = preview_url.rstrip("/").rsplit("/", 1)[-1]
    killed = subprocess.run(
        [sys.executable, "-c", CONFIRMER, database_url, batch_id, str(center.id)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(Scene)) == 0
    assert form_post(preview_url + "/confirm").status_code == 302
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(Scene)) == 2
