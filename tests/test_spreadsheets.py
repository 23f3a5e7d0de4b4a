"""Every XLSX and CSV the platform writes keeps hostile text as text (issue 12 #9)."""

import csv
import io
from datetime import date, timedelta
from typing import Any

from openpyxl import load_workbook

from marketplace.spreadsheets import FORMULA_PREFIXES
from marketplace.taxonomy import TaxonomyTerm

HOSTILE = ('=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0", "-1+1")
DESCRIPTION = "@SUM(A1) 开头的描述，用来检查每一种导出都不会把它当作公式执行。"


def assert_no_formula_in_xlsx(data: bytes, label: str) -> int:
    """Read every cell back; returns how many hostile-looking cells were seen."""
    workbook = load_workbook(io.BytesIO(data))
    hostile = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                where = f"{label} {sheet.title}!{cell.coordinate} = {cell.value!r}"
                assert cell.data_type != "f", where
                if isinstance(cell.value, str) and cell.value.startswith(
                    FORMULA_PREFIXES
                ):
                    assert cell.data_type == "s" and cell.quotePrefix, where
                    hostile += 1
    return hostile


def assert_no_formula_in_csv(text: str, label: str) -> int:
    hostile = 0
    for number, fields in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff")))):
        for field in fields:
            assert not field.startswith(FORMULA_PREFIXES), (label, number, field)
            hostile += field.startswith("'") and field[1:].startswith(FORMULA_PREFIXES)
    return hostile


def download(client: Any, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    data = response.data
    response.close()  # a file response holds its file open until closed
    return bytes(data)


def test_every_export_keeps_hostile_text_as_text_in_every_cell(
    app: Any,
    client: Any,
    db: Any,
    make_org: Any,
    make_user: Any,
    make_scene: Any,
    make_capability: Any,
    token_for: Any,
    login: Any,
    accept_invitations: Any,
) -> None:
    # Taxonomy terms are editable data, so they are hostile too.
    for vocabulary in ("industries", "domains", "districts", "capability_types"):
        db.add(TaxonomyTerm(vocabulary=vocabulary, name=f"@{vocabulary}", position=99))
    db.commit()
    title, organization, phone = HOSTILE
    unit = make_user("unit", organization=make_org(name=organization + "单位"))
    vendor = make_user("vendor", organization=make_org(name="=1+1供给企业"))
    texts = {
        "title": title,
        "description": DESCRIPTION,
        "contact_name": "=cmd",
        "contact_phone": "-1+1 (0510)",
        "contact_email": "=x@evil.example",
        "contact_public": True,
        "industries": ["@industries"],
    }
    scene = make_scene(owner=unit, domain="@domains", district="@districts", **texts)
    capability = make_capability(
        owner=vendor,
        domains=["@domains"],
        districts=["@districts"],
        **{**texts, "title": "+无人机巡检系统"},
    )
    center = make_user("center")
    headers = token_for(center)
    assert (
        client.post(
            "/api/v1/matches/feedback",
            headers=headers,
            json={"scene_id": scene, "capability_id": capability, "relevant": True},
        ).status_code
        == 201
    )
    created = client.post(
        "/api/v1/events",
        headers=headers,
        json={
            "name": title,
            "domain": "城市治理",
            "date": (date.today() + timedelta(days=30)).isoformat(),
            "venue": "@SUM(A1) 会场",
            "sessions": [{"start": "09:00", "end": "10:00"}],
            "meeting_minutes": 20,
            "tables": 1,
            "max_meetings_per_scene": 1,
            "max_meetings_per_capability": 1,
            "min_score": 0,
        },
    )
    assert created.status_code == 201, created.get_json()
    event_id = created.get_json()["id"]
    api = "/api/v1/events/" + str(event_id)
    client.post(
        api + "/participants",
        headers=headers,
        json={"scene_ids": [scene], "capability_ids": [capability]},
    )
    accept_invitations(event_id, headers)
    client.post(api + "/proposals", headers=headers)
    assert client.post(api + "/schedule", headers=headers).get_json()["meetings"]
    for list_kind in ("scenes", "capabilities"):
        result = app.test_cli_runner().invoke(args=["publish", "--list", list_kind])
        assert result.exit_code == 0, result.output
    editions = client.get("/api/v1/editions").get_json()["items"]
    login(center)

    xlsx = {
        f"edition {e['id']}": f"/api/v1/editions/{e['id']}/export.xlsx"
        for e in editions
    }
    xlsx["schedule"] = f"/events/{event_id}/schedule.xlsx"
    xlsx["scene template"] = "/imports/template/scenes.xlsx"
    xlsx["capability template"] = "/imports/template/capabilities.xlsx"
    csvs = {
        f"edition {e['id']}": f"/api/v1/editions/{e['id']}/export.csv" for e in editions
    }
    csvs["feedback"] = "/matches/feedback.csv"
    for label, url in xlsx.items():
        assert assert_no_formula_in_xlsx(download(client, url), label) > 0, label
    for label, url in csvs.items():
        text = download(client, url).decode("utf-8")
        assert assert_no_formula_in_csv(text, label) > 0, label
