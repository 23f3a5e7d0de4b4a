import io
import os
import re
import signal
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from marketplace.errors import Invalid
from marketplace.imports.workbook import ORGANIZATION_HEADER, header_of, read_rows
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


def rewrite_sheet(data: bytes, change) -> bytes:
    """The workbook with its first sheet's XML passed through `change` (bytes)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            archive.writestr(entry.filename, content)
    return buffer.getvalue()


def claim_dimension(reference: str):
    def change(xml: bytes) -> bytes:
        return re.sub(
            rb'<dimension ref="[^"]*" ?/>',
            f'<dimension ref="{reference}"/>'.encode(),
            xml,
        )

    return change


def column_of(name: str) -> str:
    """The sheet column of a scene field (the organization is column A)."""
    return get_column_letter(2 + [f.name for f in SCENE_FIELDS].index(name))


def with_raw_value(reference: str, raw: str, *, keep_style: bool = True):
    """Replace one cell by a number cell holding `raw` verbatim, as a hostile writer
    could; `keep_style` keeps the cell's style (a date format for a date cell)."""

    def change(xml: bytes) -> bytes:
        pattern = rb'<c r="' + reference.encode() + rb'"([^>]*?)(/>|>.*?</c>)'
        match = re.search(pattern, xml)
        assert match, reference
        style = re.search(rb's="\d+"', match.group(1))
        attributes = b" " + style.group(0) if style and keep_style else b""
        cell = (
            b'<c r="' + reference.encode() + b'"' + attributes + b">"
            b"<v>" + raw.encode() + b"</v></c>"
        )
        return xml[: match.start()] + cell + xml[match.end() :]

    return change


def test_a_sheet_claiming_every_cell_with_one_far_cell_is_refused(
    client, center, form_post, make_org, row_counts
):
    """A 5 KB workbook whose <dimension> claims A1:XFD1048576 and whose last row holds
    one cell kept a worker busy for minutes; the scan refuses it at the far cell."""
    organization = make_org(name="无锡市惠山区文体旅游局")
    data = rewrite_sheet(
        workbook_bytes([scene_row(organization.name)]),
        lambda xml: claim_dimension("A1:XFD1048576")(xml).replace(
            b"</sheetData>",
            b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>',
        ),
    )
    assert len(data) < 10_000
    before = row_counts()
    assert upload(form_post, data).status_code == 302
    page = client.get("/imports").get_data(as_text=True)
    assert "单元格 XFD1048576（第1048576行）有内容，超出可导入的范围" in page
    assert row_counts() == before


def test_a_claimed_dimension_with_styled_empty_far_cells_imports_the_real_rows(
    client, center, form_post, make_org
):
    organization = make_org(name="无锡市惠山区文体旅游局")
    data = rewrite_sheet(
        workbook_bytes([scene_row(organization.name)]),
        lambda xml: claim_dimension("A1:XFD1048576")(xml).replace(
            b"</sheetData>",
            b'<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>',
        ),
    )
    response = upload(form_post, data)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "确认导入全部 1 行" in page


def test_a_dimension_claiming_fewer_rows_than_the_sheet_holds_hides_none(
    client, center, form_post, make_org
):
    organization = make_org(name="无锡市惠山区文体旅游局")
    rows = [scene_row(organization.name, title=f"惠山古镇场景{i}") for i in range(3)]
    data = rewrite_sheet(workbook_bytes(rows), claim_dimension("A1:C2"))
    page = client.get(upload(form_post, data).headers["Location"]).get_data(
        as_text=True
    )
    assert "确认导入全部 3 行" in page


def test_empty_cells_count_toward_the_scan_budget():
    """45,000 rows of ten styled empty cells hold no data, yet cost as much to walk
    as data would: they are refused before openpyxl reads a row."""
    cells = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{c}{r}" s="0"/>' for c in "ABCDEFGHIJ")
        + "</row>"
        for r in range(2, 45_000)
    ).encode()
    data = rewrite_sheet(
        workbook_bytes([]),
        lambda xml: xml.replace(b"</sheetData>", cells + b"</sheetData>"),
    )
    with pytest.raises(Invalid, match="工作表的内容过多"):
        list(read_rows(data, SCENE_FIELDS))


def test_a_truncated_sheet_is_refused_naming_the_row_where_it_breaks(
    client, center, form_post, make_org, row_counts
):
    organization = make_org(name="无锡市惠山区文体旅游局")
    rows = [scene_row(organization.name, title=f"惠山古镇场景{i}") for i in range(3)]

    def truncate(xml: bytes) -> bytes:
        return xml[: xml.index(b'<row r="3"') + 40]

    before = row_counts()
    assert upload(form_post, rewrite_sheet(workbook_bytes(rows), truncate)).status_code
    page = client.get("/imports").get_data(as_text=True)
    assert "无法读取该工作簿：第3行起的数据不完整或已损坏" in page
    assert row_counts() == before


@pytest.mark.parametrize("keep_style", [True, False], ids=["date-styled", "general"])
@pytest.mark.parametrize("raw", ["1e12", "2958466", "1e20", "-5"])
def test_a_date_serial_excel_has_no_day_for_is_named_in_the_preview(
    client, center, form_post, make_org, raw, keep_style
):
    organization = make_org(name="无锡市惠山区文体旅游局")
    data = rewrite_sheet(
        workbook_bytes([scene_row(organization.name, deadline=date(2030, 1, 1))]),
        with_raw_value(f"{column_of('deadline')}2", raw, keep_style=keep_style),
    )
    page = client.get(upload(form_post, data).headers["Location"]).get_data(
        as_text=True
    )
    assert "第2行「征集截止日期」：征集截止日期：无法读取，日期序号" in page
    assert "超出 Excel 的日期范围" in page
    assert "确认导入" not in page


@pytest.mark.parametrize(
    ("field", "raw", "reason"),
    [
        ("deadline", "NaN", "值“NaN”不是有效的数字"),
        ("deadline", "1e400", "值“1e400”超出了数字的范围"),
        ("budget", "NaN", "值“NaN”不是有效的数字"),
        ("budget", "-inf", "值“-inf”不是有效的数字"),
        ("title", "1e400", "值“1e400”超出了数字的范围"),
    ],
)
def test_a_value_that_is_no_number_is_refused_naming_row_and_column(
    client, center, form_post, make_org, row_counts, field, raw, reason
):
    organization = make_org(name="无锡市惠山区文体旅游局")
    rows = [scene_row(organization.name), scene_row(organization.name, title="第二")]
    reference = f"{column_of(field)}3"
    data = rewrite_sheet(workbook_bytes(rows), with_raw_value(reference, raw))
    before = row_counts()
    assert upload(form_post, data).status_code == 302
    header = header_of(next(f for f in SCENE_FIELDS if f.name == field))
    page = client.get("/imports").get_data(as_text=True)
    assert (
        f"无法读取该工作簿：第3行「{header}」（{column_of(field)}列）{reason}" in page
    )
    assert row_counts() == before
