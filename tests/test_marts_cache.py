"""marts_cache: publishing an edition copies the marts views into tables, which the briefs read
(warehouse.cache_marts, docs/warehouse.md). The copy must give the very same rows and pages, and must
never be read once the file no longer holds what it was made from."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from ngobrief import brief, editions, publishing, warehouse


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    wh = tmp_path_factory.mktemp("cache") / "warehouse.duckdb"
    publishing.refresh(wh)
    return wh


def _views(con) -> set[str]:
    return {r[0] for r in con.sql("SELECT view_name FROM duckdb_views() WHERE schema_name = 'marts' "
                                  "AND database_name = current_database()").fetchall()}


def test_a_published_edition_holds_the_views_briefs_read_as_tables_with_the_same_rows(published):
    con = warehouse.connect(published, read_only=True)
    try:
        cached = warehouse.cached_marts(con)
        assert cached == warehouse.CACHED and cached <= _views(con)
        assert "participation" in cached and "source_freshness" not in cached
        for name in sorted(cached):
            view = con.sql(f"SELECT * FROM marts.{name}")
            table = con.sql(f"SELECT * FROM {warehouse.CACHE_SCHEMA}.{name}")
            assert view.columns == table.columns and view.types == table.types, name
            assert sorted(map(repr, view.fetchall())) == sorted(map(repr, table.fetchall())), name
    finally:
        con.close()


@pytest.mark.parametrize("year, lang", [(2012, "en"), (2021, "zh")])
def test_a_brief_read_from_the_cache_is_the_page_read_from_the_views(published, tmp_path, monkeypatch, year, lang):
    con = warehouse.connect(published, read_only=True)
    try:
        from_cache = brief.prepare_brief(con, year, lang, tmp_path / "a.pdf")
        monkeypatch.setattr(warehouse, "cached_marts", lambda con: frozenset())
        from_views = brief.prepare_brief(con, year, lang, tmp_path / "a.pdf")
    finally:
        con.close()
    assert from_cache.html == from_views.html
    assert from_cache.inputs_sha256 == from_views.inputs_sha256


def test_the_cache_is_read_only_while_the_file_holds_what_it_was_made_from(published, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(published, copy)
    con = warehouse.connect(copy)
    try:
        count = "SELECT count(*) AS n FROM marts.participation"
        rows = con.sql(count).fetchall()[0][0]
        assert rows > 0
        # a cache table changed by hand shows that reads inside memoized_reads go to the cache
        con.execute(f"DELETE FROM {warehouse.CACHE_SCHEMA}.participation")
        with warehouse.memoized_reads(con):
            assert warehouse.query(con, count)["n"][0] == 0
        assert warehouse.query(con, count)["n"][0] == rows   # outside the block: the view
        # a snapshot loaded again with other bytes: the key changes, the views are read
        con.execute("UPDATE raw.snapshots SET sha256 = repeat('0', 64) WHERE snapshot_id = "
                    "(SELECT min(snapshot_id) FROM raw.snapshots)")
        assert warehouse.cached_marts(con) == frozenset()
        with warehouse.memoized_reads(con):
            assert warehouse.query(con, count)["n"][0] == rows
    finally:
        con.close()


def test_a_changed_source_document_or_sql_digest_also_leaves_the_cache_unread(published, tmp_path):
    for change in ("UPDATE raw.sources SET title = title || ' (revised)' WHERE source_id = "
                   "(SELECT min(source_id) FROM raw.sources)",
                   "UPDATE audit.schema_digest SET digest = repeat('f', 64)"):
        copy = tmp_path / "copy.duckdb"
        shutil.copyfile(published, copy)
        con = warehouse.connect(copy)
        try:
            assert warehouse.cached_marts(con)
            con.execute(change)
            assert warehouse.cached_marts(con) == frozenset(), change
        finally:
            con.close()
        copy.unlink()


def test_the_cache_is_not_content_of_the_edition(published):
    manifest = json.loads(editions.manifest_path(published).read_text())
    tables = manifest["editions"][-1]["tables"]
    assert "marts.participation" not in tables and not any(t.startswith(warehouse.CACHE_SCHEMA) for t in tables)
    assert "raw.snapshots" in tables
    con = warehouse.connect(published, read_only=True)
    try:   # the next build finds the file created from the present sql/ (the cache is not counted)
        assert warehouse.created_digest(con) == warehouse.sql_digest()
    finally:
        con.close()


def test_macro_calls_and_longer_names_are_left_as_they_are():
    to_cache = warehouse._to_cache(frozenset({"figures", "register_year_for"}))
    assert to_cache("SELECT * FROM marts.figures f JOIN marts.figures_by_field USING (year)") == \
        "SELECT * FROM marts_cache.figures f JOIN marts.figures_by_field USING (year)"
    assert to_cache("SELECT * FROM marts.register_year_for(2012, 'x')") == \
        "SELECT * FROM marts.register_year_for(2012, 'x')"
    assert warehouse._to_cache(frozenset())("SELECT * FROM marts.figures") == "SELECT * FROM marts.figures"


def test_every_marts_view_a_brief_reads_is_in_the_cache(published, tmp_path, monkeypatch):
    """A brief that starts reading another view would read it uncached, slowly: list it in CACHED."""
    read = set()
    to_cache = warehouse._to_cache

    def watching(names):
        point = to_cache(names)

        def rewrite(sql):
            read.update(re.findall(r"\bmarts\.(\w+)\b(?!\s*\()", sql))
            return point(sql)
        return rewrite

    monkeypatch.setattr(warehouse, "_to_cache", watching)
    con = warehouse.connect(published, read_only=True)
    try:
        for year in (2012, 2013, 2016, 2021):
            brief.prepare_brief(con, year, "en", tmp_path / "a.pdf")
        brief.prepare_brief(con, 2021, "zh", tmp_path / "a.pdf")
    finally:
        con.close()
    assert {"figures", "participation", "registered_trends"} <= read
    assert read <= warehouse.CACHED, sorted(read - warehouse.CACHED)
