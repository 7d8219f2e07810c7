"""parse_json_reply / ParseLog on hand-made replies and on all 240 real Mistral-7B replies."""
from __future__ import annotations

import csv
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmas import ParseError, ParseLog, parse_json_reply
from llmas.parsing import parse_reply, repair_json

HATE_KEYS = ["is_insulting", "is_dehumanizing", "is_humiliating", "promotes_violence",
             "promotes_genocide", "is_respectful"]
HATE = {k: bool for k in HATE_KEYS}
S = {"ok": bool, "share": float, "n": int, "label": str}


@pytest.mark.parametrize("text, method", [
    ('{"ok": true, "share": 0.5, "n": 3, "label": "a"}', "json"),
    ('Here you go:\n```json\n{"ok": true, "share": 0.5, "n": 3, "label": "a"}\n```\nHope it helps.', "json"),
    ('{"ok": True, "share": 0.5, "n": 3, "label": "a",}', "repaired"),
    ("{'ok': True, 'share': .5e0, 'n': 3, 'label': 'a'}", "keys"),  # .5e0 is not JSON; keys rescue it
    ("{ok: true, share: 0.5, n: 3.0, label: 'a'}", "repaired"),
    ('The answer is {"ok": true, "share": 0.5, "n": 3, "label": "a"', "repaired"),  # cut off
    ('{"ok": "yes", "share": "0.5", "n": 3, "label": "a"}', "json"),
    ('ok = true\nshare = 0.5\nn = 3\nlabel = "a"', "keys"),
    ('{"ok": true, "share": 0.5 "n": 3, "label": "a"}', "keys"),  # missing comma
])
def test_lenient_forms(text, method):
    value, how = parse_reply(text, S)
    assert value == {"ok": True, "share": 0.5, "n": 3, "label": "a"}
    assert how == method
    assert type(value["share"]) is float and type(value["n"]) is int and type(value["ok"]) is bool


def test_first_fitting_object_wins_and_extra_keys_dropped():
    text = 'Example: {"x": 1}. Answer: {"ok": false, "share": 1, "n": 0, "label": "b", "extra": 9}'
    assert parse_json_reply(text, S) == {"ok": False, "share": 1.0, "n": 0, "label": "b"}


def test_enumeration_schema():
    assert parse_json_reply('{"label": "POSITIVE"}', {"label": ("positive", "negative")}) == {"label": "positive"}
    with pytest.raises(ParseError, match="one of"):
        parse_json_reply('{"label": "meh"}', {"label": ("positive", "negative")})


@pytest.mark.parametrize("text, reason", [
    ("I cannot answer that.", "no JSON object"),
    ('{"ok": true}', "missing key 'share'"),
    ('{"ok": 2, "share": 0.5, "n": 3, "label": "a"}', "key 'ok' is 2, not bool"),
    ('{"ok": true, "share": 0.5, "n": 3.5, "label": "a"}', "not int"),
    ('{"ok": true, "share": NaN, "n": 3, "label": "a"}', "not float"),
])
def test_failures_have_reasons_and_raw(text, reason):
    with pytest.raises(ParseError) as info:
        parse_json_reply(text, S)
    assert reason in info.value.reason
    assert info.value.raw == text
    assert isinstance(info.value, ValueError)


def test_never_evaluates():
    text = "{'ok': __import__('os').system('false'), 'share': 1, 'n': 1, 'label': 'x'}"
    with pytest.raises(ParseError):
        parse_json_reply(text, S)


def test_bad_schema():
    with pytest.raises(ValueError, match="schema"):
        parse_json_reply("{}", {})
    with pytest.raises(ValueError, match="schema type"):
        parse_json_reply("{}", {"a": list})
    with pytest.raises(ParseError, match="not str"):
        parse_json_reply(None, {"a": bool})


def test_repair_json_examples():
    assert repair_json("{'a': True, b: None,}") == '{"a": true, "b": null}'
    assert repair_json('{"it\'s": \'say "hi"\'}') == '{"it\'s": "say \\"hi\\""}'
    assert json.loads(repair_json("[1, 2, ]")) == [1, 2]


@settings(max_examples=40, deadline=None)
@given(st.fixed_dictionaries({k: st.booleans() for k in HATE_KEYS}), st.sampled_from(["json", "python", "fence"]),
       st.text(alphabet="abc XYZ.,!\n", max_size=40), st.text(alphabet="abc XYZ.,!\n", max_size=40))
def test_roundtrip_property(values, style, before, after):
    if style == "python":
        body = "{" + ", ".join(f"'{k}': {v}" for k, v in values.items()) + ",}"
    else:
        body = json.dumps(values, indent=1)
        if style == "fence":
            body = "```json\n" + body + "\n```"
    assert parse_json_reply(before + body + after, HATE) == values


# --- real replies -----------------------------------------------------------------
def _rows(mhs_mistral):
    with open(mhs_mistral / "mistral7b_responses.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_all_240_mistral_replies(mhs_mistral):
    rows = _rows(mhs_mistral)
    assert len(rows) == 240
    log = ParseLog(HATE)
    parsed = log.parse_many(r["response"] for r in rows)
    # Every reply parses (count fixed by running the parser once and checking by hand);
    # 201 need the lenient repair (Python True/False), 39 are strict JSON.
    assert (log.n_ok, log.n_failed) == (240, 0)
    assert dict(log.methods) == {"json": 39, "repaired": 201}
    for row, value in zip(rows, parsed, strict=True):
        assert set(value) == set(HATE_KEYS) and all(type(v) is bool for v in value.values())
        # Independent check: the first `"key": word` occurrence in the raw text.
        for k in HATE_KEYS:
            word = re.search(rf'"{k}"\s*:\s*(\w+)', row["response"]).group(1)
            assert value[k] == (word.lower() == "true")
    assert log.to_dict()["n_total"] == 240


# Six booleans read by eye from the raw replies (order of HATE_KEYS).
HAND = {
    0: (False, False, False, False, False, True),    # "Love Latinos come here ..."
    9: (True, False, True, False, False, False),     # "PAY THESE WOMEN ..." (Python True)
    20: (True, True, True, True, False, False),
    44: (True, False, False, False, False, False),   # "THE CATHOLIC CHURCH IS EVIL ..."
    46: (True, True, True, True, True, False),
    100: (True, False, False, False, False, False),
    200: (True, True, True, True, False, False),
}


@pytest.mark.parametrize("index", sorted(HAND))
def test_mistral_spot_checks(mhs_mistral, index):
    row = _rows(mhs_mistral)[index]
    assert tuple(parse_json_reply(row["response"], HATE)[k] for k in HATE_KEYS) == HAND[index]


def test_parse_log_counts_failures():
    log = ParseLog({"ok": bool})
    assert log.parse('{"ok": false}') == {"ok": False}
    assert log.parse("nothing here") is None
    assert log.parse('{"ok": "perhaps"}') is None
    assert (log.n_ok, log.n_failed, log.n_total) == (1, 2, 3)
    assert [f["index"] for f in log.failures] == [1, 2]
    assert log.failures[0]["raw"] == "nothing here"
    assert "2 failed" in log.summary()
    assert log.failure_rate == pytest.approx(2 / 3)


# Nothing stored can crash a rerun (issue 12, item 4) ---------------------------------
def _nested(depth: int, opener: str, closer: str, inner: str = "1", closed: bool = True) -> str:
    return opener * depth + inner + (closer * depth if closed else "")


def _check_outcome(text: str) -> None:
    """parse_reply either fits the schema exactly or raises ParseError; ParseLog counts and keeps the text."""
    try:
        value, how = parse_reply(text, S)
    except ParseError as exc:
        assert exc.raw == text and "\n" not in exc.reason
    else:
        assert set(value) == set(S) and how in ("json", "repaired", "keys")
    log = ParseLog(S)
    out = log.parse(text)
    assert log.n_total == 1 and (out is None) == (log.n_failed == 1)
    if out is None:
        assert log.failures[0]["raw"] == text
    json.dumps(log.to_dict(), allow_nan=False)


@pytest.mark.parametrize("depth", [1000, 30_000])
@pytest.mark.parametrize("shape", ["obj", "arr", "arr_in_obj", "open", "single_quotes"])
def test_deeply_nested_replies_fail_cleanly(depth, shape):
    text = {
        "obj": _nested(depth, '{"a": ', "}"),
        "arr": _nested(depth, "[", "]"),
        "arr_in_obj": '{"ok": true, "share": 0.5, "n": 1, "label": "x", "deep": ' + _nested(depth, "[", "]") + "}",
        "open": _nested(depth, '{"a": ', "}", closed=False),
        "single_quotes": _nested(depth, "{'a': ", "}"),
    }[shape]
    _check_outcome(text)
    if shape == "arr_in_obj":  # the keys are still read, from the text
        assert parse_reply(text, S) == ({"ok": True, "share": 0.5, "n": 1, "label": "x"}, "keys")
    elif shape != "single_quotes":
        with pytest.raises(ParseError, match="nested deeper than 100 levels|no JSON object"):
            parse_reply(text, S)


def test_nesting_up_to_the_cap_still_decodes():
    inner = _nested(98, "[", "]")
    assert parse_reply('{"ok": true, "share": 1, "n": 2, "label": "x", "d": ' + inner + "}", S)[1] == "json"


def test_huge_replies_are_linear():
    import time

    many = '{"ok": true}' * 20_000 + '{"ok": true, "share": 0.5, "n": 3, "label": "a"}'
    t0 = time.perf_counter()
    for text in ["x" * 300_000, "{" * 200_000, "{}" * 100_000, '{"' * 100_000, "[" * 200_000, many]:
        _check_outcome(text)
    assert time.perf_counter() - t0 < 30  # quadratic scans would take hours


_JSONISH = st.text(alphabet=st.sampled_from(list("{}[]\",:\\'\n tTfFnN0123456789.-eEoksharlbx_=")), max_size=400)


@settings(deadline=None, max_examples=200)
@given(st.one_of(
    _JSONISH,
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("utf-8", "replace")),
    st.tuples(st.integers(101, 3000), st.sampled_from(["{", "[", '{"a":', "{'a':", '[{"ok":']),
              _JSONISH).map(lambda t: t[1] * t[0] + t[2]),
    st.tuples(st.integers(1, 2000), _JSONISH).map(lambda t: '{"ok": true, "share": 0.5, "n": 1, "label": "x"}'
                                                   + "[" * t[0] + t[1]),
))
def test_any_text_parses_or_fails_cleanly(text):
    _check_outcome(text)


def test_parse_log_to_dict_is_strict_json_when_empty():
    assert ParseLog(S).to_dict()["failure_rate"] is None
    json.dumps(ParseLog(S).to_dict(), allow_nan=False)
