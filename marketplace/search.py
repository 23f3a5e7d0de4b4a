"""Chinese full-text search over items, using the database's own index.

Items store their jieba words in `search_tokens` when written. SQLite indexes that
column with an FTS5 table kept in step by triggers; PostgreSQL with a GIN index over
`to_tsvector('simple', search_tokens)`. Both are created by the migrations.
A query of several words ranks items containing all of them first.
"""

import threading
from typing import Any

import sqlalchemy as sa

from marketplace.taxonomy import seed_entries
from matching import Tokenizer
from matching.synonyms import read_synonym_groups
from matching.tokenize import document_words

MAX_QUERY_TERMS = 12
MAX_QUERY_LENGTH = 200

_tokenizer: Tokenizer | None = None
_tokenizer_lock = threading.Lock()


def get_tokenizer(cache_dir: str | None = None) -> Tokenizer:
    """The process's tokenizer; its dictionary has every taxonomy name and synonym."""
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            words = [
                item["name"] for items in seed_entries().values() for item in items
            ]
            words += [word for group in read_synonym_groups() for word in group]
            _tokenizer = Tokenizer(user_words=words, cache_dir=cache_dir)
    return _tokenizer


def index_tokens(title: str, description: str, keywords: list[str]) -> str:
    """The words to store in `search_tokens` for an item.

    `keywords` are the item's taxonomy terms (domain, industries), so a search for
    低空经济 finds an item tagged with it even when its text only says 无人机.
    """
    return " ".join(document_words(get_tokenizer(), title, description, keywords))


def query_terms(query: str) -> list[str]:
    """The distinct words of a user's query, at most MAX_QUERY_TERMS."""
    terms = get_tokenizer().cut(query[:MAX_QUERY_LENGTH])
    return list(dict.fromkeys(terms))[:MAX_QUERY_TERMS]


def _fts5_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def apply_search(
    statement: sa.Select[Any], model: Any, terms: list[str], dialect: str
) -> sa.Select[Any]:
    """Restrict `statement` to items matching any term, all-terms matches first."""
    if not terms:
        return statement.where(sa.false())
    if dialect == "sqlite":
        return _apply_fts5(statement, model, terms)
    return _apply_tsquery(statement, model, terms)


def _apply_fts5(
    statement: sa.Select[Any], model: Any, terms: list[str]
) -> sa.Select[Any]:
    table = f"{model.__tablename__}_fts"
    any_query = " OR ".join(_fts5_phrase(t) for t in terms)
    all_query = " AND ".join(_fts5_phrase(t) for t in terms)
    hits = (
        sa.select(
            sa.literal_column("rowid").label("item_id"),
            sa.literal_column("rank").label("rank"),
        )
        .select_from(sa.text(table))
        .where(sa.text(f"{table} MATCH :any_query").bindparams(any_query=any_query))
        .subquery("hits")
    )
    all_ids = (
        sa.select(sa.literal_column("rowid"))
        .select_from(sa.text(table))
        .where(sa.text(f"{table} MATCH :all_query").bindparams(all_query=all_query))
    )
    has_all = sa.case((model.id.in_(all_ids), 0), else_=1)
    return (
        statement.join(hits, hits.c.item_id == model.id)
        .order_by(None)
        .order_by(has_all, hits.c.rank, model.id.desc())
    )


def _tsquery(term: str) -> Any:
    return sa.func.plainto_tsquery(sa.literal_column("'simple'::regconfig"), term)


def _apply_tsquery(
    statement: sa.Select[Any], model: Any, terms: list[str]
) -> sa.Select[Any]:
    # The expression must be the one the GIN index was built on.
    vector = sa.func.to_tsvector(
        sa.literal_column("'simple'::regconfig"), model.search_tokens
    )
    any_query = _tsquery(terms[0])
    all_query = _tsquery(terms[0])
    for term in terms[1:]:
        any_query = any_query.op("||")(_tsquery(term))
        all_query = all_query.op("&&")(_tsquery(term))
    has_all = sa.case((vector.op("@@")(all_query), 0), else_=1)
    return (
        statement.where(vector.op("@@")(any_query))
        .order_by(None)
        .order_by(has_all, sa.func.ts_rank(vector, any_query).desc(), model.id.desc())
    )


def reindex_all(session: Any) -> int:
    """Recompute `search_tokens` of every scene and capability."""
    from marketplace.capabilities.models import Capability
    from marketplace.scenes.models import Scene

    count = 0
    for model in (Scene, Capability):
        for item in session.scalars(sa.select(model)):
            item.search_tokens = index_tokens(
                item.title, item.description, item.keywords
            )
            count += 1
    return count
