"""Java regular expressions (``java.util.regex``) on RE2, with Python's ``re`` for what RE2 lacks.

ksqlDB's REGEXP_* functions take Java patterns. The vectorized path runs them on Arrow's RE2 kernels,
which share most of Java's syntax; :func:`compile_java` translates a pattern once and records whether
RE2 can run it. The differences handled:

* named groups ``(?<name>...)`` become ``(?P<name>...)``;
* Java's POSIX classes ``\\p{Alpha}``, ``\\p{Digit}``, ``\\p{Punct}``... become explicit ASCII classes;
* ``\\s`` is ASCII whitespace in Java and includes ``\\x0B``, which RE2's ``\\s`` does not;
* constructs RE2 does not have (backreferences, lookaround, atomic groups, possessive quantifiers)
  send the pattern to Python's ``re``, row by row (``re`` has them all; ``\\Q...\\E`` is expanded for
  it).

Capturing groups keep Java's numbering. ``replacement`` strings follow ``Matcher.replaceAll``: ``$n``
and ``${name}`` refer to groups, a backslash quotes the next character.

Example:
    >>> compiled = compile_java("(?<word>\\\\w+)@(\\\\w+)")
    >>> compiled.re2, compiled.group_count
    ('(?P<word>\\\\w+)@(\\\\w+)', 2)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from headwater.engine.functions.registry import FunctionError

__all__ = ["JavaPattern", "compile_java", "java_replacement_to_python", "java_replacement_to_re2"]

_POSIX_CLASSES = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7F",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1F\\x7F",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0B\\f\\r",
    "javaLowerCase": "\\p{Ll}",
    "javaUpperCase": "\\p{Lu}",
    "javaWhitespace": " \\t\\n\\x0B\\f\\r\\x1C-\\x1F",
    "IsAlphabetic": "\\p{L}",
    "IsDigit": "\\p{Nd}",
    "IsLetter": "\\p{L}",
    "IsLowercase": "\\p{Ll}",
    "IsUppercase": "\\p{Lu}",
    "IsWhite_Space": "\\s",
}
_JAVA_SPACE = " \\t\\n\\x0B\\f\\r"


@dataclass(frozen=True, slots=True)
class JavaPattern:
    """A compiled Java pattern.

    Attributes:
        source: the Java pattern as written.
        re2: the equivalent RE2 pattern for Arrow's kernels, or None when only ``python`` can run it.
        python: the equivalent Python pattern, always available (it validates the pattern).
        group_count: the number of capturing groups (Java's ``Matcher.groupCount()``).
        group_names: the names of named groups by number (unnamed groups are absent).
    """

    source: str
    re2: str | None
    python: re.Pattern[str]
    group_count: int
    group_names: dict[int, str]

    def matches_empty(self) -> bool:
        """Java's ``pattern.matcher("").matches()``."""
        return self.python.fullmatch("") is not None


def _translate(pattern: str) -> tuple[str, str, bool, int, dict[int, str]]:
    """Walk the pattern once: (RE2 text, Python text, RE2-compatible?, group count, group names)."""
    re2: list[str] = []
    py: list[str] = []
    compatible = True
    groups = 0
    names: dict[int, str] = {}
    i = 0
    in_class = 0
    after_quantifier = False
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch not in "*+?{" or in_class:
            after_quantifier = False
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                re2.append(re.escape(literal))
                py.append(re.escape(literal))
                i = n if end < 0 else end + 2
                continue
            if nxt in "pP":
                token, consumed = _property_token(pattern, i)
                re2_text, py_text = _property_class(token, negate=nxt == "P", in_class=in_class > 0)
                re2.append(re2_text)
                py.append(py_text)
                i += consumed
                continue
            if nxt in _SPECIAL_ESCAPES:
                text = _SPECIAL_ESCAPES[nxt]
                if in_class:
                    text = text[1:-1] if not text.startswith("[^") else "\\" + nxt
                re2.append(text)
                py.append(text)
                i += 2
                continue
            if nxt == "z":
                re2.append("\\z")
                py.append("\\Z")
                i += 2
                continue
            if nxt == "Z":
                compatible = False
                re2.append("\\Z")
                py.append("(?=\\n?\\Z)")
                i += 2
                continue
            if nxt == "k" and i + 2 < n and pattern[i + 2] == "<":
                compatible = False
                close = pattern.find(">", i + 3)
                py.append(f"(?P={pattern[i + 3 : close]})")
                re2.append(pattern[i : close + 1])
                i = close + 1
                continue
            if (nxt.isdigit() and nxt != "0" and not in_class) or nxt == "G":
                compatible = False  # backreference, or \G which neither engine has
            re2.append(pattern[i : i + 2])
            py.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "[":
                in_class += 1
                compatible = compatible and not (i + 1 < n and pattern[i + 1] in "^")
            elif ch == "]":
                in_class -= 1
            elif ch == "&" and pattern.startswith("&&", i):
                compatible = False  # Java class intersection
            re2.append(ch)
            py.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = 1
            re2.append(ch)
            py.append(ch)
            i += 1
            if i < n and pattern[i] == "^":
                re2.append("^")
                py.append("^")
                i += 1
            if i < n and pattern[i] == "]":  # a leading ']' is literal
                re2.append("\\]")
                py.append("\\]")
                i += 1
            continue
        if ch == "(":
            if pattern.startswith("(?<", i) and i + 3 < n and pattern[i + 3] not in "=!":
                close = pattern.find(">", i + 3)
                name = pattern[i + 3 : close]
                groups += 1
                names[groups] = name
                re2.append(f"(?P<{name}>")
                py.append(f"(?P<{name}>")
                i = close + 1
                continue
            if pattern.startswith("(?", i):
                if (i + 2 < n and pattern[i + 2] in "=!>") or pattern.startswith("(?<", i):
                    compatible = False  # lookaround or atomic group
            else:
                groups += 1
            re2.append(ch)
            py.append(ch)
            i += 1
            continue
        if ch in "*+?":
            if ch == "+" and after_quantifier:
                compatible = False  # possessive quantifier
            after_quantifier = not after_quantifier
            re2.append(ch)
            py.append(ch)
            i += 1
            continue
        if ch == "{" and re.match(r"\{\d+(,\d*)?\}", pattern[i:]):
            close = pattern.index("}", i)
            re2.append(pattern[i : close + 1])
            py.append(pattern[i : close + 1])
            after_quantifier = True
            i = close + 1
            continue
        after_quantifier = False
        re2.append(ch)
        py.append(ch)
        i += 1
    return "".join(re2), "".join(py), compatible, groups, names


_SPECIAL_ESCAPES = {
    "s": f"[{_JAVA_SPACE}]",
    "S": f"[^{_JAVA_SPACE}]",
    "h": "[ \\t\\xA0\\x{1680}\\x{180e}\\x{2000}-\\x{200a}\\x{202f}\\x{205f}\\x{3000}]",
    "v": "[\\n\\x0B\\f\\r\\x{85}\\x{2028}\\x{2029}]",
}


def _property_token(pattern: str, index: int) -> tuple[str, int]:
    """The name in ``\\p{Name}`` or ``\\pL`` at ``index``, and how many characters it spans."""
    if index + 2 < len(pattern) and pattern[index + 2] == "{":
        close = pattern.find("}", index + 3)
        if close < 0:
            raise FunctionError(f"Invalid regular expression pattern: {pattern}")
        return pattern[index + 3 : close], close + 1 - index
    if index + 2 < len(pattern):
        return pattern[index + 2], 3
    raise FunctionError(f"Invalid regular expression pattern: {pattern}")


def _property_class(name: str, *, negate: bool, in_class: bool) -> tuple[str, str]:
    """(RE2 text, Python text) for ``\\p{name}`` / ``\\P{name}``."""
    posix = _POSIX_CLASSES.get(name)
    if posix is None and name.startswith("Is"):
        posix = _POSIX_CLASSES.get(name[2:])
    if posix is not None and not posix.startswith("\\"):
        if in_class and not negate:
            return posix, posix
        return (f"[^{posix}]", f"[^{posix}]") if negate else (f"[{posix}]", f"[{posix}]")
    category = posix[3:-1] if posix is not None and posix.startswith("\\p{") else name
    if posix == "\\s":
        return ("\\S" if negate else "\\s"), ("\\S" if negate else "\\s")
    re2_text = ("\\P" if negate else "\\p") + "{" + category + "}"
    py_text = _python_unicode_class(re2_text)
    if in_class:
        py_text = py_text[1:-1] if not py_text.startswith("[^") else py_text
    return re2_text, py_text


_UNICODE_CATEGORY_CLASSES = {
    "L": "^\\W\\d_",
    "Lu": "A-ZÀ-ÖØ-Þ",
    "Ll": "a-zß-öø-ÿ",
    "N": "\\d",
    "Nd": "\\d",
}


def _python_unicode_class(token: str) -> str:
    """Python's ``re`` has no ``\\p{..}``; approximate the common categories for the fallback path."""
    negate = token.startswith("\\P")
    name = token[3:-1] if token.endswith("}") else token[2:]
    body = _UNICODE_CATEGORY_CLASSES.get(name)
    if body is None:
        raise FunctionError(f"Unsupported character class in regular expression: {token}")
    if body.startswith("^"):
        return f"[{body[1:]}]" if negate else f"[{body}]"
    return f"[^{body}]" if negate else f"[{body}]"


@functools.lru_cache(maxsize=1024)
def compile_java(pattern: str) -> JavaPattern:
    """Translate and compile a Java pattern (cached).

    Raises:
        FunctionError: the pattern is not a valid regular expression ("Invalid regular expression
            pattern: ..."), as ksqlDB reports it.
    """
    try:
        re2_text, py_text, compatible, groups, names = _translate(pattern)
        py_text = re.sub(r"\\x\{([0-9a-fA-F]+)\}", lambda m: chr(int(m.group(1), 16)), py_text)
        compiled = re.compile(py_text, re.ASCII if "(?U)" not in pattern else 0)
    except (re.error, ValueError, IndexError) as error:
        raise FunctionError(f"Invalid regular expression pattern: {pattern}") from error
    if compiled.groups != groups:
        groups = compiled.groups
    return JavaPattern(pattern, re2_text if compatible else None, compiled, groups, names)


def _replacement_parts(replacement: str, pattern: JavaPattern) -> list[tuple[str, str | int]]:
    """Parse a Java replacement string into ('text', s) and ('group', n) parts.

    Raises:
        FunctionError: a dangling ``\\`` or ``$``, or a reference to a group that does not exist.
    """
    parts: list[tuple[str, str | int]] = []
    text: list[str] = []
    i = 0
    n = len(replacement)
    while i < n:
        ch = replacement[i]
        if ch == "\\":
            if i + 1 >= n:
                raise FunctionError("character to be escaped is missing")
            text.append(replacement[i + 1])
            i += 2
            continue
        if ch == "$":
            if i + 1 >= n:
                raise FunctionError("Illegal group reference: group index is missing")
            if replacement[i + 1] == "{":
                close = replacement.find("}", i + 2)
                name = replacement[i + 2 : close]
                number = next((k for k, v in pattern.group_names.items() if v == name), None)
                if close < 0 or number is None:
                    raise FunctionError(f"No group with name {{{name}}}")
                group = number
                i = close + 1
            else:
                if not replacement[i + 1].isdigit():
                    raise FunctionError("Illegal group reference")
                group = int(replacement[i + 1])
                i += 2
                # Java extends the number greedily while it still names an existing group
                while i < n and replacement[i].isdigit() and group * 10 + int(replacement[i]) <= pattern.group_count:
                    group = group * 10 + int(replacement[i])
                    i += 1
                if group > pattern.group_count:
                    raise FunctionError(f"No group {group}")
            if text:
                parts.append(("text", "".join(text)))
                text = []
            parts.append(("group", group))
            continue
        text.append(ch)
        i += 1
    if text:
        parts.append(("text", "".join(text)))
    return parts


def java_replacement_to_re2(replacement: str, pattern: JavaPattern) -> str:
    """A Java replacement string as an RE2 rewrite string (``\\1`` for groups, ``\\\\`` for ``\\``)."""
    out = []
    for kind, value in _replacement_parts(replacement, pattern):
        if kind == "group":
            if int(value) > 9:
                raise FunctionError("RE2 rewrites reach groups 0 to 9 only")
            out.append(f"\\{value}")
        else:
            out.append(str(value).replace("\\", "\\\\"))
    return "".join(out)


def java_replacement_to_python(replacement: str, pattern: JavaPattern) -> str:
    """A Java replacement string as a Python ``re.sub`` template."""
    out = []
    for kind, value in _replacement_parts(replacement, pattern):
        if kind == "group":
            out.append(f"\\g<{value}>")
        else:
            out.append(str(value).replace("\\", "\\\\"))
    return "".join(out)
