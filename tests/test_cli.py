"""The one command, `lite-pruner` / `python -m lite`: subcommands, --version, help, optional extras."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lite import LiteError
from lite import commands as cli

REPO = Path(__file__).resolve().parents[1]


def run(module: str, *args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_version_and_help_list_every_command():
    version = run("lite", "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"lite-pruner {cli.version()}"
    assert cli.version().count(".") >= 2
    top = run("lite", "--help")
    assert top.returncode == 0
    for name in (*cli.COMMANDS, *cli.OPTIONAL_COMMANDS):
        assert f"    {name} " in top.stdout, name
    for name in cli.COMMANDS:  # each command's help ends with an example of it
        helped = run("lite", name, "--help")
        assert helped.returncode == 0 and f"lite-pruner {name} " in helped.stdout.split("\nexamples:\n")[1], name


def test_prune_through_every_entry_point_gives_the_same_text(pruner, smollm2_slice, tmp_path):
    text = "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning."
    expected = pruner.prune(text, rate=0.6).text + "\n"
    for module in ("lite", "lite.prune"):
        args = ("prune",) if module == "lite" else ()
        proc = run(module, *args, "--model", str(smollm2_slice), "--rate", "0.6", cwd=tmp_path, stdin=text + "\n")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == expected, module


def test_slice_through_the_command(tmp_path):
    from tools import fixtures

    out = tmp_path / "tiny.safetensors"
    proc = run("lite", "slice", str(fixtures.tiny("llama3-gqa")), "--out", str(out), "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and proc.stdout.startswith(f"wrote {out}")


def test_errors_are_one_line_with_status_2(tmp_path):
    bad = run("lite", "prune", "--jsonl", "in.jsonl", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr == "error: --jsonl needs --out FILE\n"
    listed = run("lite", "slice", "--list", "--out", "x.safetensors", cwd=tmp_path)
    assert listed.returncode == 2 and listed.stderr == "error: --list takes no --out\n"
    unknown = run("lite", "nope")
    assert unknown.returncode == 2 and "invalid choice: 'nope'" in unknown.stderr


def test_an_optional_command_without_its_extra_names_the_pip_command(tmp_path, monkeypatch):
    # a command module whose dependency is not installed
    (tmp_path / "fake_serve_cli.py").write_text("import a_package_that_is_not_installed_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.OPTIONAL_COMMANDS, "serve", ("fake_serve_cli", "serve", "serve help"))
    with pytest.raises(
        LiteError, match=r"^`lite-pruner serve` needs the serve extra: pip install 'lite-pruner\[serve\]'$"
    ):
        cli.main(["serve", "--port", "1"])
    # and one that is installed is dispatched to, with its own arguments
    (tmp_path / "fake_ok_cli.py").write_text(
        "HELP = DESCRIPTION = 'ok'\nEXAMPLES = 'examples:\\n  lite-pruner serve --port 1'\n"
        "def add_arguments(parser):\n    parser.add_argument('--port', type=int)\n"
        "def run(args):\n    return args.port + 40\n"
    )
    monkeypatch.setitem(cli.OPTIONAL_COMMANDS, "serve", ("fake_ok_cli", "serve", "serve help"))
    assert cli.main(["serve", "--port", "2"]) == 42
    # a lite without the command's module at all (an older install) says the same
    monkeypatch.setitem(cli.OPTIONAL_COMMANDS, "serve", ("lite.no_such_module_xyz", "serve", "serve help"))
    assert isinstance(cli.import_command("serve"), cli.MissingExtra)
