"""The shell's own display properties, set with ``set cli <property> <value>`` (ksqlDB's ``CliConfig``).

Unlike ``SET 'name'='value'`` these never reach the engine or the server: they change how results look
in this shell only.

==============  =========  ===========================================================================
property        default    meaning
==============  =========  ===========================================================================
WRAP            ON         ``OFF`` keeps every result row on one line: long values are cut (``…``) and
                           lines are cut at the terminal's width (ksqlDB)
COLUMN-WIDTH    0          every result column this many characters wide; ``0`` sizes each column from
                           its data (ksqlDB's ``0`` divides the terminal's width evenly instead)
PAGER           ON         historical results longer than the screen are shown a page at a time
EDITING-MODE    EMACS      the line editor's key bindings: ``EMACS`` or ``VI``
==============  =========  ===========================================================================

Example:
    >>> props = CliProperties().with_value("wrap", "off").with_value("column-width", "12")
    >>> props.wrap, props.column_width
    (False, 12)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from headwater.errors import HeadwaterError

__all__ = ["CliProperties", "CliPropertyError"]

_ON_OFF = ("ON", "OFF")
_NAMES = ("COLUMN-WIDTH", "EDITING-MODE", "PAGER", "WRAP")


class CliPropertyError(HeadwaterError, ValueError):
    """An unknown ``set cli`` property, or a value it cannot take (Kafka's ConfigException wording)."""


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    upper = value.strip().upper()
    if upper not in choices:
        raise CliPropertyError(
            f"Invalid value {value} for configuration {name}: String must be one of: {', '.join(choices)}"
        )
    return upper


@dataclass(frozen=True, slots=True)
class CliProperties:
    """The display properties in force (see the module table)."""

    wrap: bool = True
    column_width: int = 0
    pager: bool = True
    editing_mode: str = "EMACS"

    def with_value(self, name: str, value: str) -> CliProperties:
        """These properties with ``name`` set to ``value``.

        Raises:
            CliPropertyError: an unknown property or a value it cannot take.
        """
        key = name.strip().upper()
        if key == "WRAP":
            return replace(self, wrap=_choice(key, value, _ON_OFF) == "ON")
        if key == "PAGER":
            return replace(self, pager=_choice(key, value, _ON_OFF) == "ON")
        if key == "EDITING-MODE":
            return replace(self, editing_mode=_choice(key, value, ("EMACS", "VI")))
        if key == "COLUMN-WIDTH":
            try:
                width = int(value.strip())
            except ValueError:
                raise CliPropertyError(
                    f"Invalid value {value} for configuration {key}: Not a number of type INT"
                ) from None
            if width < 0:
                raise CliPropertyError(f"Invalid value {value} for configuration {key}: Value must be at least 0")
            return replace(self, column_width=width)
        raise CliPropertyError(f"Undefined property: {name}. Valid properties are: [{', '.join(_NAMES)}]")
