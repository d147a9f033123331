"""End to end: the real `pitboard` command in a real terminal (tmux) at 80x24.

Switches through every pane with keys, opens help, quits, and checks the screen text,
that mouse reporting follows `--no-mouse`, and that the terminal is restored (the
alternate screen is left and the shell's earlier output is back).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import T0

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
PITBOARD = Path(sys.executable).parent / "pitboard"


class Terminal:
    """One tmux server and session running a plain shell."""

    def __init__(self, cwd: Path) -> None:
        self.socket = f"pitboard-test-{uuid.uuid4().hex[:8]}"
        env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "TERM": "xterm-256color", "PITBOARD_NOW": str(T0), "LANG": "C.UTF-8"}
        self.tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", "-c", str(cwd),
                  "env", "-i", *(f"{k}={v}" for k, v in env.items()), "bash", "--norc", "--noprofile")

    def tmux(self, *args: str) -> str:
        done = subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=20, check=True)
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t")

    def flag(self, name: str) -> str:
        return self.tmux("display-message", "-p", "-t", "t", f"#{{{name}}}").strip()

    def type(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
        """Poll the terminal (another process) until `condition` holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()}")
            time.sleep(0.05)

    def wait_text(self, text: str) -> str:
        self.wait_for(lambda: text in self.screen(), repr(text))
        return self.screen()

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True, timeout=20)


@pytest.fixture
def terminal(app_db: Path):
    term = Terminal(Path.cwd())
    yield term
    term.close()


def open_app(terminal: Terminal, *flags: str) -> str:
    terminal.type(f"echo before-the-app; {PITBOARD} --db pitboard.db {' '.join(flags)}; echo exit=$?", "Enter")
    return terminal.wait_text("credit@2")


def test_switch_every_pane_open_help_and_quit(terminal):
    screen = open_app(terminal)
    assert terminal.flag("alternate_on") == "1"
    assert terminal.flag("mouse_any_flag") == "1"
    assert "pitboard pitboard.db" in screen and "[1 Data]" in screen
    for key, text, empty in [("2", "[2 Experiments]", "pitboard train SPEC.toml"), ("3", "[3 Registry]", "pitboard model register"),
                             ("4", "[4 Monitor]", "pitboard serve NAME@ALIAS"), ("5", "[5 Jobs]", "pitboard train SPEC.toml --detach"), ("1", "[1 Data]", "credit@1")]:
        terminal.type(key)
        terminal.wait_text(text)
        terminal.wait_text(empty)  # once the pane's first read has answered (it says "Reading" until then)
    terminal.type("?")
    screen = terminal.wait_text("Keys: Data pane")
    rows = [line for line in screen.splitlines() if "Data pane" in line and "Keys:" not in line]
    assert rows and "Previous tab" in rows[0]  # the pane's own keys come first
    terminal.type("Escape")
    terminal.wait_for(lambda: "Keys: Data pane" not in terminal.screen(), "help to close")
    terminal.type("q")
    screen = terminal.wait_text("exit=0")
    assert terminal.flag("alternate_on") == "0"
    assert terminal.flag("mouse_any_flag") == "0"
    assert "before-the-app" in screen and "[1 Data]" not in screen


def test_no_mouse_turns_mouse_reporting_off(terminal):
    open_app(terminal, "--no-mouse")
    assert terminal.flag("mouse_any_flag") == "0"
    terminal.type("C-q")
    terminal.wait_text("exit=0")
    assert terminal.flag("alternate_on") == "0"
