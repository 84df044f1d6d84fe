"""Topic and group names: Kafka's rule, and nothing a user types reaches outside the log directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.storage import EventLog, InvalidGroupNameError, InvalidTopicNameError
from headwater.storage.names import group_file_name, parse_segment_base, segment_path, validate_topic_name


@pytest.mark.parametrize("name", ["orders", "a", "A.b_c-9", "x" * 249, "_confluent-ksql-default__command_topic", ".hidden"])
def test_legal_names_pass(name: str) -> None:
    assert validate_topic_name(name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        (".", "cannot be"),
        ("..", "cannot be"),
        ("x" * 250, "limit is 249"),
        ("a/b", "'/'"),
        ("../etc", "'/'"),
        ("/etc/passwd", "'/'"),
        ("a\\b", "'\\\\'"),
        ("a b", "' '"),
        ("caf\u00e9", "'\u00e9'"),
        ("nul\x00byte", "'\\x00'"),
        ("~", "'~'"),
    ],
)
def test_illegal_names_are_refused_with_the_reason(name: str, fragment: str) -> None:
    with pytest.raises(InvalidTopicNameError) as info:
        validate_topic_name(name)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_non_string_name_is_refused() -> None:
    with pytest.raises(InvalidTopicNameError, match="must be a string"):
        validate_topic_name(42)


@pytest.mark.parametrize("name", ["../escape", "..", "a/../../b", "/tmp/abs", "sub/dir"])
def test_log_refuses_escaping_names_everywhere(tmp_path: Path, name: str) -> None:
    log = EventLog.open(tmp_path / "log")
    try:
        for call in (lambda: log.create_topic(name), lambda: log.topic(name), lambda: log.has_topic(name),
                     lambda: log.delete_topic(name)):
            with pytest.raises(InvalidTopicNameError):
                call()
        with pytest.raises(InvalidTopicNameError):
            log.offsets.commit("g", {(name, 0): 1})
    finally:
        log.close()
    outside = sorted(p.name for p in tmp_path.iterdir())
    assert outside == ["log"], "nothing may be created next to the log directory"


def test_group_file_names_are_safe_and_distinct() -> None:
    names = ["g", "../../etc/passwd", "a/b", "a%2Fb", "query_CSAS_1", "\u00fcber", "x" * 500, "x" * 501]
    files = [group_file_name(n) for n in names]
    assert len(set(files)) == len(files)
    for f in files:
        assert "/" not in f and f not in (".", "..") and len(f) < 255
    with pytest.raises(InvalidGroupNameError):
        group_file_name("")


def test_segment_names_sort_in_offset_order(tmp_path: Path) -> None:
    names = [segment_path(tmp_path, base).name for base in (0, 9, 10, 12345678901234)]
    assert names == sorted(names)
    assert [parse_segment_base(n) for n in names] == [0, 9, 10, 12345678901234]
    assert parse_segment_base("0.arrow") is None
    assert parse_segment_base("00000000000000000000.index") is None
