"""`monitor hits --format csv|json`: the hits as analysts paste them into a spreadsheet."""

from __future__ import annotations

import csv
import io
import json

from tests.support.cli import monitor
from tests.support.feeds import SERBIAN_NEWS, rss

FORMULA = '=HYPERLINK("http://evil.example","BIA") o relokantima'


def test_csv_export_has_a_header_and_a_row_per_hit_that_a_spreadsheet_reads(
    feed_server, tmp_path, write_config
):
    entries = [*SERBIAN_NEWS, ("n1-1004", FORMULA, "Relokanti, „navodnici“ i zarezi, BIA")]
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", entries))
    config = write_config({"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=25)
    monitor(config, "poll", "--all")

    code, stdout, stderr = monitor(config, "hits", "--since", "30d", "--format", "csv")

    assert code == 0 and stderr == ""
    header, *rows = list(csv.reader(io.StringIO(stdout)))
    assert header == [
        "id",
        "watchlist",
        "found_utc",
        "published_utc",
        "feed",
        "also_in",
        "title",
        "url",
        "matched",
        "queries",
        "delivered_utc",
        "alerted_utc",
        "backfilled",
    ]
    records = [dict(zip(header, row, strict=True)) for row in rows]
    assert [record["title"] for record in records] == [
        "'" + FORMULA,  # newest first; shown as text, never run as a formula
        "BIA: Ruski aktivista proglašen bezbednosnim rizikom",
    ]
    second = records[1]
    assert second["published_utc"] == "2026-11-21 09:10:00"
    assert second["url"] == "https://n1info.rs/n1-1002/"
    assert second["matched"] == "BIA; relokant*"
    assert (second["watchlist"], second["feed"], second["delivered_utc"], second["backfilled"]) == (
        "relocants",
        "N1",
        "",
        "no",
    )


def test_format_json_is_the_json_lines_of_json_and_output_writes_a_utf8_file(
    feed_server, tmp_path, write_config
):
    url = feed_server.serve("/n1.xml", rss("N1", "https://n1info.rs", SERBIAN_NEWS))
    config = write_config({"N1": url}, database_url=f"sqlite:///{tmp_path / 'm.db'}", smtp_port=25)
    monitor(config, "poll", "--all")
    exported = tmp_path / "hits.csv"

    _, old, _ = monitor(config, "hits", "--json")
    _, new, _ = monitor(config, "hits", "--format", "json")
    code, stdout, _ = monitor(config, "hits", "--format", "csv", "--output", str(exported))

    [hit] = map(json.loads, new.splitlines())
    assert new == old and hit["backfilled"] is False and hit["title"].startswith("BIA: ")
    assert code == 0 and stdout == ""
    assert "proglašen bezbednosnim rizikom" in exported.read_text(encoding="utf-8")


def test_contradictory_or_unwritable_export_options_are_clear_errors(tmp_path, write_config):
    database = f"sqlite:///{tmp_path / 'm.db'}"
    config = write_config({"N1": "http://127.0.0.1:1/n1.xml"}, database_url=database, smtp_port=25)

    both = monitor(config, "hits", "--json", "--format", "csv")
    table = monitor(config, "hits", "--output", str(tmp_path / "x.txt"))
    nowhere = monitor(config, "hits", "--format", "csv", "--output", str(tmp_path / "no" / "such" / "x.csv"))

    assert both[0] == 2 and "--json is --format json" in both[2]
    assert table[0] == 2 and "add --format csv or --format json" in table[2]
    assert nowhere[0] != 0 and "x.csv" in nowhere[2]
    assert all("Traceback" not in out + err for _, out, err in (both, table, nowhere))
