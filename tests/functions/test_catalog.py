"""The library as SHOW FUNCTIONS and DESCRIBE FUNCTION see it: every documented ksqlDB function is
present, with a category, a description and described overloads."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from importlib import import_module

import pytest

from headwater.engine.functions import build_registry, default_registry
from headwater.engine.functions.catalog import FAMILY_FUNCTIONS
from headwater.engine.functions.registry import (
    FunctionKind,
    FunctionRegistry,
    Generic,
    LambdaType,
    Param,
    ScalarFunction,
    Signature,
)
from headwater.errors import PlanError
from headwater.parser import types as t

DOCUMENTED = ["ABS", "ACOS", "ASIN", "AS_VALUE", "ATAN", "ATAN2", "CBRT", "CEIL", "COS", "COSH", "COT", "DEGREES", "ENTRIES", "EXP", "FLOOR", "GENERATE_SERIES", "GEO_DISTANCE", "GREATEST", "LEAST", "LN", "LOG", "PI", "POWER", "RADIANS", "RANDOM", "ROUND", "SIGN", "SIN", "SINH", "SQRT", "TAN", "TANH", "TRUNC", "ARRAY_CONCAT", "ARRAY_CONTAINS", "ARRAY_DISTINCT", "ARRAY_EXCEPT", "ARRAY_INTERSECT", "ARRAY_JOIN", "ARRAY_LENGTH", "ARRAY_MAX", "ARRAY_MIN", "ARRAY_REMOVE", "ARRAY_SORT", "ARRAY_UNION", "AS_MAP", "ELT", "FIELD", "JSON_ARRAY_CONTAINS", "MAP_KEYS", "MAP_VALUES", "MAP_UNION", "SLICE", "FILTER", "REDUCE", "TRANSFORM", "CHR", "CONCAT", "CONCAT_WS", "ENCODE", "EXTRACTJSONFIELD", "FROM_BYTES", "IS_JSON_STRING", "JSON_ARRAY_LENGTH", "JSON_CONCAT", "JSON_ITEMS", "JSON_KEYS", "JSON_RECORDS", "TO_JSON_STRING", "INITCAP", "INSTR", "LCASE", "LEN", "LPAD", "MASK", "MASK_KEEP_LEFT", "MASK_KEEP_RIGHT", "MASK_LEFT", "MASK_RIGHT", "MD5", "REPLACE", "REGEXP_EXTRACT", "REGEXP_EXTRACT_ALL", "REGEXP_REPLACE", "REGEXP_SPLIT_TO_ARRAY", "RPAD", "SPLIT", "SPLIT_TO_MAP", "SUBSTRING", "TO_BYTES", "TRIM", "UCASE", "UUID", "BIGINT_FROM_BYTES", "DOUBLE_FROM_BYTES", "INT_FROM_BYTES", "COALESCE", "IFNULL", "NULLIF", "CONVERT_TZ", "DATEADD", "DATESUB", "FORMAT_DATE", "FORMAT_TIME", "FORMAT_TIMESTAMP", "FROM_DAYS", "FROM_UNIXTIME", "PARSE_DATE", "PARSE_TIME", "PARSE_TIMESTAMP", "TIMEADD", "TIMESUB", "TIMESTAMPADD", "TIMESTAMPSUB", "UNIX_DATE", "UNIX_TIMESTAMP", "URL_DECODE_PARAM", "URL_ENCODE_PARAM", "URL_EXTRACT_FRAGMENT", "URL_EXTRACT_HOST", "URL_EXTRACT_PARAMETER", "URL_EXTRACT_PATH", "URL_EXTRACT_PORT", "URL_EXTRACT_PROTOCOL", "URL_EXTRACT_QUERY", "DATETOSTRING", "STRINGTODATE", "STRINGTOTIMESTAMP", "TIMESTAMPTOSTRING", "EXPLODE", "CUBE_EXPLODE"]


def test_every_documented_function_is_registered() -> None:
    names = set(default_registry().names())
    assert sorted(set(DOCUMENTED) - names) == []


def test_test_only_functions_stay_out_of_the_product() -> None:
    names = set(default_registry().names())
    assert not names & {"TEST_UDF", "VAR_ARG", "BAD_UDF", "TEST_UDTF", "THROWING_UDTF"}


def test_every_function_is_described() -> None:
    for function in default_registry().functions():
        assert function.category and function.description.strip(), function.name
        assert function.signatures, function.name
        for signature in function.signatures:
            for param in signature.params:
                assert param.name and param.type is not None, function.name
            returns = signature.returns
            assert isinstance(returns, t.SqlType) or hasattr(returns, "sql"), function.name


def test_table_functions_are_table_kind() -> None:
    registry = default_registry()
    assert registry.lookup("explode").kind is FunctionKind.TABLE  # type: ignore[union-attr]
    assert registry.lookup("CUBE_EXPLODE").kind is FunctionKind.TABLE  # type: ignore[union-attr]
    assert registry.lookup("ABS").kind is FunctionKind.SCALAR  # type: ignore[union-attr]


def test_default_registry_is_built_once_and_build_registry_is_fresh() -> None:
    assert default_registry() is default_registry()
    fresh = build_registry()
    assert fresh is not default_registry()
    fresh.register(ScalarFunction("EXTRA", "OTHER", "x", (Signature((), t.INT, lambda a, c: None),)))
    assert default_registry().lookup("EXTRA") is None
    with pytest.raises(ValueError, match="registered twice"):
        fresh.register_aggregate("extra", object())
    fresh.register_aggregate("MY_AGG", object())
    assert "MY_AGG" in fresh.names()


def test_unknown_function_and_bad_arguments_messages() -> None:
    with pytest.raises(PlanError, match="Can't find any functions with the name 'WONT_FIND_ME'"):
        default_registry().resolve("wont_find_me", ())
    with pytest.raises(PlanError, match="Function 'geo_distance' does not accept parameters") as raised:
        default_registry().resolve("GEO_DISTANCE", (t.DOUBLE, t.DOUBLE, t.STRING, t.INT))
    assert "GEO_DISTANCE(DOUBLE lat1, DOUBLE lon1, DOUBLE lat2, DOUBLE lon2)" in raised.value.message


def test_generic_resolution_rules() -> None:
    registry = FunctionRegistry()
    T = Generic("T")
    registry.register(
        ScalarFunction(
            "PICK",
            "OTHER",
            "test",
            (
                Signature((Param("a", T), Param("b", T)), T, lambda a, c: None),
                Signature((Param("a", t.INT), Param("b", t.INT)), t.INT, lambda a, c: None),
                Signature((Param("a", t.DOUBLE), Param("rest", t.DOUBLE)), t.DOUBLE, lambda a, c: None, variadic=True),
            ),
        )
    )
    # the exact, non-generic overload wins over the generic one
    assert registry.resolve("PICK", (t.INT, t.INT)).signature.params[0].type == t.INT
    # a generic binds to its first argument and accepts no cast afterwards
    assert registry.resolve("PICK", (t.STRING, t.STRING)).return_type == t.STRING
    assert registry.resolve("PICK", (t.STRING, None)).return_type == t.STRING
    # casts are tried only when nothing matches exactly: INT -> DOUBLE into the variadic overload
    widened = registry.resolve("PICK", (t.INT, t.BIGINT, t.INT))
    assert widened.return_type == t.DOUBLE and widened.param_types == (t.DOUBLE,) * 3
    with pytest.raises(PlanError, match="does not accept parameters \\(STRING, INTEGER\\)"):
        registry.resolve("PICK", (t.STRING, t.INT))


def test_lambda_types_describe_themselves() -> None:
    transform = default_registry().lookup("TRANSFORM")
    assert transform is not None
    text = transform.signatures[0].params[1].type.sql()
    assert text == "LAMBDA<(T) => O>"
    assert LambdaType((t.INT,), None).sql() == "LAMBDA<(INTEGER) => ?>"


def test_the_family_index_matches_the_modules() -> None:
    for module, names in FAMILY_FUNCTIONS.items():
        family = import_module(f"headwater.engine.functions.{module}")
        assert sorted(f.name.upper() for f in family.FUNCTIONS) == sorted(names), module


def test_a_lookup_imports_only_its_family() -> None:
    code = (
        "import sys\n"
        "from headwater.engine.functions import default_registry\n"
        "registry = default_registry()\n"
        "loaded = lambda: sorted(m.rsplit('.', 1)[1] for m in sys.modules\n"
        "    if m.startswith('headwater.engine.functions.') and m.rsplit('.', 1)[1] in FAMILIES)\n"
        "print(loaded())\n"
        "registry.lookup('url_extract_host')\n"
        "print(loaded(), 'headwater.engine.aggregates' in sys.modules)\n"
        "print('URL_EXTRACT_HOST' in registry.names(), 'COUNT' in registry.names(), loaded())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", "from headwater.engine.functions.catalog import FAMILIES\n" + code],
        capture_output=True,
        text=True,
        check=True,
    )
    # listing names imports no family (the aggregates, whose names are not indexed, load for it)
    assert result.stdout.splitlines() == ["[]", "['url'] False", "True True ['url']"]


def test_aggregates_are_in_the_product_registry() -> None:
    registry = build_registry()
    count = registry.aggregate("count")
    assert count is not None and count.kind is FunctionKind.AGGREGATE
    assert {"COUNT", "SUM", "TOPKDISTINCT"} <= set(registry.names())
    assert registry.aggregate("UCASE") is None and registry.lookup("COUNT") is None
    # DESCRIBE FUNCTION's view: one lookup for every kind
    assert registry.find("sum") is registry.aggregate("SUM")
    assert registry.find("ucase") is registry.lookup("UCASE")
    assert registry.find("wont_find_me") is None
    assert [a.name for a in registry.aggregates()][:2] == ["ATTR", "AVG"]
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(ScalarFunction("COUNT", "OTHER", "x", (Signature((), t.INT, lambda a, c: None),)))


def _function(name: str) -> ScalarFunction:
    return ScalarFunction(name, "OTHER", "x", (Signature((), t.INT, lambda a, c: None),))


def test_deferred_registration() -> None:
    calls: list[str] = []

    def loader(label: str, *names: str) -> Callable[[], tuple[ScalarFunction, ...]]:
        def load() -> tuple[ScalarFunction, ...]:
            calls.append(label)
            return tuple(_function(name) for name in names)

        return load

    registry = FunctionRegistry()
    registry.defer(loader("ab", "A", "B"), names=("a", "b"))
    registry.defer(loader("open", "C"))
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(_function("A"))
    assert registry.lookup("b") is not None and calls == ["ab"]
    assert registry.lookup("a") is not None and calls == ["ab"]  # loaded once
    assert registry.lookup("c") is not None and calls == ["ab", "open"]  # an unknown name opens the rest
    assert registry.names() == ["A", "B", "C"]
    stale = FunctionRegistry()
    stale.defer(lambda: (_function("X"),), names=("X", "Y"))
    with pytest.raises(ValueError, match="the index is stale"):
        stale.lookup("Y")


def test_a_lookup_during_a_load_waits_for_it() -> None:
    started, release = threading.Event(), threading.Event()

    def slow_load() -> tuple[ScalarFunction, ...]:
        started.set()
        release.wait(timeout=10)
        return (_function("A"), _function("B"))

    registry = FunctionRegistry()
    registry.defer(slow_load, names=("A", "B"))
    found: dict[str, object] = {}
    first = threading.Thread(target=lambda: found.update(A=registry.lookup("A")))
    first.start()
    assert started.wait(timeout=10)
    second = threading.Thread(target=lambda: found.update(B=registry.lookup("B")))
    second.start()
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)
    assert found["A"] is not None and found["B"] is not None


class _LoadFinishesAfterTheFirstRead(dict):
    """A registry's function table whose first failed read is followed, before the caller goes on, by
    the whole load of the deferred group on "another thread" (the interleaving of two lookups)."""

    def __init__(self, finish_load: Callable[[], None]) -> None:
        super().__init__()
        self.finish_load: Callable[[], None] | None = finish_load

    def get(self, key: str, default: object = None) -> object:
        value = super().get(key, default)
        if value is None and self.finish_load is not None:
            finish, self.finish_load = self.finish_load, None
            finish()
        return value


def test_a_lookup_finds_a_name_whose_load_finished_between_its_reads() -> None:
    registry = FunctionRegistry()
    registry.defer(lambda: (_function("A"), _function("B")), names=("A", "B"))
    group = registry._deferred["A"]
    registry._functions = _LoadFinishesAfterTheFirstRead(lambda: registry._load(group))
    assert registry.lookup("A") is not None


def test_concurrent_lookups_on_a_fresh_registry_all_resolve() -> None:
    names = ["ABS", "UCASE", "SUBSTRING", "ARRAY_LENGTH", "CONCAT", "ROUND", "LCASE", "JSON_KEYS"]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for _ in range(10):
            registry = build_registry()
            barrier = threading.Barrier(len(names))
            missing: list[str] = []

            def find(
                name: str,
                registry: FunctionRegistry = registry,
                barrier: threading.Barrier = barrier,
                missing: list[str] = missing,
            ) -> None:
                barrier.wait(timeout=10)
                if registry.lookup(name) is None:
                    missing.append(name)

            threads = [threading.Thread(target=find, args=(name,)) for name in names]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert not missing
    finally:
        sys.setswitchinterval(interval)
