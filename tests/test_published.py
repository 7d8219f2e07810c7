"""ribum.published: the reference table of published rationality figures renders every source with
its citation, and a figure only as "quoted, not measured" with the place it was read from."""
from __future__ import annotations

import json
import math

import pytest

import ribum.published as published
from llmsl.compare import published_rows

KEYS = {"key", "source", "subjects", "domain", "statistic", "value", "where", "quote"}


def test_sources_are_complete():
    keys = [s["key"] for s in published.SOURCES]
    assert len(keys) == len(set(keys))
    for s in published.SOURCES:
        assert s["citation"] and s["subjects"] and s["doi"].startswith("10.")
        assert s["domains"]


def test_quoted_rows_are_complete():
    """Each quoted figure names its source, the place in it and the sentence it was read from."""
    by_key = {s["key"]: s for s in published.SOURCES}
    for r in published.PUBLISHED_RATIONALITY:
        assert set(r) >= KEYS
        assert r["key"] in by_key
        assert r["quote"].strip() and r["where"].strip()
        assert isinstance(r["value"], (int, float)) and math.isfinite(r["value"])
        assert by_key[r["key"]]["citation"].split(" (")[0] in r["source"]


def test_table_renders_with_citations():
    rows = published_rows()
    quoted = {r["key"] for r in published.PUBLISHED_RATIONALITY}
    text = " | ".join(r["source"] for r in rows)
    for s in published.SOURCES:
        assert s["citation"] in text or s["key"] in quoted
        if s["key"] not in quoted:  # listed without a number, with its DOI
            assert f"doi:{s['doi']}" in text
    for r in rows:
        assert r["status"].startswith("quoted, not measured")
        assert (r["value"] is None) == ("figure not verified here" in r["status"])
    json.dumps(rows, allow_nan=False)


def test_a_quoted_figure_renders_as_quoted(monkeypatch: pytest.MonkeyPatch):
    """The rendering path of a filled table (with a made-up row: this checks the layout, not a figure)."""
    src = published.SOURCES[0]
    row = {"key": src["key"], "source": src["citation"] + f", doi:{src['doi']}", "subjects": src["subjects"],
           "domain": src["domains"][0], "statistic": "mean CCEI", "value": 0.5, "where": "Table 9 (test row)",
           "quote": "a test sentence"}
    monkeypatch.setattr(published, "PUBLISHED_RATIONALITY", [row])
    rows = published_rows()
    shown = [r for r in rows if r["value"] is not None]
    assert len(shown) == 1 and shown[0]["value"] == 0.5
    assert shown[0]["status"] == "quoted, not measured (Table 9 (test row))"
    assert src["citation"] in shown[0]["source"]
    # the quoted source is not listed a second time as unverified; the others still are
    unverified = [r["source"] for r in rows if r["value"] is None]
    assert not any(src["citation"] in u for u in unverified)
    assert len(unverified) == len(published.SOURCES) - 1
