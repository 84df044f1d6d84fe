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
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from headwater.repl.testing import HEADWATER_COMMAND as HEADWATER
from headwater.repl.testing import start_server, stop_server

DEFAULT_TIMEOUT_S = 30.0
EXIT_MARKER = "[command exited with status]"


class TmuxTerminal:
    """One tmux pane running one command."""

    def __init__(
        self,
        command: list[str],
        *,
        cwd: Path,
        width: int = 180,
        height: int = 50,
        env: dict[str, str] | None = None,
    ) -> None:
        self.socket = f"headwater-test-{uuid.uuid4().hex[:12]}"
        self.target = "shell"
        # The wrapping shell reports the command's exit status on screen (tmux's own pane_dead_status is
        # not always filled in). It must outlive a Ctrl-C meant for the command: a no-op trap (not an
        # ignored signal, which the command would inherit) keeps it alive.
        variables = {"NO_COLOR": "1", "TERM": "xterm-256color", **(env or {})}
        assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in variables.items())
        script = f"trap : INT; {assignments} {shlex.join(command)}; echo \"{EXIT_MARKER} $?\""
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
        """Poll until the shell waits for input: the screen's last line is the empty prompt, and stays so
        for a moment (the line editor redraws its prompt once it has the cursor position; typing before
        that races the terminal's echo)."""
        at_prompt = lambda screen: screen.rstrip().endswith("\n" + prompt)  # noqa: E731
        self.wait_for(at_prompt, timeout=timeout)
        time.sleep(0.2)
        return self.wait_for(at_prompt, timeout=timeout)

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

    def start(
        *args: str, cwd: Path | None = None, height: int = 50, env: dict[str, str] | None = None
    ) -> TmuxTerminal:
        terminal = TmuxTerminal([str(HEADWATER), *args], cwd=cwd or tmp_path, height=height, env=env)
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


class ShellUnderTest:
    """A session on a real engine in this process, writing to string buffers (no terminal)."""

    def __init__(self, data_dir: Path) -> None:
        import io

        from headwater.engine import Engine
        from headwater.repl.backend import EmbeddedBackend
        from headwater.repl.console import Console
        from headwater.repl.session import Session

        self.out = io.StringIO()
        self.err = io.StringIO()
        self.console = Console(self.out, self.err, colour=False)
        self.engine = Engine(data_dir)
        self.backend = EmbeddedBackend(self.engine, data_dir)
        self.session = Session(self.backend, self.console)

    def run(self, text: str) -> tuple[str, str]:
        """Run ``text``; the output and errors it produced (and only those)."""
        out_start, err_start = len(self.out.getvalue()), len(self.err.getvalue())
        self.session.run_text(text)
        return self.out.getvalue()[out_start:], self.err.getvalue()[err_start:]

    def close(self) -> None:
        self.engine.close()


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[ShellUnderTest]:
    """A session on an engine over a fresh data directory."""
    under_test = ShellUnderTest(tmp_path / "data")
    try:
        yield under_test
    finally:
        under_test.close()


@pytest.fixture
def headwater_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real ``headwater server`` subprocess: its URL and data directory; stopped with SIGTERM."""
    data_dir = tmp_path / "server-data"
    process, url = start_server(data_dir, tmp_path)
    try:
        yield url, data_dir
    finally:
        stop_server(process)


@pytest.fixture
def server_with_credentials(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A server that requires HTTP Basic credentials: its URL, a user and that user's password."""
    auth_file = tmp_path / "users"
    subprocess.run(
        [str(HEADWATER), "server", "--add-user", "alice", "--auth-file", str(auth_file)],
        input=b"s3cret\n",
        check=True,
        capture_output=True,
        timeout=120,
    )
    process, url = start_server(tmp_path / "secure-data", tmp_path, "--auth-file", str(auth_file))
    try:
        yield url, "alice", "s3cret"
    finally:
        stop_server(process)
