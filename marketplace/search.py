"""Chinese full-text search over items, using the database's own index.

Items store their jieba words in `search_tokens` when written. SQLite indexes that
column with an FTS5 table kept in step by triggers; PostgreSQL with a GIN index over
`to_tsvector('simple', search_tokens)`. Both are created by the migrations.
A query of several words ranks items containing all of them first.
"""

import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.matches.models import (
    SYNONYMS_VERSION,
    SynonymGroup,
    read_index_versions,
)
from marketplace.taxonomy import seed_entries
from matching import Tokenizer
from matching.synonyms import read_synonym_groups
from matching.tokenize import document_words

MAX_QUERY_TERMS = 12
MAX_QUERY_LENGTH = 200

_tokenizer: Tokenizer | None = None
_tokenizer_lock = threading.Lock()
# The synonyms version whose words this process's tokenizer holds.
_dictionary_version: int | None = None
_dictionary_lock = threading.Lock()


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


def sync_dictionary(
    session: orm.Session, versions: dict[str, int] | None = None
) -> int:
    """Make this process's dictionary hold the words of the center's synonym groups
    (added in any process); cheap when current. Call it before computing stored
    words. Returns the synonyms version, which the match indexes also compare."""
    global _dictionary_version
    if versions is None:
        versions = read_index_versions(session)
    version = versions.get(SYNONYMS_VERSION, 0)
    if version != _dictionary_version:
        with _dictionary_lock:
            if version != _dictionary_version:
                groups = session.scalars(
                    sa.select(SynonymGroup.words).where(
                        SynonymGroup.retired_at.is_(None)
                    )
                )
                get_tokenizer().add_words(w for words in groups for w in words)
                _dictionary_version = version
    return version


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


def matching_clause(model: Any, terms: list[str], dialect: str) -> Any:
    """A WHERE clause: the item matches any of the terms, found through the index.

    Written as `id IN (ids the index finds)` on SQLite, so the full-text index drives
    the query whatever statistics the planner has (a join lets it loop over every
    item and re-run the MATCH per row).
    """
    if not terms:
        return sa.false()
    if dialect == "sqlite":
        return model.id.in_(
            _fts5_ids(model, " OR ".join(_fts5_phrase(t) for t in terms), "any_ids")
        )
    return SEARCH_VECTOR.op("@@")(_any_query(terms))


def all_terms_clause(model: Any, terms: list[str], dialect: str) -> Any:
    """A WHERE clause: the item contains every one of the terms."""
    if dialect == "sqlite":
        return model.id.in_(
            _fts5_ids(model, " AND ".join(_fts5_phrase(t) for t in terms), "all_ids")
        )
    all_query = _tsquery(terms[0])
    for term in terms[1:]:
        all_query = all_query.op("&&")(_tsquery(term))
    return SEARCH_VECTOR.op("@@")(all_query)


def order_by_relevance(
    statement: sa.Select[Any], model: Any, terms: list[str], dialect: str
) -> sa.Select[Any]:
    """Items containing all the terms first, then by the index's own ranking."""
    if not terms:
        return statement
    if dialect == "sqlite":
        table = f"{model.__tablename__}_fts"
        any_query = " OR ".join(_fts5_phrase(t) for t in terms)
        hits = (
            sa.select(
                sa.literal_column("rowid").label("item_id"),
                sa.literal_column("rank").label("rank"),
            )
            .select_from(sa.text(table))
            .where(sa.text(f"{table} MATCH :any_query").bindparams(any_query=any_query))
            .subquery("hits")
        )
        has_all = sa.case((all_terms_clause(model, terms, dialect), 0), else_=1)
        return (
            statement.join(hits, hits.c.item_id == model.id)
            .order_by(None)
            .order_by(has_all, hits.c.rank, model.id.desc())
        )
    has_all = sa.case((all_terms_clause(model, terms, dialect), 0), else_=1)
    rank = sa.func.ts_rank(SEARCH_VECTOR, _any_query(terms))
    return statement.order_by(None).order_by(has_all, rank.desc(), model.id.desc())


def _fts5_ids(model: Any, match: str, name: str) -> sa.Select[Any]:
    """Ids the FTS5 index finds for a MATCH expression (bound as parameter `name`)."""
    table = f"{model.__tablename__}_fts"
    return (
        sa.select(sa.literal_column("rowid"))
        .select_from(sa.text(table))
        .where(sa.text(f"{table} MATCH :{name}").bindparams(**{name: match}))
    )


# PostgreSQL keeps the words as a stored tsvector column with a GIN index (made by
# the migrations), so ranking reads it instead of re-parsing every matching row.
SEARCH_VECTOR = sa.literal_column("search_vector")


def _tsquery(term: str) -> Any:
    return sa.func.plainto_tsquery(sa.literal_column("'simple'::regconfig"), term)


def _any_query(terms: list[str]) -> Any:
    query = _tsquery(terms[0])
    for term in terms[1:]:
        query = query.op("||")(_tsquery(term))
    return query


def reindex_all(session: Any) -> int:
    """Recompute `search_tokens` of every scene and capability."""
    from marketplace.capabilities.models import Capability
    from marketplace.scenes.models import Scene

    sync_dictionary(session)
    count = 0
    for model in (Scene, Capability):
        for item in session.scalars(sa.select(model)):
            item.search_tokens = index_tokens(
                item.title, item.description, item.keywords
            )
            count += 1
    return count
