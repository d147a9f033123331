"""The README's command-line story, run as written: every command, in order, against a
fresh database, through the real `pitboard` console script, with the exit codes it states.

The block is parsed from README.md, so the README cannot drift from what pitboard does:
a command that changes its output, its exit code or its arguments fails this test.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, T0, wait_for

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Step:
    command: str
    exit_code: int
    background: bool


def readme_story() -> list[Step]:
    """The commands of the README's story block, continuation lines and quoted text joined."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"The whole story, on the bundled data:\s*```sh\n(.*?)```", text, re.S)
    assert block, "README.md has no story block"
    steps, pending = [], ""
    for line in block.group(1).splitlines():
        pending += line + "\n"
        if pending.rstrip().endswith("\\"):
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # a quoted argument goes on to the next line
            continue
        command, _, comment = _split_comment(pending)
        pending = ""
        command = command.replace("\\\n", " ").strip()
        if not command:
            continue
        stated = re.match(r"\s*exit (\d)\b", comment)  # "# exit N: ..." states the exit code
        background = command.endswith("&")
        steps.append(Step(command.rstrip("&").strip(), int(stated.group(1)) if stated else 0, background))
    return steps


def _split_comment(command: str) -> tuple[str, str, str]:
    """(command, '#', comment): the first # outside quotes starts the comment."""
    quote = None
    for index, char in enumerate(command):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or command[index - 1].isspace()):
            return command[:index], "#", command[index + 1:]
    return command, "", ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_parser_reads_the_block_as_a_shell_would():
    steps = readme_story()
    assert steps[0].command.startswith("pitboard data add credit sample_data/credit_train.csv")
    curl = next(s for s in steps if s.command.startswith("curl"))
    assert '"term_months": 36}]}' in curl.command and "\n" not in curl.command.split("-d")[0]
    assert [s.exit_code for s in steps if s.exit_code] == [1, 2]
    assert [s.command.split()[1] for s in steps if s.background] == ["serve"]


def test_the_readme_story_runs_as_written(tmp_path: Path):
    (tmp_path / "sample_data").symlink_to(REPO / "sample_data")
    port = free_port()
    env = {**os.environ, "PITBOARD_DB": str(tmp_path / "pitboard.db"), "PITBOARD_NOW": str(T0),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    server: subprocess.Popen[str] | None = None
    outputs: list[tuple[str, str]] = []
    try:
        for step in readme_story():
            command = step.command.replace("8000", str(port))
            if step.command.startswith("kill %1"):
                assert server is not None and server.poll() is None, "the server died before the story ended"
                server.send_signal(signal.SIGTERM)
                assert server.wait(timeout=30) is not None
                continue
            if step.background:
                server = subprocess.Popen(command, shell=True, cwd=tmp_path, env=env, text=True, start_new_session=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                wait_for(lambda: _healthy(port), what=f"{command} to answer /health", timeout=60)
                continue
            done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
            assert done.returncode == step.exit_code, f"{command}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"
            assert "Traceback" not in done.stderr, done.stderr
            outputs.append((command, done.stdout))
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)

    def said(prefix: str) -> str:
        return "".join(stdout for command, stdout in outputs if command.startswith(prefix))

    assert "113 of 113 checks passed" in said("pitboard data validate credit@1")
    assert "income" in said("pitboard data validate recession@1")
    assert '"predictions"' in said("curl")
    assert "ALERT" in said("pitboard monitor status")
    assert "credit-risk@2 beats credit-risk@1" in said("pitboard retrain")
    assert "credit-risk@champion: (free) -> v1" in said("pitboard model promote credit-risk@1")
    assert "credit-risk@champion: v1 -> v2" in said("pitboard model promote credit-risk@challenger")
    assert "credit-risk@champion: v2 -> v1" in said("pitboard model rollback")


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
