"""The console scripts' exit: everything the interpreter would finish is finished, then os._exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from headwater.process_exit import exit_status


def run_script(body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path)


def test_buffered_output_threads_and_atexit_hooks_finish_before_the_exit(tmp_path: Path) -> None:
    done = run_script(
        """
        import atexit, sys, threading, time
        from pathlib import Path
        from headwater.process_exit import run_and_exit

        def late_writer():
            time.sleep(0.3)
            Path("thread.txt").write_text("written")

        def main():
            threading.Thread(target=late_writer).start()
            atexit.register(lambda: Path("atexit.txt").write_text("ran"))
            sys.stdout.write("x" * 200_000)  # more than one buffer, never flushed by main
            sys.stderr.write("tail without newline")
            return 3

        run_and_exit(main)
        """,
        tmp_path,
    )
    assert done.returncode == 3
    assert done.stdout == "x" * 200_000
    assert done.stderr == "tail without newline"
    assert (tmp_path / "thread.txt").read_text() == "written"
    assert (tmp_path / "atexit.txt").read_text() == "ran"


def test_system_exit_and_interrupts_map_to_the_interpreters_statuses(tmp_path: Path) -> None:
    usage = run_script(
        """
        import sys
        from headwater.process_exit import run_and_exit
        def main():
            sys.exit(2)
        run_and_exit(main)
        """,
        tmp_path,
    )
    assert usage.returncode == 2
    message = run_script(
        """
        import sys
        from headwater.process_exit import run_and_exit
        def main():
            sys.exit("stopped: no such topic")
        run_and_exit(main)
        """,
        tmp_path,
    )
    assert (message.returncode, message.stderr) == (1, "stopped: no such topic\n")
    interrupted = run_script(
        """
        from headwater.process_exit import run_and_exit
        def main():
            raise KeyboardInterrupt
        run_and_exit(main)
        """,
        tmp_path,
    )
    assert interrupted.returncode == 130


def test_a_closed_stdout_does_not_change_the_status(tmp_path: Path) -> None:
    done = run_script(
        """
        import sys
        from headwater.process_exit import run_and_exit
        def main():
            sys.stdout.write("pending")
            sys.stdout.close()
            return 0
        run_and_exit(main)
        """,
        tmp_path,
    )
    assert done.returncode == 0


def test_exit_status_of_system_exit_codes() -> None:
    assert [exit_status(None), exit_status(0), exit_status(7), exit_status(False)] == [0, 0, 7, 0]
