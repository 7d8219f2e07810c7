"""MkDocs hooks that keep the site from rotting (listed under ``hooks:`` in ``mkdocs.yml``).

At build time, for every page:

* every fenced ``python`` block must run: it must carry ``exec="on"`` (markdown-exec
  then executes it, and an exception is a warning, which ``--strict`` turns into a
  failed build);
* every ``bash`` block is checked without being run: each ``llmsl`` command line is
  parsed by the real argument parser (:func:`llmsl.cli.build_parser`), so an option
  that was renamed or removed fails the build; each ``bash FILE`` must name an
  existing file; each ``python -m MODULE`` must name an importable module; the
  blocks of ``getting-started.md`` must appear verbatim in ``README.md``;
* any other code-block language is refused (there is nothing to check it with);
* every ``::: module`` line of the API reference must name a module that imports;
* math (``$...$``, ``$$...$$``, rendered by ``pymdownx.arithmatex``) is turned into
  MathML with ``latex2mathml``, so the pages need no JavaScript and work offline; a
  formula that does not convert fails the build.

Docstring defects found in modules outside ``docs/`` (text that the numpy parser
cannot read, ``[...]`` in prose that autorefs reads as a link) are listed, one by
one, in :data:`KNOWN_DOCSTRING_DEFECTS`: those are logged at INFO as "docstring to
fix" instead of failing the build. Any other warning fails it. Remove an entry
when its docstring is fixed.

The time each page takes to build (its code blocks included) is logged, and the
slowest pages are listed at the end.
"""
from __future__ import annotations

import contextlib
import html
import importlib
import importlib.util
import io
import logging
import re
import shlex
import time
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

log = logging.getLogger("mkdocs.hooks.llmsl")

ROOT = Path(__file__).resolve().parents[1]
#: pages whose bash blocks must appear, character for character, in README.md
VERBATIM_FROM_README = {"getting-started.md"}
_RUN = {"on", "1", "true", "yes"}
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
_AUTODOC = re.compile(r"^[ \t]*:::[ \t]+([\w.]+)[ \t]*$", re.M)
_LLMSL = {"llmsl", ".venv/bin/llmsl"}
_PYTHON = {"python", "python3", ".venv/bin/python"}
_HARMLESS = {"export", "open", "xdg-open", "cd", "pip", ".venv/bin/pip"}
#: (module file, text of the warning) of docstring defects that do not fail the build (fix, then remove)
KNOWN_DOCSTRING_DEFECTS: list[tuple[str, str]] = [
    ("llmas/backends/factory.py", "Could not parse line"),
    ("llmas/tables.py", "Could not parse line"),
    ("llmas/corpora.py", "Could not parse line"),
    ("llmas/tasks/base.py", "Could not parse line"),
    ("llmsl/audit/runner.py", "Could not parse line"),
    ("sociallearn/model.py", "Could not parse line"),
    ("llmas/tasks/budget.py", "Could not find cross-reference target '2'"),
    ("llmsl/__init__.py", "Could not find cross-reference target ''Report', 'Verdict', '__version__''"),
    ("llmsl/audit/from_file.py", "Could not find cross-reference target '\"n_failed\"'"),
    ("ribum/compare.py", "Could not find cross-reference target '\"D\"'"),
    ("ribum/compare.py", "Could not find cross-reference target '\"p_value\"'"),
]
_DEFECT_LOGGERS = ("mkdocs.plugins.griffe", "mkdocs.plugins.mkdocs_autorefs._internal.plugin",
                   "mkdocs.plugins.mkdocs_autorefs._internal.backlinks", "mkdocs.plugins.mkdocs_autorefs")
_timings: dict[str, float] = {}
_started: dict[str, float] = {}


def _blocks(markdown: str) -> list[tuple[int, str, dict[str, str], str]]:
    """Fenced code blocks: (line number, language, attributes, body)."""
    out = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info").strip()
        start, body = i, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(m.group("indent")):])
            i += 1
        i += 1
        lang = info.split()[0].lstrip("{.").rstrip("}") if info else ""
        out.append((start + 1, lang, dict(_ATTR.findall(info)), "\n".join(body)))
    return out


def _check_llmsl(args: list[str]) -> str | None:
    from llmsl.cli import build_parser

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            build_parser(args).parse_args(args)
    except SystemExit as exc:
        if exc.code not in (0, None):
            return err.getvalue().strip() or f"exit code {exc.code}"
    except Exception as exc:  # noqa: BLE001 - a command whose module does not import is a finding
        return f"the llmsl argument parser cannot be built: {exc!r}"
    return None


def _check_command(words: list[str]) -> str | None:
    head, args = words[0], words[1:]
    if head in _LLMSL:
        return _check_llmsl(args)
    if head == "bash":
        if not args or not (ROOT / args[0]).is_file():
            return f"bash: no file {args[0] if args else ''!r} in the project"
        return None
    if head in _PYTHON:
        if len(args) >= 2 and args[0] == "-m":
            return None if importlib.util.find_spec(args[1]) else f"python -m: no module {args[1]!r}"
        return "python: only 'python -m MODULE ...' lines can be checked"
    if head in _HARMLESS:
        return None
    return f"do not know how to check the command {head!r}"


def _check_bash(body: str) -> list[str]:
    problems = []
    for line in body.replace("\\\n", " ").splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            problems.append(f"{line!r}: {exc}")
            continue
        command: list[str] = []
        for w in [*words, "&&"]:
            if w in ("&&", "||", ";"):
                if command:
                    why = _check_command(command)
                    if why:
                        problems.append(f"{line.strip()!r}: {why}")
                command = []
            else:
                command.append(w)
    return problems


class _KnownDefects(logging.Filter):
    """Turn the warnings listed in KNOWN_DOCSTRING_DEFECTS into INFO records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING:
            text = record.getMessage()
            if any(f in text and w in text for f, w in KNOWN_DOCSTRING_DEFECTS):
                record.levelno, record.levelname = logging.INFO, "INFO"
                record.msg, record.args = f"docstring to fix (listed in docs/hooks.py): {text}", ()
        return True


def on_config(config: Any) -> Any:
    for name in _DEFECT_LOGGERS:
        lg = logging.getLogger(name)
        if not any(isinstance(f, _KnownDefects) for f in lg.filters):
            lg.addFilter(_KnownDefects())
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    src = page.file.src_uri
    _started[src] = time.perf_counter()
    problems = []
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for line, lang, attrs, body in _blocks(markdown):
        where = f"{src}:{line}"
        if lang in ("python", "py"):
            if attrs.get("exec", "").lower() not in _RUN:
                problems.append(f'{where}: a python block must run: add exec="on"')
        elif lang in ("bash", "sh", "console"):
            problems += [f"{where}: {p}" for p in _check_bash(body)]
            if src in VERBATIM_FROM_README and body.strip() not in readme:
                problems.append(f"{where}: this command is not in README.md word for word")
        else:
            problems.append(f"{where}: code block in {lang or 'no language'!r}: nothing can check it "
                            "(use a python block with exec=\"on\", or a bash block of llmsl commands)")
    for m in _AUTODOC.finditer(markdown):
        ident = m.group(1)
        parts = ident.split(".")
        for n in range(len(parts), 0, -1):  # the longest prefix that is a module
            name = ".".join(parts[:n])
            try:
                importlib.import_module(name)
                break
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    problems.append(f"{src}: ::: {ident}: importing {name} fails: {exc}")
                    break
            except Exception as exc:  # noqa: BLE001 - any import failure is the finding
                problems.append(f"{src}: ::: {ident}: importing {name} fails: {exc!r}")
                break
        else:
            problems.append(f"{src}: ::: {ident}: no such module")
    if problems:
        raise PluginError("documentation checks failed:\n  " + "\n  ".join(problems))
    return markdown


_UNKNOWN_COMMAND = re.compile(r">(\\[A-Za-z]+)<")
_MATH = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)


def _mathml(m: re.Match[str]) -> str:
    from latex2mathml.converter import convert

    tag, tex = m.group(1), html.unescape(m.group(2)).strip()
    display = "block" if tag == "div" else "inline"
    for left, right in (("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$"), ("$", "$")):
        if tex.startswith(left) and tex.endswith(right):
            tex = tex[len(left):-len(right)]
            break
    try:
        out = convert(tex.strip(), display=display)
    except Exception as exc:  # noqa: BLE001 - any conversion failure fails the build
        raise PluginError(f"formula does not convert to MathML: {tex!r}: {exc!r}") from exc
    unknown = _UNKNOWN_COMMAND.search(out)
    if unknown:  # latex2mathml passes a command it does not know through as text
        raise PluginError(f"formula does not convert to MathML: {tex!r}: unknown command {unknown.group(1)}")
    return out


def on_page_content(html_text: str, page: Any, config: Any, files: Any) -> str:
    out = _MATH.sub(_mathml, html_text)
    src = page.file.src_uri
    if src in _started:
        _timings[src] = time.perf_counter() - _started.pop(src)
        log.info("page %s built in %.1f s", src, _timings[src])
    return out


def on_post_build(config: Any) -> None:
    slow = sorted(_timings.items(), key=lambda kv: -kv[1])[:5]
    log.info("slowest pages: %s; all pages %.1f s", ", ".join(f"{k} {v:.1f} s" for k, v in slow),
             sum(_timings.values()))
