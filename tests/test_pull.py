"""`ngobrief pull` and `ngobrief sources`: content-addressed snapshots, provenance in raw, new sources
added to the manifest, idempotent pulls, URL pulls against a local server, and bad input that changes
nothing at all.

Every test works on a copy of data/ and a warehouse of its own; URL pulls only ever reach 127.0.0.1."""

import hashlib
import json
import re
import socket
import stat
import sys
import tomllib

import pytest

from ngobrief import cli, config, editions, publishing, warehouse

from local_server import WIDE_GB, serving, url as _url


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A copy of data/ that pulls may change, used as the project's data folder."""
    d = tmp_path / "data"
    d.mkdir()
    (d / "sources.toml").write_bytes((config.DATA_DIR / "sources.toml").read_bytes())
    (d / "snapshots").mkdir()
    for f in (config.DATA_DIR / "snapshots").iterdir():
        (d / "snapshots" / f.name).write_bytes(f.read_bytes())
    monkeypatch.setattr(config, "DATA_DIR", d)
    monkeypatch.setattr(config, "MANIFEST", d / "sources.toml")
    return d


@pytest.fixture
def wh(tmp_path):
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def ngobrief(monkeypatch, capsys, wh):
    """Run the command line in-process: returns (exit code, stdout, stderr)."""
    def run(*args):
        monkeypatch.setattr(sys, "argv", ["ngobrief", *args, "--warehouse", str(wh)])
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def staged(wh):
    """A pull never writes the published warehouse: it loads into the build copy beside it."""
    return editions.builds_dir(wh) / "staged.duckdb"


def fingerprints(wh):
    c = warehouse.connect(staged(wh), read_only=True)
    try:
        return warehouse.table_fingerprints(c)
    finally:
        c.close()


def rows(wh, sql, params=None):
    c = warehouse.connect(staged(wh), read_only=True)
    try:
        return c.execute(sql, params or []).fetchall()
    finally:
        c.close()


def files_under(d):
    return sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())


def test_pull_without_an_id_loads_every_bundled_snapshot_with_provenance(data, wh, ngobrief):
    code, out, _ = ngobrief("pull")
    assert code == 0
    assert [ln.split()[:2] for ln in out.splitlines() if not ln.startswith((" ", "staged in"))] == [
        ["observations", "loaded"], ["survey_priorities", "loaded"], ["ricf_2013", "loaded"],
        ["observations_verified", "loaded"]]
    assert f"staged in {staged(wh)} (not published)" in out and not wh.exists()
    prov = {r[0]: r[1:] for r in rows(wh, """SELECT snapshot_id, source_id, origin, sha256, bytes, parser,
                                                     rows_loaded, loaded_at IS NOT NULL, encoding FROM raw.snapshots""")}
    manifest = tomllib.loads((data / "sources.toml").read_text(encoding="utf-8"))
    for sid, entry in manifest["snapshots"].items():
        source_id, origin, sha, size, parser, n, loaded, encoding = prov[sid]
        assert sha == entry["sha256"] == hashlib.sha256((data / entry["file"]).read_bytes()).hexdigest()
        assert size == (data / entry["file"]).stat().st_size and parser == entry["parser"] and loaded
        assert origin == f"bundled:data/{entry['file']}" and encoding == "utf-8"
    assert prov["ricf_2013"][0] == "ricf" and prov["ricf_2013"][5] == 3344 and prov["observations"][5] == 90

    before = fingerprints(wh)
    code, out, _ = ngobrief("pull")
    assert code == 0 and out.count("unchanged") == 4
    assert fingerprints(wh) == before


def test_a_new_source_from_a_file_is_snapshotted_added_to_the_manifest_and_loaded(data, wh, ngobrief, tmp_path):
    f = tmp_path / "2023蓝皮书表.csv"
    f.write_bytes(WIDE_GB)
    sha = hashlib.sha256(WIDE_GB).hexdigest()
    code, out, err = ngobrief("pull", "bluebook-2023-table", "--file", str(f), "--publisher", "Pishu (皮书)",
                              "--title", "中国社会组织报告 (2023), table 1", "--published", "2023")
    assert code == 0, err
    assert "bluebook-2023-table" in out and "new" in out and "4 rows loaded" in out

    manifest = tomllib.loads((data / "sources.toml").read_text(encoding="utf-8"))
    entry = manifest["snapshots"]["bluebook-2023-table"]
    assert entry["file"] == f"snapshots/bluebook-2023-table/{sha}.csv" and entry["sha256"] == sha
    assert (entry["parser"], entry["origin"], entry["bytes"], entry["source_id"]) == (
        "wide_table", "file:2023蓝皮书表.csv", len(WIDE_GB), "bluebook-2023-table")
    assert entry["fetched_at"].endswith("Z")
    src = manifest["sources"]["bluebook-2023-table"]
    assert (src["publisher"], src["kind"], src["published"]) == ("Pishu (皮书)", "secondary", "2023")
    # the snapshot is the bytes, named by their hash, and read-only
    stored = data / entry["file"]
    assert stored.read_bytes() == WIDE_GB and not stored.stat().st_mode & stat.S_IWUSR
    # the comments and the bundled entries of the manifest are untouched; tables stay a blank line apart
    text = (data / "sources.toml").read_text(encoding="utf-8")
    assert re.findall(r"[^\n]\n\[.*", text) == []
    assert text.startswith((config.ROOT / "data" / "sources.toml").read_text(encoding="utf-8").split("[snapshots.ricf_2013]")[0])

    (prov,) = rows(wh, "SELECT source_id, origin, sha256, bytes, parser, rows_loaded, encoding, fetched_at IS NOT NULL "
                       "FROM raw.snapshots WHERE snapshot_id = 'bluebook-2023-table'")
    assert prov == ("bluebook-2023-table", "file:2023蓝皮书表.csv", sha, len(WIDE_GB), "wide_table", 4, "gb18030", True)
    figures = dict(rows(wh, "SELECT org_type, value FROM staging.observations WHERE snapshot_id = 'bluebook-2023-table'"))
    assert figures == {"all": 891_300, "social_association": 370_100, "private_non_enterprise": 511_900, "foundation": 9319}
    assert rows(wh, "SELECT publisher FROM raw.sources WHERE source_id = 'bluebook-2023-table'") == [("Pishu (皮书)",)]


def test_pulling_the_same_bytes_twice_changes_nothing(data, wh, ngobrief, tmp_path):
    f = tmp_path / "t.csv"
    f.write_bytes(WIDE_GB)
    assert ngobrief("pull", "t-2023", "--file", str(f), "--publisher", "P", "--title", "T")[0] == 0
    manifest, stored, before = (data / "sources.toml").read_bytes(), files_under(data), fingerprints(wh)
    code, out, _ = ngobrief("pull", "t-2023", "--file", str(f))
    assert code == 0 and "unchanged" in out and "0 rows loaded" in out
    assert (data / "sources.toml").read_bytes() == manifest and files_under(data) == stored
    assert fingerprints(wh) == before


def test_a_new_version_is_a_new_snapshot_file_and_the_old_one_stays(data, wh, ngobrief, tmp_path):
    f = tmp_path / "t.csv"
    f.write_bytes(WIDE_GB)
    ngobrief("pull", "t-2023", "--file", str(f), "--publisher", "P", "--title", "T")
    old = tomllib.loads((data / "sources.toml").read_text(encoding="utf-8"))["snapshots"]["t-2023"]["file"]
    f.write_bytes("年份,基金会\n2022,9319\n2021,8877\n".encode("gb18030"))
    code, out, _ = ngobrief("pull", "t-2023", "--file", str(f))
    assert code == 0 and "updated" in out
    new = tomllib.loads((data / "sources.toml").read_text(encoding="utf-8"))["snapshots"]["t-2023"]["file"]
    assert new != old and (data / old).is_file() and (data / new).is_file()
    assert sorted(rows(wh, "SELECT year, org_type FROM staging.observations WHERE snapshot_id = 't-2023'")) == [
        (2021, "foundation"), (2022, "foundation")]


LONG_HEADER = "year,period,as_of,measure,org_type,value,as_published,unit,source_id,note\n"
BAD_FILES = {   # layout, content, what the error must name
    "malformed_row": ("wide", "年份,社会组织,基金会\n2022,89.13万,9319\n2021,90万,8877,stray\n",
                      ("row 3", "'#4'", "'stray'", "malformed")),
    "unreadable_figure": ("wide", "年份,社会组织,基金会\n2022,89.13万,9319\n2023,约90万,9711\n",
                          ("row 3", "'社会组织'", "'约90万'")),
    "unknown_source": ("long", LONG_HEADER + "2022,year_end,2022-12-31,registered,all,,89.13万,organizations,"
                       "no-such-source,\n", ("row 2", "'source_id'", "'no-such-source'", "not in the manifest")),
    "bad_date": ("long", LONG_HEADER + "2022,year_end,2022-12-31,registered,all,,89.13万,organizations,bluebook-2023,\n"
                 "2022,year_end,31/12/2022,registered,foundation,,9319,organizations,bluebook-2023,\n",
                 ("row 3", "'as_of'", "'31/12/2022'")),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_input_exits_2_names_the_cell_and_changes_nothing(data, wh, ngobrief, tmp_path, case):
    layout, content, expected = BAD_FILES[case]
    assert ngobrief("pull")[0] == 0
    good = tmp_path / "good.csv"
    good.write_bytes(WIDE_GB)
    assert ngobrief("pull", "t-2023", "--file", str(good), "--publisher", "P", "--title", "T")[0] == 0
    before = (fingerprints(wh), (data / "sources.toml").read_bytes(), files_under(data))
    f = tmp_path / f"{case}.csv"
    f.write_bytes(content.encode("gb18030"))
    # as a new source, and as a new version of a snapshot already loaded (in the same layout)
    for target in ("new-source", "t-2023" if layout == "wide" else "observations"):
        code, out, err = ngobrief("pull", target, "--file", str(f), "--publisher", "P", "--title", "T")
        assert code == 2, (out, err)
        assert err.startswith("error: file ") and f"{case}.csv" in err and all(e in err for e in expected), err
        assert (fingerprints(wh), (data / "sources.toml").read_bytes(), files_under(data)) == before


def test_a_snapshot_that_no_longer_matches_its_sha256_is_refused(data, wh, ngobrief):
    with open(data / "snapshots" / "observations.csv", "a", encoding="utf-8") as fh:
        fh.write("2099,year_end,2099-12-31,registered,all,1,1,organizations,huang-cango,\n")
    code, _, err = ngobrief("pull", "observations")
    assert code == 2 and "has sha256" in err and "observations.csv" in err


def test_unknown_id_without_a_file_says_how_to_add_it(data, ngobrief):
    code, _, err = ngobrief("pull", "mca-2030-bulletin")
    assert code == 2 and "give --file PATH or --url URL" in err
    code, _, err = ngobrief("pull", "Bad Id", "--file", "x.csv")
    assert code == 2 and "cannot name a new source" in err


# --------------------------------------------------------------------------------------------------
# URL pulls: a server on 127.0.0.1 started by the test.

@pytest.fixture
def server():
    with serving() as httpd:
        yield httpd


def test_a_url_pull_is_conditional_the_second_time(data, wh, ngobrief, server):
    url = _url(server)
    code, out, err = ngobrief("pull", "web-table", "--url", url, "--publisher", "P", "--title", "T")
    assert code == 0, err
    entry = tomllib.loads((data / "sources.toml").read_text(encoding="utf-8"))["snapshots"]["web-table"]
    assert entry["origin"] == url and entry["etag"].startswith('"') and entry["last_modified"].endswith("GMT")
    assert entry["file"].endswith(".csv")
    manifest, before = (data / "sources.toml").read_bytes(), fingerprints(wh)

    code, out, _ = ngobrief("pull", "web-table", "--refresh")
    assert code == 0 and "not_modified" in out
    assert server.state["requests"][-1]["if-none-match"] == entry["etag"]
    assert server.state["requests"][-1]["if-modified-since"] == entry["last_modified"]
    assert (data / "sources.toml").read_bytes() == manifest and fingerprints(wh) == before


def test_a_url_pull_retries_server_errors(data, wh, ngobrief, server):
    server.state["fail"] = 2
    code, out, err = ngobrief("pull", "web-table", "--url", _url(server), "--publisher", "P", "--title", "T")
    assert code == 0, err
    assert len(server.state["requests"]) == 3 and "4 rows loaded" in out


def test_a_missing_page_is_not_retried(data, wh, ngobrief, server):
    server.state["status"] = 404
    code, _, err = ngobrief("pull", "web-table", "--url", _url(server), "--publisher", "P", "--title", "T")
    assert code == 2 and "HTTP 404" in err and len(server.state["requests"]) == 1


def test_without_network_a_url_pull_fails_clearly_and_the_snapshot_still_serves(data, wh, ngobrief):
    with socket.socket() as s:                 # a port on 127.0.0.1 where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert ngobrief("pull")[0] == 0
    before = (fingerprints(wh), (data / "sources.toml").read_bytes(), files_under(data))
    code, _, err = ngobrief("pull", "observations", "--url", f"http://127.0.0.1:{port}/observations.csv",
                            "--retries", "1", "--timeout", "2")
    assert code == 2
    assert "could not fetch" in err and "2 attempt(s)" in err and "still serves" in err
    assert (fingerprints(wh), (data / "sources.toml").read_bytes(), files_under(data)) == before
    code, out, _ = ngobrief("pull", "observations")
    assert code == 0 and "unchanged" in out


def test_refresh_needs_a_recorded_url(data, ngobrief):
    code, _, err = ngobrief("pull", "observations", "--refresh")
    assert code == 2 and "no URL to refresh from" in err


# --------------------------------------------------------------------------------------------------
# ngobrief sources

def test_sources_lists_every_source_by_priority_with_its_provenance_and_last_pull(data, wh, ngobrief):
    code, out, _ = ngobrief("sources")
    assert code == 0 and "not loaded" not in out      # no warehouse yet: nothing claimed about loads
    ngobrief("pull")
    publishing.refresh(wh)      # what the next `ngobrief run` does: audit and publish what was pulled
    code, out, _ = ngobrief("sources", "--format", "json")
    listing = json.loads(out)
    manifest = tomllib.loads((data / "sources.toml").read_text(encoding="utf-8"))
    assert [s["source_id"] for s in listing["sources"]] == sorted(
        manifest["sources"], key=lambda sid: next(s["priority_rank"] for s in listing["sources"] if s["source_id"] == sid))
    assert [s["priority_rank"] for s in listing["sources"]] == list(range(1, len(manifest["sources"]) + 1))
    by_id = {s["source_id"]: s for s in listing["sources"]}
    assert by_id["ricf"]["warehouse_rows"] == 3344 and by_id["mca-2012-bulletin"]["warehouse_rows"] == 12
    snaps = {s["snapshot_id"]: s for s in listing["snapshots"]}
    assert set(snaps) == set(manifest["snapshots"])
    assert snaps["ricf_2013"]["rows_loaded"] == 3344 and snaps["ricf_2013"]["loaded_at"]
    assert "cite the Scientific Data article" in snaps["ricf_2013"]["licence"]
    code, out, _ = ngobrief("sources")
    assert code == 0 and "licence: no licence stated" in out and "3344 rows" in out
    assert out.index("mca-2012-bulletin") < out.index("huang-cango")     # primary reprint before secondary


# --------------------------------------------------------------------------------------------------
# Several sources for one figure

def _disagreements(wh):
    c = warehouse.connect(wh, read_only=True)
    try:
        return c.sql("SELECT * FROM marts.source_disagreements").pl()
    finally:
        c.close()


def test_source_disagreements_in_the_bundled_data(con):
    df = con.sql("SELECT * FROM marts.source_disagreements").pl()
    pairs = {(r["year"], r["org_type"], r["chosen_source_id"], r["other_source_id"]):
             (r["chosen_value"], r["other_value"], r["difference"], r["agree_within_precision"])
             for r in df.iter_rows(named=True)}
    # the bundled observations and the figures checked in stored pages (docs/candidates.md)
    assert pairs == {
        (2006, "all", "nbs-yearbook-2008", "mca-key-stats-2006"): (354_393, 354_000, -393, True),
        (2006, "foundation", "nbs-yearbook-2008", "mca-key-stats-2006"): (1_144, 1_144, 0, True),
        (2006, "private_non_enterprise", "nbs-yearbook-2008", "mca-key-stats-2006"): (161_303, 161_000, -303, True),
        (2006, "social_association", "nbs-yearbook-2008", "mca-key-stats-2006"): (191_946, 192_000, 54, True),
        (2007, "all", "nbs-yearbook-2008", "nbs-civil-affairs-key-stats-2008"): (386_916, 387_000, 84, True),
        (2007, "foundation", "nbs-yearbook-2008", "nbs-civil-affairs-key-stats-2008"): (1_340, 1_340, 0, True),
        (2007, "private_non_enterprise", "nbs-yearbook-2008", "nbs-civil-affairs-key-stats-2008"): (173_915, 174_000, 85, True),
        (2007, "social_association", "nbs-yearbook-2008", "nbs-civil-affairs-key-stats-2008"): (211_661, 212_000, 339, True),
        (2010, "all", "mca-2010-report", "pishu-2013-ngo-chapter"): (446_000, 446_000, 0, True),
        (2011, "foundation_nonpublic", "xinhua-2013-mca-ngo-report", "cfc-via-narada"): (1_296, 1_373, 77, False),
        (2012, "all", "mca-2012-bulletin", "huang-cango"): (499_000, 499_000, 0, True),
        (2016, "all", "gov-cn-2017-mca-2016", "charity-bluebook-2017"): (702_000, 699_000, -3000, False),
        (2016, "foundation", "gov-cn-2017-mca-2016", "cdb-2017-bulletin-2016"): (5_559, 5_559, 0, True),
        (2016, "foundation", "gov-cn-2017-mca-2016", "charity-bluebook-2017"): (5_559, 5_523, -36, False),
        (2016, "private_non_enterprise", "mca-2016-bulletin", "charity-bluebook-2017"): (361_000, 359_000, -2000, False),
        (2016, "private_non_enterprise", "mca-2016-bulletin", "gov-cn-2017-mca-2016"): (361_000, 361_000, 0, True),
        (2016, "social_association", "gov-cn-2017-mca-2016", "charity-bluebook-2017"): (336_000, 335_000, -1000, False),
        (2017, "all", "bluebook-2019", "peoples-daily-2018-bluebook"): (762_000, 803_000, 41000, False),
        (2018, "foreign_ngo", "chinafile-2021-01", "shanjian-2019"): (127, 136, 9, False),
        (2019, "all", "bluebook-2020", "lin-yan-2020"): (866_300, 854_000, -12300, False),
        (2021, "social_association", "bluebook-2023", "bluebook-2022"): (371_100, 371_110, 10, True),
        (2022, "all", "bluebook-2023", "cdb-2023-mca-2022"): (891_300, 892_000, 700, False),
        (2022, "foundation", "bluebook-2023", "cdb-2023-mca-2022"): (9_319, 9_316, -3, False),
        (2022, "private_non_enterprise", "bluebook-2023", "cdb-2023-mca-2022"): (511_900, 512_000, 100, True),  # 512,000 printed in full is known to ± 500 (marts.printed_half_unit),
        (2022, "social_association", "bluebook-2023", "cdb-2023-mca-2022"): (370_100, 371_000, 900, False),
    }
    assert set(df["period"]) == {"year_end"} and set(df["measure"]) == {"registered", "foreign_ngo_rep_offices_new"}
    total = df.filter((df["year"] == 2022) & (df["org_type"] == "all")).row(0, named=True)
    assert (total["chosen_as_published"], total["other_as_published"], total["tolerance"]) == ("89.13万", "892,000", 550.0)  # 892,000 printed in full: ± 500


def test_figures_within_printed_precision_agree_and_a_primary_source_is_chosen(data, wh, ngobrief, tmp_path):
    ngobrief("pull")
    f = tmp_path / "primary.csv"
    # 37.0万 allows 369,500..370,500: it agrees with 37.01万 (370,100 ± 50); 9,320 does not agree with 9319
    f.write_text("年份,社会团体,基金会\n2022,37.0万,\"9,320\"\n", encoding="utf-8")
    code, _, err = ngobrief("pull", "fixture-primary", "--file", str(f), "--publisher", "Test fixture",
                            "--title", "Not a real document", "--kind", "primary")
    assert code == 0, err
    df = _disagreements(staged(wh))
    df = df.filter(df["year"] == 2022)
    sa = df.filter(df["org_type"] == "social_association").row(0, named=True)
    assert (sa["chosen_source_id"], sa["other_source_id"], sa["agree_within_precision"]) == (
        "fixture-primary", "bluebook-2023", True)
    fd = df.filter(df["org_type"] == "foundation")
    assert set(fd["chosen_source_id"]) == {"fixture-primary"}
    assert dict(zip(fd["other_source_id"], fd["agree_within_precision"])) == {
        "bluebook-2023": False, "cdb-2023-mca-2022": False}
    assert dict(zip(fd["other_source_id"], fd["difference"])) == {"bluebook-2023": -1, "cdb-2023-mca-2022": -4}


def test_a_warehouse_made_before_this_version_gains_the_new_columns(data, wh, ngobrief):
    c = warehouse.connect(wh)
    c.execute("CREATE SCHEMA raw; CREATE SCHEMA staging")
    c.execute("""CREATE TABLE raw.snapshots (snapshot_id TEXT PRIMARY KEY, file TEXT NOT NULL, sha256 TEXT NOT NULL,
                 bytes BIGINT NOT NULL, parser TEXT NOT NULL, origin TEXT, fetched_at TIMESTAMP, rows_loaded BIGINT NOT NULL)""")
    c.execute("""CREATE TABLE staging.observations (year INTEGER NOT NULL, period TEXT NOT NULL, as_of DATE NOT NULL,
                 measure TEXT NOT NULL, org_type TEXT NOT NULL, value DOUBLE NOT NULL, as_published TEXT,
                 half_unit DOUBLE NOT NULL, unit TEXT NOT NULL, source_id TEXT NOT NULL, note TEXT,
                 snapshot_id TEXT NOT NULL, source_row BIGINT NOT NULL, PRIMARY KEY (snapshot_id, source_row))""")
    c.close()
    code, out, err = ngobrief("pull")
    assert code == 0, err
    assert rows(wh, "SELECT DISTINCT source_column FROM staging.observations") == [("as_published",)]
    assert rows(wh, "SELECT count(*) FROM raw.snapshots WHERE loaded_at IS NOT NULL") == [(4,)]
