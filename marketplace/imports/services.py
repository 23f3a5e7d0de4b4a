"""Import use cases: check a sheet into a preview; confirm it, all rows or none."""

import secrets
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit, policy
from marketplace.capabilities.services import CAPABILITIES
from marketplace.errors import Conflict, DomainError, Invalid, NotFound
from marketplace.imports.models import ImportBatch
from marketplace.imports.workbook import MAX_BYTES, header_of, read_rows
from marketplace.items import services as items
from marketplace.items.fields import parse_fields
from marketplace.matches.index import capability_item, scene_item
from marketplace.organizations.models import Organization
from marketplace.scenes.services import SCENES
from marketplace.search import get_tokenizer, index_tokens, sync_dictionary
from marketplace.taxonomy import get_taxonomy
from matching import Item, Tokenizer
from matching.duplicates import DuplicateFinder, similar_organizations

KINDS = {"scenes": SCENES, "capabilities": CAPABILITIES}
MAX_UPLOAD_BYTES = MAX_BYTES
PREVIEW_LIFETIME = timedelta(hours=2)


class Gone(DomainError):
    status = 410
    code = "preview_expired"


def kind_of(name: str) -> items.ItemKind:
    if name not in KINDS:
        raise NotFound("未知的导入类型", code="import_kind_not_found")
    return KINDS[name]


def _existing(session: orm.Session, kind: items.ItemKind) -> list[Any]:
    to_item = scene_item if kind is SCENES else capability_item
    rows = session.scalars(
        sa.select(kind.model).where(kind.model.status.notin_(("withdrawn", "expired")))
    )
    return [to_item(row) for row in rows]


def _unknown_organization(name: str, registered: list[str]) -> str:
    """Why the row's organization is refused, naming the registered one it most likely
    means (units write their names differently: 无锡市XX局 / XX局)."""
    reason = f"单位“{name[:40]}”未在平台登记"
    similar = similar_organizations(name, registered)
    if similar:
        reason += f"，是否为“{similar[0][0]}”？请按登记名称填写"
    return reason


def row_problems(
    kind: items.ItemKind, values: dict[str, Any], taxonomy: Any, today: date
) -> dict[str, str]:
    """Every field problem of a row, including those found only once fields parse
    (a deadline in the past), so one upload names them all."""
    problems: dict[str, str] = {}
    try:
        parse_fields(kind.fields, values, taxonomy, partial=False)
    except Invalid as error:
        problems.update(error.fields)
    valid = {k: v for k, v in values.items() if k not in problems}
    try:
        kind.assign(
            kind.model(),
            parse_fields(kind.fields, valid, taxonomy, partial=True),
            today,
        )
    except Invalid as error:
        problems.update(error.fields)
    return problems


def preview_import(
    session: orm.Session,
    actor: Any,
    kind_name: str,
    filename: str,
    data: bytes,
    *,
    now: datetime,
    today: date,
) -> ImportBatch:
    """Check every row as the forms would, flag likely duplicates, save a preview.

    Nothing is created until `confirm_import`.
    """
    policy.require(actor, "item.review", message="只有促进中心可以批量导入")
    kind = kind_of(kind_name)
    taxonomy = get_taxonomy(session)
    organizations = dict(
        session.execute(sa.select(Organization.name, Organization.id)).all()
    )
    labels = {f.name: header_of(f) for f in kind.fields}
    labels["organization"] = "发布单位"
    sync_dictionary(session)
    tokenizer: Tokenizer = get_tokenizer()
    finder = DuplicateFinder(tokenizer).fit(_existing(session, kind))
    rows = []
    for sheet_row in read_rows(data, kind.fields):
        problems = dict(sheet_row.problems)
        values = {k: v for k, v in sheet_row.values.items() if k not in problems}
        organization = str(values.pop("organization", "") or "").strip()
        if organization not in organizations:
            problems["organization"] = _unknown_organization(
                organization, list(organizations)
            )
        for name, reason in row_problems(kind, values, taxonomy, today).items():
            problems.setdefault(name, reason)
        probe = Item(
            id="new",
            title=str(values.get("title", "")),
            description=str(values.get("description", "")),
        )
        duplicates = (
            [{"id": int(d.id), "title": d.title} for d in finder.find(probe, 3)]
            if probe.title.strip()
            else []
        )
        rows.append(
            {
                "row": sheet_row.number,
                "organization": organization,
                "values": values,
                "problems": [
                    {"column": labels.get(name, name), "reason": reason}
                    for name, reason in problems.items()
                ],
                "duplicates": duplicates,
            }
        )
    if not rows:
        raise Invalid("表中没有数据行", fields={"file": "没有数据行"})
    batch = ImportBatch(
        id=secrets.token_hex(16),
        kind=kind_name,
        filename=filename[:200],
        user_id=actor.id,
        status="preview",
        rows=rows,
        created_at=now,
        expires_at=now + PREVIEW_LIFETIME,
    )
    session.add(batch)
    audit.record(
        session,
        actor,
        "import.preview",
        "import",
        None,
        at=now,
        details={"batch": batch.id, "kind": kind_name, "rows": len(rows)},
    )
    return batch


def get_batch(
    session: orm.Session, actor: Any, batch_id: str, *, for_update: bool = False
) -> ImportBatch:
    query = sa.select(ImportBatch).where(ImportBatch.id == batch_id)
    if for_update:
        query = query.with_for_update()
    batch = session.scalar(query)
    if batch is None or actor is None or batch.user_id != actor.id:
        raise NotFound("导入预览不存在", code="import_not_found")
    return batch


def confirm_import(
    session: orm.Session, actor: Any, batch_id: str, *, now: datetime, today: date
) -> ImportBatch:
    """Create every row's item as submitted, owned by its unit; all or none."""
    batch = get_batch(session, actor, batch_id, for_update=True)
    if batch.status != "preview":
        raise Conflict("该批数据已导入，不能重复导入", code="already_imported")
    if batch.expires_at <= now:
        raise Gone("预览已过期（2小时），请重新上传")
    if batch.error_count:
        raise Conflict(
            f"有{batch.error_count}行存在问题，请修改后重新上传",
            code="rows_have_problems",
        )
    kind = kind_of(batch.kind)
    organizations = dict(
        session.execute(sa.select(Organization.name, Organization.id)).all()
    )
    taxonomy = get_taxonomy(session)
    sync_dictionary(session)
    created = []
    for row in batch.rows:
        parsed = parse_fields(kind.fields, row["values"], taxonomy, partial=False)
        item = kind.model(
            status="submitted",
            organization_id=organizations[row["organization"]],
            created_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        kind.assign(item, parsed, today)
        item.search_tokens = index_tokens(item.title, item.description, item.keywords)
        session.add(item)
        session.flush()
        audit.record(
            session,
            actor,
            f"{kind.name}.import",
            kind.name,
            item.id,
            at=now,
            after="submitted",
            comment=f"批量导入：{batch.filename} 第{row['row']}行",
        )
        created.append(item.id)
    batch.status = "imported"
    batch.imported_ids = created
    return batch
