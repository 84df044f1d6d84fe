"""Which cases are skipped, and why: only those that need what Headwater deliberately does not have.

Headwater has no schema registry and no AVRO, PROTOBUF, PROTOBUF_NOSR or JSON_SR formats, so a case that
uses one of them is skipped with a reason naming it ("needs AVRO", "needs a schema registry"). Every
other case runs; one Headwater cannot handle yet fails or errors with its reason, so the counts stay
honest. A case is found to need a format when:

* its format-matrix entry is one of them;
* a statement sets ``FORMAT``, ``KEY_FORMAT`` or ``VALUE_FORMAT`` to one of them;
* a default-format property (``ksql.persistence.default.format.key|value``) names one;
* a ``topics`` entry declares one as its key or value format.

It needs a schema registry when a statement names a schema id or full schema name
(``KEY_SCHEMA_ID``, ``VALUE_SCHEMA_ID``, ``KEY_SCHEMA_FULL_NAME``, ``VALUE_SCHEMA_FULL_NAME``), when a
``topics`` entry registers a schema, or when a post-condition expects schema ids or schemas.

Example:
    >>> from headwater.conformance.model import TestCase
    >>> skip_reason(TestCase("f.json", "t", "f - t", ("CREATE STREAM S WITH (value_format='Avro');",)))
    'needs AVRO'
"""

from __future__ import annotations

import re

from headwater.conformance.model import TestCase

__all__ = ["UNSUPPORTED_FORMATS", "skip_reason"]

UNSUPPORTED_FORMATS = ("PROTOBUF_NOSR", "PROTOBUF", "JSON_SR", "AVRO")
"""Formats that need a schema registry or a schema language Headwater does not implement."""

_FORMAT_PROPERTY = re.compile(
    r"\b(?:KEY_FORMAT|VALUE_FORMAT|FORMAT)\s*=\s*'(" + "|".join(UNSUPPORTED_FORMATS) + r")'",
    re.IGNORECASE,
)
_REGISTRY_PROPERTY = re.compile(r"\b(?:KEY|VALUE)_SCHEMA_(?:ID|FULL_NAME)\s*=", re.IGNORECASE)
_DEFAULT_FORMAT_KEYS = ("ksql.persistence.default.format.key", "ksql.persistence.default.format.value")


def _unsupported(name: object) -> str | None:
    if isinstance(name, str) and name.upper() in UNSUPPORTED_FORMATS:
        return name.upper()
    return None


def skip_reason(case: TestCase) -> str | None:
    """Why ``case`` is skipped, or None when it runs."""
    if not case.enabled:
        return "disabled in its test file (enabled: false)"
    found = _unsupported(case.format)
    if found:
        return f"needs {found}"
    for statement in case.statements:
        match = _FORMAT_PROPERTY.search(statement)
        if match:
            return f"needs {match.group(1).upper()}"
    for key in _DEFAULT_FORMAT_KEYS:
        found = _unsupported(case.properties.get(key))
        if found:
            return f"needs {found}"
    for topic in case.topics:
        found = _unsupported(topic.key_format) or _unsupported(topic.value_format)
        if found:
            return f"needs {found}"
    if any(_REGISTRY_PROPERTY.search(s) for s in case.statements):
        return "needs a schema registry"
    if any(
        t.has_key_schema or t.has_value_schema or t.key_schema_id or t.value_schema_id for t in case.topics
    ):
        return "needs a schema registry"
    if case.post is not None and any(
        c.has_key_schema or c.has_value_schema or c.key_schema_id is not None or c.value_schema_id is not None
        for c in case.post.topics
    ):
        return "needs a schema registry"
    return None
