"""The command lines the documentation shows still name real commands, scripts and options.

Reads README.md and every Markdown file under docs/, serving/ and benchmarks/, takes the command
lines from fenced code blocks (continuation lines joined) and from inline `code` spans, splits each
at ``&&``, ``||``, ``|``, ``;`` and a bare ``--`` (``ray job submit ... -- artrestore ...``), and checks
every piece that runs one of the project's tools:

- ``artrestore ...`` and ``python -m artrestore.cli ...``: each command and subcommand, and each
  option (short or long) against the parser ``artrestore.cli.build_parser()`` builds (nothing runs);
- ``python benchmarks/NAME.py``, ``python scripts/NAME.py``, ``bash scripts/NAME.sh`` (or the bare
  path first on a line) and ``python -m artrestore.X.Y``: the file or module exists, and each
  ``--option`` shown appears in its source as the literal string ``"--option"`` (a cheap check);
- ``pytest PATH.py ...``: the test files exist.

Environment prefixes (``CI=true``, ``KERAS_BACKEND=jax``), ``$(...)`` substitutions, ``# comments``,
``[--optional ARG]`` brackets and ``--opt=value`` forms are handled; placeholders (``DIR``,
``<sha>``, ``FILE.json``) are arguments and need nothing. A doc line that shows a historical
command on purpose goes in ``ALLOWED`` below, with the reason.
"""
from __future__ import annotations

import argparse
import dataclasses
import pathlib
import re
import shlex

import pytest

from artrestore.cli import build_parser

REPO = pathlib.Path(__file__).resolve().parents[1]
DOC_FILES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "serving").glob("*.md"),
                    *(REPO / "benchmarks").glob("*.md")])

# Historical commands shown on purpose: (doc file, the command as checked) -> why it may stay.
ALLOWED: dict[tuple[str, str], str] = {}

QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
SEPARATOR = re.compile(r"&&|\|\||[|;]|\s--(?=\s|$)")
FENCE = re.compile(r"^\s*(```|~~~)\s*(\w*)")
INLINE_CODE = re.compile(r"`([^`]+)`")
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
CLI_OPTION = re.compile(r"^-{1,2}[A-Za-z][\w-]*$")
LONG_OPTION = re.compile(r"^--[A-Za-z][\w-]*$")
SCRIPT_PATH = re.compile(r"^(benchmarks/\w+\.py|scripts/\w+\.(py|sh))$")
PYTHONS = {"python", "python3", "pytest"}
# Scripts that hand the options they do not know to an artrestore command (as their header says).
FORWARDS_TO = {"scripts/device_train.sh": ["train", "unet-broad"]}


@dataclasses.dataclass(frozen=True)
class Command:
    """One command as a doc shows it: where, and its text (continuations joined, comments dropped)."""

    doc: str
    line: int
    text: str


# --- reading the docs -------------------------------------------------------------------------

def fenced_and_prose(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Split Markdown into shell lines of code blocks and prose lines, each with its line number.

    Fenced blocks marked ``python`` are code, not commands, and are left out. An indented code block
    (lines indented four spaces or more after a blank line) is read as shell lines and as prose too,
    since a list item's indented paragraph looks the same."""
    shell, prose = [], []
    in_fence, language, indented, previous = False, "", False, ""
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if fence:
            in_fence, language = (not in_fence), (fence.group(2) if not in_fence else "")
        elif in_fence:
            if language not in ("python", "py"):
                shell.append((number, line))
        else:
            indented = line.startswith("    ") and (indented or not previous.strip())
            if indented:
                shell.append((number, line))
            prose.append((number, line))
        previous = line
    return shell, prose


def strip_comment(line: str) -> str:
    """Drop a shell ``# comment``: a ``#`` at the start or after a space, outside quotes."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def fenced_commands(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Join fenced lines ending in ``\\`` with the lines after them; comments dropped, blanks skipped."""
    commands, pending, start = [], "", 0
    for number, line in lines:
        line = strip_comment(line).rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        if (pending + line).strip():
            commands.append((start, " ".join((pending + line).split())))
        pending = ""
    if pending.strip():
        commands.append((start, " ".join(pending.split())))
    return commands


def inline_commands(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The inline `code` spans of prose, paragraph by paragraph (a span may wrap onto the next line)."""
    spans, paragraph = [], []
    for number, line in [*lines, (0, "")]:
        if line.strip():
            paragraph.append((number, line))
            continue
        if paragraph:
            text = "\n".join(line for _, line in paragraph)
            for match in INLINE_CODE.finditer(text):
                row = paragraph[text.count("\n", 0, match.start())][0]
                spans.append((row, " ".join(match.group(1).split())))
        paragraph = []
    return spans


def doc_commands(path: pathlib.Path) -> list[Command]:
    """Every command-like text of one doc: fenced lines, then inline spans."""
    shell, prose = fenced_and_prose(path.read_text(encoding="utf-8"))
    name = path.relative_to(REPO).as_posix()
    return [Command(name, line, text) for line, text in fenced_commands(shell) + inline_commands(prose)]


# --- reading one command line -----------------------------------------------------------------

def drop_substitutions(text: str) -> str:
    """Replace each ``$(...)`` (nested parentheses too) with ``SUBST``: what runs inside is another command."""
    out, depth, i = "", 0, 0
    while i < len(text):
        if not depth and text.startswith("$(", i):
            out, depth, i = out + "SUBST", 1, i + 2
            continue
        if depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
        else:
            out += text[i]
        i += 1
    return out


def split_commands(text: str) -> list[str]:
    """Split a shell line into its commands at ``&&``, ``||``, ``|``, ``;`` outside quotes, and at a
    bare `` -- `` (what follows is the command a launcher runs: ``ray job submit ... -- artrestore``)."""
    text = drop_substitutions(text)
    quoted = iter(QUOTED.findall(text))  # set quoted strings aside, so separators inside them stay
    pieces = SEPARATOR.split(QUOTED.sub("\0", text))
    return [re.sub("\0", lambda _: next(quoted), piece).strip() for piece in pieces if piece.strip()]


def words(command: str) -> list[str]:
    """Shell words without environment prefixes (``CI=true``) and ``[ ]`` optional-argument brackets."""
    try:
        tokens = shlex.split(command)
    except ValueError:  # an unbalanced quote in prose: plain words will do
        tokens = command.split()
    while tokens and ENV_ASSIGNMENT.match(tokens[0]):
        tokens = tokens[1:]
    return [token.strip("[]") for token in tokens if token.strip("[]")]


def options_in(tokens: list[str], pattern: re.Pattern) -> list[str]:
    """The options among ``tokens`` that match ``pattern``, ``--opt=value`` cut to ``--opt``."""
    return [token.split("=", 1)[0] for token in tokens if pattern.match(token.split("=", 1)[0])]


# --- checking against the code ----------------------------------------------------------------

def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subparsers of ``parser`` by name (empty when it takes no subcommand)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def check_cli(args: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """Problems with ``artrestore ARGS``: unknown commands/subcommands and options of the one named."""
    problems, path = [], ["artrestore"]
    for token in args:
        option = token.split("=", 1)[0]
        if CLI_OPTION.match(option):
            if option not in parser._option_string_actions:
                problems.append(f"`{' '.join(path)}` has no option {option}")
        elif subcommands(parser):
            if token not in subcommands(parser):
                problems.append(f"`{' '.join(path)}` has no command {token!r}")
                break
            parser = subcommands(parser)[token]
            path.append(token)
    return problems


def check_source(source: pathlib.Path, shown: str, args: list[str], forwarded=frozenset()) -> list[str]:
    """Problems with a script or module: missing, or a ``--option`` its source never spells out
    (as a whole word: ``--seed`` is not ``--seeds``) and that is not among ``forwarded``."""
    if not source.is_file():
        return [f"{shown} does not exist"]
    text = source.read_text(encoding="utf-8")
    return [f"{shown} has no {option!r}" for option in options_in(args, LONG_OPTION)
            if option not in forwarded and not re.search(rf"(?<![\w-]){option}(?![\w-])", text)]


def check_script(shown: str, args: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """``check_source`` for a script path as the doc shows it; a script in ``FORWARDS_TO`` may also
    take the options of the artrestore command it forwards to."""
    for name in FORWARDS_TO.get(shown, []):
        parser = subcommands(parser)[name]
    forwarded = set(parser._option_string_actions) if shown in FORWARDS_TO else set()
    return check_source(REPO / shown, shown, args, forwarded)


def module_source(module: str) -> pathlib.Path:
    """The file ``python -m MODULE`` runs: ``MODULE.py`` or ``MODULE/__main__.py`` under python/."""
    path = REPO / "python" / pathlib.Path(*module.split("."))
    return path / "__main__.py" if path.is_dir() else path.with_suffix(".py")


def check_piece(tokens: list[str], parser: argparse.ArgumentParser) -> list[str] | None:
    """Problems with one command; None when it runs none of the tools this module checks."""
    if tokens[:1] == ["artrestore"]:
        return check_cli(tokens[1:], parser)
    if tokens and SCRIPT_PATH.match(tokens[0]):
        return check_script(tokens[0], tokens[1:], parser)
    if len(tokens) < 2 or tokens[0] not in PYTHONS | {"bash", "sh"}:
        return None
    if tokens[0] == "pytest":
        paths = [token.split("::")[0] for token in tokens[1:] if token.split("::")[0].endswith(".py")]
        return [f"{path} does not exist" for path in paths if not (REPO / path).is_file()]
    if tokens[1] == "-m" and len(tokens) > 2 and tokens[2].split(".")[0] == "artrestore":
        if tokens[2] == "artrestore.cli":
            return check_cli(tokens[3:], parser)
        return check_source(module_source(tokens[2]), f"module {tokens[2]}", tokens[3:])
    if SCRIPT_PATH.match(tokens[1]):
        return check_script(tokens[1], tokens[2:], parser)
    return None


def check_command(text: str, parser: argparse.ArgumentParser) -> tuple[int, list[str]]:
    """How many of a line's commands were checked, and their problems."""
    checked, problems = 0, []
    for piece in split_commands(text):
        found = check_piece(words(piece), parser)
        if found is not None:
            checked += 1
            problems += found
    return checked, problems


# --- the tests --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    return build_parser()


def test_the_docs_show_real_commands_and_options(parser):
    checked, problems, used = 0, [], set()
    for path in DOC_FILES:
        for command in doc_commands(path):
            count, found = check_command(command.text, parser)
            checked += count
            if found and (command.doc, command.text) in ALLOWED:
                used.add((command.doc, command.text))
            elif found:
                problems += [f"{command.doc}:{command.line}: {problem}  [{command.text}]" for problem in found]
    assert not problems, "\n".join(problems)
    assert checked >= 100, f"only {checked} commands found: is the docs parser still reading them?"
    assert used == set(ALLOWED), f"allow-list entries no longer needed: {set(ALLOWED) - used}"


def test_the_checker_reports_a_missing_option_and_a_missing_script(parser, tmp_path):
    doc = tmp_path / "fake.md"
    doc.write_text("Run:\n\n```bash\nCI=true artrestore restore -i DIR -o out/ \\\n    --no-such-option=3 && "
                   "python scripts/no_such_script.py --x | grep x\n```\n\nThen `artrestore trian data` and "
                   "`python -m artrestore.cli train data --sorce DIR`.\n", encoding="utf-8")
    shell, prose = fenced_and_prose(doc.read_text(encoding="utf-8"))
    lines = fenced_commands(shell) + inline_commands(prose)
    problems = [problem for _, text in lines for problem in check_command(text, parser)[1]]
    assert problems == ["`artrestore restore` has no option --no-such-option", "scripts/no_such_script.py does not exist",
                        "`artrestore` has no command 'trian'", "`artrestore train data` has no option --sorce"]
    assert check_command("bash scripts/bench.sh gate --no-such-flag", parser)[1] == [
        "scripts/bench.sh has no '--no-such-flag'"]
    assert check_command("scripts/device_train.sh run a b 1 1e-3 0 --legacy-fraction 0.1 --no-such", parser)[1] == [
        "scripts/device_train.sh has no '--no-such'"]  # the first goes on to `artrestore train unet-broad`
    assert check_command("python -m artrestore.training.no_such_module --out DIR", parser)[1] == [
        "module artrestore.training.no_such_module does not exist"]
    # What belongs to another tool is not charged to this one: a pipe, a substitution, a comment.
    assert check_command('artrestore analyze x.jpg | jq --raw-output .route  # --nope', parser) == (1, [])
    assert check_command('python scripts/pack_training_data.py --clean $(python -c "print(\'--bogus\')")', parser) == (1, [])
    assert split_commands('CI=true bash scripts/bench.sh gate -k "a; b|c" && ray job submit -- artrestore web') == [
        'CI=true bash scripts/bench.sh gate -k "a; b|c"', "ray job submit", "artrestore web"]
