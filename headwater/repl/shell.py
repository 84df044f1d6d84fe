"""The interactive prompt: line editing, history, completion, highlighting, statements over several lines.

Built on prompt_toolkit. Enter runs the text typed so far when it is complete (every statement ends with
``;`` outside strings and comments, or it is one of the shell's own commands); otherwise it opens a
continuation line, so a statement can be typed over several lines, edited as one block, and recalled
from history as one block. Alt-Enter always inserts a new line.

- History is kept in a file across sessions; Up/Down recall it, Ctrl-R searches it.
- Key bindings are Emacs's or vi's (``set cli editing-mode vi``, ``HEADWATER_EDITING_MODE``, or
  ``set editing-mode vi`` in ``~/.inputrc`` as readline has it).
- Tab completes by context (:mod:`headwater.repl.completion`); the text is highlighted as it is typed
  (:mod:`headwater.repl.highlight`).
- Ctrl-C at the prompt clears the line; Ctrl-C while a query runs stops the query
  (:mod:`headwater.repl.query_output`); Ctrl-D on an empty line leaves the shell.

The shell's own commands (:mod:`headwater.repl.commands`) need no ``;``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.enums import EditingMode
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import ColorDepth

from headwater.errors import HeadwaterError
from headwater.repl.backend import Backend
from headwater.repl.commands import ShellState, parse_command, run_command
from headwater.repl.completion import CompletionCatalog, SqlCompleter
from headwater.repl.console import Console
from headwater.repl.highlight import SHELL_STYLE, SqlLexer
from headwater.repl.session import Session
from headwater.repl.statements import is_complete

__all__ = ["CONTINUATION", "PROMPT", "editing_mode_from_inputrc", "run_interactive"]

PROMPT = "headwater> "
CONTINUATION = "> "


def _key_bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        """Run the text if it is complete, else continue it on a new line."""
        buffer = event.current_buffer
        if buffer.complete_state is not None and buffer.complete_state.current_completion is not None:
            buffer.apply_completion(buffer.complete_state.current_completion)
            return
        text = buffer.text
        if not text.strip() or is_complete(text) or parse_command(text) is not None:
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        """Alt-Enter: a new line even where Enter would run the text."""
        event.current_buffer.insert_text("\n")

    return bindings


def _continuation(width: int, line_number: int, is_soft_wrap: int) -> str:
    return CONTINUATION.rjust(width)


def editing_mode_from_inputrc(environ: dict[str, str] | None = None) -> str:
    """``VI`` when readline's init file (``$INPUTRC``, else ``~/.inputrc``) says ``set editing-mode vi``,
    else ``EMACS``: people who set it for every readline program expect it here too."""
    env = os.environ if environ is None else environ
    path = Path(env.get("INPUTRC") or Path(env.get("HOME", "~")).expanduser() / ".inputrc")
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "EMACS"
    mode = "EMACS"
    for line in lines:
        words = line.split()
        if len(words) == 3 and words[0] == "set" and words[1] == "editing-mode" and words[2] in ("vi", "emacs"):
            mode = words[2].upper()
    return mode


def run_interactive(
    session: Session,
    console: Console,
    *,
    history_path: Path,
    banner: Sequence[str],
    editing_mode: str = "EMACS",
    connect: Callable[[str], Backend] | None = None,
    on_exit: Callable[[], None] | None = None,
) -> int:
    """Run the prompt until the user leaves; returns the exit status (0).

    Args:
        session: runs what the user types.
        console: where output goes (a terminal).
        history_path: the history file; created if missing, kept across sessions.
        banner: lines shown before the first prompt.
        editing_mode: ``EMACS`` or ``VI`` key bindings to start with.
        connect: opens a backend for the ``server`` command.
        on_exit: called once when the shell is left, however it is left.
    """
    history_path.parent.mkdir(parents=True, exist_ok=True)
    catalog = CompletionCatalog()
    catalog.refresh_in_background(session.backend, functions=True)
    session.cli = session.cli.with_value("editing-mode", editing_mode)
    prompt = PromptSession[str](
        history=FileHistory(str(history_path)),
        multiline=True,
        key_bindings=_key_bindings(),
        prompt_continuation=_continuation,
        completer=SqlCompleter(catalog),
        complete_in_thread=True,  # a completion may wait for the catalog read in progress
        complete_while_typing=False,
        lexer=SqlLexer(),
        style=SHELL_STYLE,
        include_default_pygments_style=False,
        color_depth=ColorDepth.MONOCHROME if not console.colour else None,
        editing_mode=EditingMode.VI if editing_mode == "VI" else EditingMode.EMACS,
    )

    def clear_screen() -> None:
        prompt.app.output.erase_screen()
        prompt.app.output.cursor_goto(0, 0)
        prompt.app.output.flush()

    def set_editing_mode(mode: str) -> None:
        prompt.app.editing_mode = EditingMode.VI if mode == "VI" else EditingMode.EMACS

    def backend_changed() -> None:
        catalog.refresh_in_background(session.backend, functions=True)

    state = ShellState(
        session=session,
        history=lambda: list(prompt.history.get_strings()),
        clear_screen=clear_screen,
        set_editing_mode=set_editing_mode,
        connect=connect,
        on_backend_change=backend_changed,
    )
    console.lines(banner)
    try:
        while not state.leave:
            try:
                text = prompt.prompt(PROMPT)
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt: drop the line, as a shell does
            except EOFError:
                break
            if not text.strip():
                continue
            console.spool_only(PROMPT + text.replace("\n", "\n" + CONTINUATION.rjust(len(PROMPT))))
            try:
                command = parse_command(text)
                if command is not None:
                    run_command(command, state)
                else:
                    session.run_text(text)
            except HeadwaterError as error:
                console.error(str(error))
            except KeyboardInterrupt:
                console.line("Interrupted")
            if session.catalog_changed:
                session.catalog_changed = False
                catalog.refresh_in_background(session.backend)
    finally:
        catalog.wait()
        if on_exit is not None:
            on_exit()
    console.line("Exiting Headwater.")
    return 0
