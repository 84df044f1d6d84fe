"""Date/time functions: Java patterns formatted and parsed column-wide, zones, interval arithmetic."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pytest
from function_calls import call, call_rows, col, lit, resolve, unit

from headwater.engine.functions.java_time_format import compile_pattern, format_instants
from headwater.engine.functions.registry import FunctionError
from headwater.engine.functions.timezones import local_to_instant_millis, zone_of
from headwater.errors import PlanError
from headwater.parser import types as t

UTC = dt.UTC


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
       micro: int = 0, *, tz: dt.tzinfo = UTC) -> int:
    return int(dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz).timestamp() * 1000)


def stamp(millis: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=millis)


def test_format_timestamp_default_and_named_zones() -> None:
    values = col(t.TIMESTAMP, [stamp(1600000000123), None])
    pattern = lit(t.STRING, "yyyy-MM-dd'T'HH:mm:ss.SSSXXX")
    assert call("FORMAT_TIMESTAMP", values, pattern) == ["2020-09-13T12:26:40.123Z", None]
    zoned = call("FORMAT_TIMESTAMP", values, pattern, lit(t.STRING, "America/Los_Angeles"))
    assert zoned == ["2020-09-13T05:26:40.123-07:00", None]
    config = {"headwater.functions.timezone": "Asia/Kolkata"}
    assert call("FORMAT_TIMESTAMP", values, lit(t.STRING, "HH:mm"), config=config) == ["17:56", None]


def test_formatting_agrees_with_python_for_common_letters() -> None:
    rng = np.random.default_rng(7)
    instants = rng.integers(-2_000_000_000_000, 4_000_000_000_000, 500)
    pattern = compile_pattern("yyyy-MM-dd HH:mm:ss.SSS EEE MMM D a hh")
    for zone_name in ("UTC", "America/Los_Angeles", "Australia/Lord_Howe"):
        got = format_instants(pattern, instants, zone_of(zone_name)).to_pylist()
        zone = zoneinfo.ZoneInfo(zone_name)
        expected = []
        for value in instants.tolist():
            moment = dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=value)
            local = moment.astimezone(zone)
            expected.append(
                local.strftime("%Y-%m-%d %H:%M:%S.") + f"{local.microsecond // 1000:03d}"
                + local.strftime(" %a %b ") + str(local.timetuple().tm_yday) + local.strftime(" %p %I")
            )
        assert got == expected


def test_parse_timestamp_formats_and_zones() -> None:
    texts = col(t.STRING, ["2021-06-30 12:18:39.446", None])
    pattern = lit(t.STRING, "yyyy-MM-dd HH:mm:ss.SSS")
    assert call("PARSE_TIMESTAMP", texts, pattern) == [stamp(ms(2021, 6, 30, 12, 18, 39, 446000)), None]
    la = zoneinfo.ZoneInfo("America/Los_Angeles")
    got = call("PARSE_TIMESTAMP", texts, pattern, lit(t.STRING, "America/Los_Angeles"))
    assert got[0] == stamp(ms(2021, 6, 30, 12, 18, 39, 446000, tz=la))
    offset = call("STRINGTOTIMESTAMP", col(t.STRING, ["2021-06-30T12:18:39+0200"]), lit(t.STRING, "yyyy-MM-dd'T'HH:mm:ssZ"))
    assert offset == [ms(2021, 6, 30, 10, 18, 39)]
    assert call("STRINGTOTIMESTAMP", col(t.STRING, ["12:05"]), lit(t.STRING, "HH:mm")) == [12 * 3600000 + 5 * 60000]
    assert call("STRINGTOTIMESTAMP", col(t.STRING, ["20200102"]), lit(t.STRING, "yyyyMMdd")) == [ms(2020, 1, 2)]
    assert call("STRINGTOTIMESTAMP", col(t.STRING, ["Jan 2 2020 3PM"]), lit(t.STRING, "MMM d yyyy ha")) == [
        ms(2020, 1, 2, 15)
    ]


def test_parse_failures_fail_only_their_rows() -> None:
    got = call_rows("PARSE_TIMESTAMP", col(t.STRING, ["2021-01-01", "oops", "2021-02-31"]), lit(t.STRING, "yyyy-MM-dd"))
    assert got == [stamp(ms(2021, 1, 1)), None, stamp(ms(2021, 2, 28))]
    with pytest.raises(FunctionError, match="Failed to parse timestamp 'oops'"):
        call("PARSE_TIMESTAMP", col(t.STRING, ["oops"]), lit(t.STRING, "yyyy-MM-dd"))


def test_gaps_and_overlaps_follow_zoned_date_time() -> None:
    la = zone_of("America/Los_Angeles")
    # 2021-03-14 02:30 does not exist in Los Angeles: Java moves it forward by the gap (03:30 PDT)
    gap = local_to_instant_millis(np.array([ms(2021, 3, 14, 2, 30)]), la)
    assert gap.tolist() == [ms(2021, 3, 14, 10, 30)]
    # 2021-11-07 01:30 happens twice: Java takes the earlier offset (PDT)
    overlap = local_to_instant_millis(np.array([ms(2021, 11, 7, 1, 30)]), la)
    assert overlap.tolist() == [ms(2021, 11, 7, 8, 30)]


def test_dates() -> None:
    days = col(t.DATE, [dt.date(2021, 10, 11), None])
    assert call("FORMAT_DATE", days, lit(t.STRING, "yyyy-MM-dd")) == ["2021-10-11", None]
    assert call("DATETOSTRING", col(t.INT, [18911]), lit(t.STRING, "dd/MM/yyyy")) == ["11/10/2021"]
    assert call("PARSE_DATE", col(t.STRING, ["2021-10-11", "11-OCT-2021"]), col(t.STRING, ["yyyy-MM-dd", "dd-MMM-yyyy"])) == [
        dt.date(2021, 10, 11), dt.date(2021, 10, 11),
    ]
    assert call("STRINGTODATE", col(t.STRING, ["2021-10-11"]), lit(t.STRING, "yyyy-MM-dd")) == [18911]
    assert call_rows("PARSE_DATE", col(t.STRING, ["2004", "2004-01-01"]), lit(t.STRING, "yyyy-MM-dd")) == [
        None, dt.date(2004, 1, 1),
    ]
    with pytest.raises(FunctionError, match="time field"):
        call("PARSE_DATE", col(t.STRING, ["2021-10-11 10"]), lit(t.STRING, "yyyy-MM-dd HH"))
    # PARSE_DATE reads a date at the start and ignores what follows (null.json's coalesce case);
    # STRINGTODATE must consume the whole text
    assert call("PARSE_DATE", col(t.STRING, ["2003-12-24-01-01", "2004-01-01"]), lit(t.STRING, "yyyy-MM-dd")) == [
        dt.date(2003, 12, 24), dt.date(2004, 1, 1),
    ]
    assert call_rows("STRINGTODATE", col(t.STRING, ["2003-12-24-01-01"]), lit(t.STRING, "yyyy-MM-dd")) == [None]
    with pytest.raises(FunctionError, match="Unsupported field: HourOfDay"):
        call("FORMAT_DATE", days, lit(t.STRING, "yyyy HH"))


def test_times() -> None:
    times = col(t.TIME, [dt.time(16, 43, 40), None])
    assert call("FORMAT_TIME", times, lit(t.STRING, "hh:mm a")) == ["04:43 PM", None]
    assert call("PARSE_TIME", col(t.STRING, ["13:25", "01:02 PM"]), col(t.STRING, ["HH:mm", "hh:mm a"])) == [
        dt.time(13, 25), dt.time(13, 2),
    ]
    with pytest.raises(FunctionError, match="Unsupported field"):
        call("PARSE_TIME", col(t.STRING, ["2021 10"]), lit(t.STRING, "yyyy HH"))
    with pytest.raises(FunctionError, match="Unsupported field: YearOfEra"):
        call("FORMAT_TIME", times, lit(t.STRING, "yyyy"))


def test_convert_tz_and_epoch_conversions() -> None:
    value = stamp(ms(2021, 6, 30, 12))
    assert call("CONVERT_TZ", col(t.TIMESTAMP, [value]), lit(t.STRING, "UTC"), lit(t.STRING, "America/Los_Angeles")) == [
        stamp(ms(2021, 6, 30, 5))
    ]
    with pytest.raises(FunctionError, match="Invalid time zone"):
        call("CONVERT_TZ", col(t.TIMESTAMP, [value]), lit(t.STRING, "Mars/Olympus"), lit(t.STRING, "UTC"))
    assert call("UNIX_TIMESTAMP", col(t.TIMESTAMP, [value, None])) == [ms(2021, 6, 30, 12), None]
    assert call("FROM_UNIXTIME", col(t.BIGINT, [ms(2021, 6, 30, 12)])) == [value]
    assert call("FROM_DAYS", col(t.INT, [18911])) == [dt.date(2021, 10, 11)]
    assert call("UNIX_DATE", col(t.DATE, [dt.date(2021, 10, 11)])) == [18911]
    now = call("UNIX_TIMESTAMP", length=1)[0]
    assert abs(now - dt.datetime.now(UTC).timestamp() * 1000) < 60_000
    assert call("UNIX_DATE", length=1)[0] == (dt.datetime.now(UTC).date() - dt.date(1970, 1, 1)).days


def test_interval_arithmetic() -> None:
    assert call("DATEADD", unit("DAYS"), lit(t.INT, 10), col(t.DATE, [dt.date(1970, 1, 11)])) == [dt.date(1970, 1, 21)]
    assert call("DATESUB", unit("DAYS"), col(t.INT, [5, None]), col(t.DATE, [dt.date(1970, 1, 3)] * 2)) == [
        dt.date(1969, 12, 29), None,
    ]
    # milliseconds added to a date are truncated back to whole days toward zero, as Java's TimeUnit does
    assert call("DATEADD", unit("MILLISECONDS"), lit(t.INT, 5), col(t.DATE, [dt.date(1969, 12, 31)])) == [
        dt.date(1970, 1, 1)
    ]
    assert call("TIMEADD", unit("MILLISECONDS"), lit(t.INT, 10), col(t.TIME, [dt.time(23, 59, 59, 995000)])) == [
        dt.time(0, 0, 0, 5000)
    ]
    assert call("TIMESUB", unit("HOURS"), lit(t.INT, 25), col(t.TIME, [dt.time(0, 30)])) == [dt.time(23, 30)]
    assert call("TIMESTAMPADD", unit("SECONDS"), lit(t.INT, 5), col(t.TIMESTAMP, [stamp(0)])) == [stamp(5000)]
    assert call("TIMESTAMPSUB", unit("MINUTES"), lit(t.INT, 1), col(t.TIMESTAMP, [stamp(0)])) == [stamp(-60000)]


def test_interval_unit_argument_is_typed() -> None:
    with pytest.raises(PlanError, match="Function 'dateadd' does not accept parameters \\(DATE, INTEGER, DATE\\)"):
        resolve("DATEADD", col(t.DATE, []), lit(t.INT, 5), col(t.DATE, []))
    with pytest.raises(PlanError, match="Function 'timestampadd' does not accept parameters"):
        resolve("TIMESTAMPADD", col(t.TIMESTAMP, []), lit(t.INT, 5), col(t.TIMESTAMP, []))


def test_bad_patterns_and_zones() -> None:
    with pytest.raises(FunctionError, match="Unknown pattern letter: b"):
        call("FORMAT_DATE", col(t.DATE, [dt.date(2021, 1, 1)]), lit(t.STRING, "bb"))
    with pytest.raises(FunctionError, match="Unknown time-zone ID: Nowhere"):
        call("FORMAT_TIMESTAMP", col(t.TIMESTAMP, [stamp(0)]), lit(t.STRING, "HH"), lit(t.STRING, "Nowhere"))
    assert zone_of("UTC+05:30").fixed_offset_millis == 19_800_000
    assert zone_of("-08").fixed_offset_millis == -28_800_000


def test_parsing_is_case_insensitive_like_ksqldb() -> None:
    assert call("PARSE_TIME", col(t.STRING, ["01:00:00 Pm"]), lit(t.STRING, "hh:mm:ss a")) == [dt.time(13)]
    assert call("STRINGTOTIMESTAMP", col(t.STRING, ["2020-05-11T21:58:33z"]), lit(t.STRING, "yyyy-MM-dd'T'HH:mm:ssX")) == [
        ms(2020, 5, 11, 21, 58, 33)
    ]
    assert call("PARSE_TIMESTAMP", col(t.STRING, ["2018-05-11T21:58:33 PST"]), lit(t.STRING, "yyyy-MM-dd'T'HH:mm:ss zzz")) == [
        stamp(ms(2018, 5, 11, 21, 58, 33, tz=zoneinfo.ZoneInfo("America/Los_Angeles")))
    ]
