"""JSON functions (Jackson's parsing and writing) and URL functions (java.net.URI's rules)."""

from __future__ import annotations

import datetime as dt
import decimal
import urllib.parse

import pytest
from function_calls import call, call_rows, col, lit
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.engine.functions.json_functions import parse_json, write_json
from headwater.engine.functions.registry import FunctionError
from headwater.parser import types as t

D = decimal.Decimal
DOC = '{"log": {"cloud": "gcp836Csd", "app": "ksProcessor", "instance": 4, "price": 1.50, "tags": ["a", "b"]}}'


def test_extractjsonfield_paths() -> None:
    doc = col(t.STRING, [DOC, None])
    assert call("EXTRACTJSONFIELD", doc, lit(t.STRING, "$.log.cloud")) == ["gcp836Csd", None]
    assert call("EXTRACTJSONFIELD", doc, lit(t.STRING, "$.log.instance")) == ["4", None]
    assert call("EXTRACTJSONFIELD", doc, lit(t.STRING, "$.log.price")) == ["1.50", None]
    assert call("EXTRACTJSONFIELD", doc, lit(t.STRING, "$.log.tags")) == ['["a","b"]', None]
    assert call("EXTRACTJSONFIELD", doc, lit(t.STRING, "$.log.tags[1]")) == ["b", None]
    assert call("EXTRACTJSONFIELD", doc, lit(t.STRING, '$["log"]["app"]')) == ["ksProcessor", None]
    assert call("EXTRACTJSONFIELD", doc, lit(t.STRING, "$.log.missing")) == [None, None]
    assert call("EXTRACTJSONFIELD", doc, lit(t.STRING, "$.log.tags.x")) == [None, None]
    assert call("EXTRACTJSONFIELD", col(t.STRING, ['{"first_name": "x"}']), lit(t.STRING, "$.first_name")) == ["x"]
    assert call_rows("EXTRACTJSONFIELD", col(t.STRING, ["{not json", DOC]), lit(t.STRING, "$.log.app")) == [
        None, "ksProcessor",
    ]
    with pytest.raises(FunctionError, match="Invalid JSON path"):
        call("EXTRACTJSONFIELD", col(t.STRING, [DOC]), lit(t.STRING, "log.app"))


def test_jackson_parsing_rules() -> None:
    assert parse_json("[1] trailing") == [1]
    assert repr(parse_json("   ")) == "MISSING"
    with pytest.raises(FunctionError, match="Invalid JSON format"):
        parse_json("NaN")
    assert write_json(parse_json('{"a": 1e2, "b": "\\u0001\\n", "c": 2.50}')) == '{"a":100,"b":"\\u0001\\n","c":2.50}'


def test_is_json_string_and_lengths_and_keys() -> None:
    texts = col(t.STRING, ["[1, 2, 3]", "{}", "1", '"abc"', "null", "", "abc", None])
    assert call("IS_JSON_STRING", texts) == [True, True, True, True, True, False, False, False]
    assert call_rows("JSON_ARRAY_LENGTH", col(t.STRING, ["[1, [1, [2]], 3]", "[]", "{}", "123", None, "abc"])) == [
        3, 0, None, None, None, None,
    ]
    assert call("JSON_KEYS", col(t.STRING, ['{"a": "abc", "b": {"c": "a"}, "d": 1}', "{}", "[]", None])) == [
        ["a", "b", "d"], [], None, None,
    ]


def test_json_records_and_items() -> None:
    records = call("JSON_RECORDS", col(t.STRING, ['{"a": "abc", "b": {"c": "a"}, "d": 1}', "[]", None]))
    assert dict(records[0]) == {"a": '"abc"', "b": '{"c":"a"}', "d": "1"} and records[1:] == [None, None]
    items = call("JSON_ITEMS", col(t.STRING, ['[{"type": "A"}, 2, "x"]', "[]"]))
    assert items == [['{"type":"A"}', "2", '"x"'], []]


def test_json_concat_rules() -> None:
    left = col(t.STRING, ['{"a": 1}', '{"a": {"5": 6}}', "[1, 2]", "null", "[1, 2]", "1", "", None])
    right = col(t.STRING, ['{"b": 2}', '{"a": {"3": 4}}', "[3, 4]", "null", '{"a": 1}', "2", "1", "[1]"])
    assert call_rows("JSON_CONCAT", left, right) == [
        '{"a":1,"b":2}', '{"a":{"3":4}}', "[1,2,3,4]", "[null,null]", '[1,2,{"a":1}]', "[1,2]", None, None,
    ]


def test_json_array_contains_matches_kinds() -> None:
    arrays = col(t.STRING, ['["Pink", null]', '["Red"]', "[1, 2.5, true]", "not json", None])
    assert call("JSON_ARRAY_CONTAINS", arrays, lit(t.STRING, "Pink")) == [True, False, False, False, False]
    assert call("JSON_ARRAY_CONTAINS", arrays, lit(t.INT, 1)) == [False, False, True, False, False]
    assert call("JSON_ARRAY_CONTAINS", arrays, lit(t.DOUBLE, 2.5)) == [False, False, True, False, False]
    assert call("JSON_ARRAY_CONTAINS", arrays, lit(t.BOOLEAN, True)) == [False, False, True, False, False]
    assert call("JSON_ARRAY_CONTAINS", arrays, lit(t.STRING, None)) == [True, False, False, False, False]


def test_to_json_string_of_each_type() -> None:
    assert call("TO_JSON_STRING", col(t.INT, [1, None])) == ["1", "null"]
    assert call("TO_JSON_STRING", col(t.STRING, ["abc", 'q"\\', None])) == ['"abc"', '"q\\"\\\\"', "null"]
    assert call("TO_JSON_STRING", col(t.DOUBLE, [123.456, 1e20])) == ["123.456", "1.0E20"]
    assert call("TO_JSON_STRING", col(t.Decimal(6, 3), [D("123.456")])) == ["123.456"]
    assert call("TO_JSON_STRING", col(t.BYTES, [b"!"])) == ['"IQ=="']
    assert call("TO_JSON_STRING", col(t.TIME, [dt.time(16, 43, 40), dt.time(1, 2, 3, 4000)])) == ['"16:43:40"', '"01:02:03.004"']
    assert call("TO_JSON_STRING", col(t.DATE, [dt.date(1972, 9, 27)])) == ['"1972-09-27"']
    assert call("TO_JSON_STRING", col(t.TIMESTAMP, [dt.datetime(1971, 11, 28, 23, 46, 40)])) == ['"1971-11-28T23:46:40.000"']
    structs = col(t.Struct((("NAME", t.STRING), ("ID", t.INT))), [{"NAME": "Alice", "ID": 1}])
    assert call("TO_JSON_STRING", structs) == ['{"ID":1,"NAME":"Alice"}']
    maps = col(t.Map(t.STRING, t.Array(t.INT)), [[("id", [1, 2, 3])]])
    assert call("TO_JSON_STRING", maps) == ['{"id":[1,2,3]}']


URLS = [
    "http://www.test.com/?query#fragment",
    "http://www.nofragment.com",
    "http://test@confluent.io:8080/nested/path?query&jobs",
    "http://www.test.com/a%20b?x=a%20b#frag%20space",
    "mailto:someone@example.com",
    "http://test_host.com/x",
    None,
]


def test_url_extractors() -> None:
    urls = col(t.STRING, URLS)
    assert call("URL_EXTRACT_FRAGMENT", urls) == ["fragment", None, None, "frag space", None, None, None]
    assert call("URL_EXTRACT_HOST", urls) == ["www.test.com", "www.nofragment.com", "confluent.io", "www.test.com", None,
                                              None, None]
    assert call("URL_EXTRACT_PATH", urls) == ["/", "", "/nested/path", "/a b", None, "/x", None]
    assert call("URL_EXTRACT_PORT", urls) == [None, None, 8080, None, None, None, None]
    assert call("URL_EXTRACT_PROTOCOL", urls) == ["http", "http", "http", "http", "mailto", "http", None]
    assert call("URL_EXTRACT_QUERY", urls) == ["query", None, "query&jobs", "x=a b", None, None, None]
    params = call("URL_EXTRACT_PARAMETER", col(t.STRING, ["http://test.com?a%20b=c%20d&e", "http://t.com?a=foo&b=bar"]),
                  col(t.STRING, ["a b", "b"]))
    assert params == ["c d", "bar"]
    assert call("URL_EXTRACT_PARAMETER", col(t.STRING, ["http://t.com/?one=a&three"]), lit(t.STRING, "three")) == [""]
    assert call_rows("URL_EXTRACT_HOST", col(t.STRING, ["http://a b.com", "http://ok.com"])) == [None, "ok.com"]


def test_url_param_encoding_round_trips() -> None:
    texts = ["url encoded", "?foo $bar", "héllo&wörld*-_.~", "", None]
    encoded = call("URL_ENCODE_PARAM", col(t.STRING, texts))
    assert encoded == [None if v is None else urllib.parse.quote_plus(v, safe="*").replace("~", "%7E") for v in texts]
    assert call("URL_DECODE_PARAM", col(t.STRING, encoded)) == texts
    assert call("URL_DECODE_PARAM", col(t.STRING, ["%3Ffoo+%24bar", "nothing"])) == ["?foo $bar", "nothing"]
    assert call_rows("URL_DECODE_PARAM", col(t.STRING, ["%zz", "%4", "ok"])) == [None, None, "ok"]


URL_ALPHABET = "ab1:/?#@%20[]._-~ é+&=x"


@pytest.mark.parametrize(
    "url",
    [
        "http://www.test.com/?query#fragment", "http://h:8080", "http://h:/p", "http://h:abc/p", "http://[::1]:9/x",
        "http://user:pw@h.com:1/a%2Fb?q=%41#f%20", "mailto:a@b.com#frag", "foo/bar?x", "//host/path", "http:",
        "http://", "a:b:c", "1abc:foo", "http://h/%zz", "http://h/a b", "http://h/é?é#é", "http://test_host.com/x",
        "http://192.168.0.1:80/", "http://a..b/", "http://-a.com/", "", "?q", "#f", "http://h?q#", "HTTP://H.COM",
    ],
)
def test_column_uri_parsing_matches_the_reference(url: str) -> None:
    import pyarrow as pa

    from headwater.engine.functions.url import parse_uri, parse_uri_column

    try:
        expected = parse_uri(url)
    except FunctionError:
        with pytest.raises(FunctionError):
            parse_uri_column(pa.array([url]))
        return
    got = parse_uri_column(pa.array([url]))
    assert (got.scheme[0].as_py(), got.host[0].as_py(), got.port[0].as_py(), got.path[0].as_py(),
            got.query[0].as_py(), got.fragment[0].as_py()) == (
        expected.scheme, expected.host, None if expected.port == -1 else expected.port, expected.path,
        expected.query, expected.fragment,
    )


def test_to_json_string_arrays_take_the_fast_path_or_the_writer() -> None:
    assert call("TO_JSON_STRING", col(t.Array(t.INT), [[1, None, 3], [], None])) == ["[1,null,3]", "[]", "null"]
    assert call("TO_JSON_STRING", col(t.Array(t.STRING), [["a", None], ['x"y']])) == ['["a",null]', '["x\\"y"]']
    assert call("TO_JSON_STRING", col(t.Array(t.DOUBLE), [[1.0, 0.5]])) == ["[1.0,0.5]"]


def _uri_components(url: str) -> tuple | str:
    from headwater.engine.functions.url import parse_uri

    try:
        p = parse_uri(url)
    except FunctionError:
        return "invalid"
    return (p.scheme, p.host, None if p.port == -1 else p.port, p.path, p.query, p.fragment)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=URL_ALPHABET, max_size=14),
            st.builds(lambda a, b: "http://" + a + b, st.text(alphabet=URL_ALPHABET, max_size=8),
                      st.text(alphabet=URL_ALPHABET, max_size=8)),
        ),
        min_size=1, max_size=6,
    )
)
def test_column_uri_parsing_matches_the_reference_on_generated_urls(urls: list[str]) -> None:
    import pyarrow as pa

    from headwater.engine.functions.url import parse_uri_column

    for url in urls:  # one row at a time: an invalid row fails the whole column
        expected = _uri_components(url)
        if expected == "invalid":
            with pytest.raises(FunctionError):
                parse_uri_column(pa.array([url]))
            continue
        got = parse_uri_column(pa.array([url, None]))
        assert got.host[1].as_py() is None
        assert (got.scheme[0].as_py(), got.host[0].as_py(), got.port[0].as_py(), got.path[0].as_py(),
                got.query[0].as_py(), got.fragment[0].as_py()) == expected, url
    valid = [u for u in urls if _uri_components(u) != "invalid"]
    if valid:  # and the valid ones together, as one column
        got = parse_uri_column(pa.array(valid))
        assert got.host.to_pylist() == [_uri_components(u)[1] for u in valid]
        assert got.path.to_pylist() == [_uri_components(u)[3] for u in valid]
