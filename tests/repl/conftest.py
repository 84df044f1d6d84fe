"""A real terminal for shell tests: tmux runs ``headwater`` in a pane; tests type keys and read the screen.

Each terminal has its own tmux server (``tmux -L <unique name>``), so tests never see each other's
sessions or a user's. Reading the screen always polls with a timeout (no fixed sleeps): a test waits for
what it expects to appear, and on timeout fails with the whole screen in the message.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent
HEADWATER = VENV_BIN / "headwater"
DEFAULT_TIMEOUT_S = 30.0
EXIT_MARKER = "[command exited with status]"


class TmuxTerminal:
    """One tmux pane running one command."""

    def __init__(self, command: list[str], *, cwd: Path, width: int = 180, height: int = 50) -> None:
        self.socket = f"headwater-test-{uuid.uuid4().hex[:12]}"
        self.target = "shell"
        # The wrapping shell reports the command's exit status on screen (tmux's own pane_dead_status is
        # not always filled in). It must outlive a Ctrl-C meant for the command: a no-op trap (not an
        # ignored signal, which the command would inherit) keeps it alive.
        script = f"trap : INT; NO_COLOR=1 TERM=xterm-256color {shlex.join(command)}; echo \"{EXIT_MARKER} $?\""
        self._tmux(
            "new-session", "-d", "-s", self.target, "-x", str(width), "-y", str(height), "-c", str(cwd),
            f"sh -c {shlex.quote(script)}",
        )
        self._tmux("set-option", "-t", self.target, "remain-on-exit", "on")
        self._tmux("set-option", "-t", self.target, "history-limit", "20000")

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False, timeout=30
        )
        if result.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def type(self, text: str, *, enter: bool = True) -> None:
        """Type ``text`` literally, then Enter."""
        if text:
            # tmux reads an argument's trailing ';' as a command separator; '\;' is a literal one.
            literal = text[:-1] + "\\;" if text.endswith(";") else text
            self._tmux("send-keys", "-t", self.target, "-l", literal)
        if enter:
            self._tmux("send-keys", "-t", self.target, "Enter")

    def press(self, key: str) -> None:
        """Press a named key, e.g. ``C-c``, ``C-d``, ``Up``."""
        self._tmux("send-keys", "-t", self.target, key)

    def screen(self) -> str:
        """Everything the pane shows, scrollback included, wrapped lines joined."""
        return self._tmux("capture-pane", "-p", "-J", "-t", self.target, "-S", "-20000")

    def wait_for(
        self, expected: str | re.Pattern[str] | Callable[[str], bool], *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> str:
        """Poll the screen until ``expected`` (text, pattern or predicate) holds; return the screen."""
        if isinstance(expected, str):
            check: Callable[[str], bool] = lambda screen: expected in screen  # noqa: E731
        elif isinstance(expected, re.Pattern):
            check = lambda screen: expected.search(screen) is not None  # noqa: E731
        else:
            check = expected
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for {expected!r}; the screen:\n{screen}")

    def wait_for_prompt(self, prompt: str = "headwater>", *, timeout: float = DEFAULT_TIMEOUT_S) -> str:
        """Poll until the shell waits for input: the screen's last line is the empty prompt."""
        return self.wait_for(lambda screen: screen.rstrip().endswith("\n" + prompt), timeout=timeout)

    def wait_for_count(self, text: str, count: int, *, timeout: float = DEFAULT_TIMEOUT_S) -> str:
        """Poll until ``text`` appears at least ``count`` times on the screen."""
        return self.wait_for(lambda screen: screen.count(text) >= count, timeout=timeout)

    def wait_for_exit(self, *, timeout: float = DEFAULT_TIMEOUT_S) -> int:
        """Poll until the command has exited; return its exit status."""
        pattern = re.compile(rf"^{re.escape(EXIT_MARKER)} (\d+)$", re.MULTILINE)
        match = pattern.search(self.wait_for(pattern, timeout=timeout))
        assert match is not None
        return int(match.group(1))

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False, timeout=30)


@pytest.fixture
def terminal_factory(tmp_path: Path) -> Iterator[Callable[..., TmuxTerminal]]:
    """Start ``headwater`` with the given arguments in a fresh tmux terminal (closed after the test)."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    started: list[TmuxTerminal] = []

    def start(*args: str, cwd: Path | None = None) -> TmuxTerminal:
        terminal = TmuxTerminal([str(HEADWATER), *args], cwd=cwd or tmp_path)
        started.append(terminal)
        return terminal

    yield start
    for terminal in started:
        terminal.close()


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME of its own, so nothing a test does touches the user's files."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("HEADWATER_DATA_DIR", raising=False)
    return home
