"""The CLI's own contract: one-line errors with a code, and exit statuses people can script on."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bonafide.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bonafide.cli import main; main()", *args],
        capture_output=True, text=True, check=False,
    )


def test_a_usage_error_is_one_line_and_exit_status_two() -> None:
    done = run("score")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: usage: Missing argument 'INPUT'."]


def test_an_unknown_command_is_a_usage_error() -> None:
    done = run("no-such-command")
    assert done.returncode == 2
    assert done.stderr.startswith("error: usage: No such command")
    assert "Traceback" not in done.stderr


def test_an_expected_failure_prints_its_code_and_exits_one() -> None:
    done = run("score", "/nonexistent/ratings.csv", "--out", "/nonexistent/out.csv")
    assert done.returncode == 1
    line, = done.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert "Traceback" not in done.stderr


def test_help_lists_the_commands_and_returns_normally(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--help"])
    out = capsys.readouterr().out
    for command in ("score", "ledger", "serve", "tick"):
        assert command in out


def test_python_dash_o_is_refused_because_invariants_are_asserts() -> None:
    done = subprocess.run(
        [sys.executable, "-O", "-c", "from bonafide.cli import main; main()", "--help"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 2
    assert "asserts_disabled" in done.stderr
