"""The documentation site: its build-time checks (docs/hooks.py) and a strict build of the whole site.

Skipped with a reason when the ``docs`` extra is not installed (``pip install -e ".[docs]"``).
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install -e '.[docs]')")
pytest.importorskip("mkdocstrings", reason="the docs extra is not installed (pip install -e '.[docs]')")
pytest.importorskip("markdown_exec", reason="the docs extra is not installed (pip install -e '.[docs]')")
pytest.importorskip("latex2mathml", reason="the docs extra is not installed (pip install -e '.[docs]')")

from mkdocs.exceptions import PluginError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _hooks():
    spec = importlib.util.spec_from_file_location("llmsl_docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(src: str = "page.md"):
    return SimpleNamespace(file=SimpleNamespace(src_uri=src))


def test_a_python_block_that_does_not_run_fails_the_build():
    hooks = _hooks()
    with pytest.raises(PluginError, match='must run: add exec="on"'):
        hooks.on_page_markdown("```python\nprint(1)\n```\n", _page(), None, None)
    ok = '```python exec="on"\nprint(1)\n```\n'
    assert hooks.on_page_markdown(ok, _page(), None, None) == ok


def test_a_code_block_nothing_can_check_fails_the_build():
    with pytest.raises(PluginError, match="nothing can check it"):
        _hooks().on_page_markdown("```yaml\na: 1\n```\n", _page(), None, None)


def test_llmsl_command_lines_are_checked_against_the_real_parser():
    hooks = _hooks()
    good = "```bash\n.venv/bin/llmsl audit --task hate_speech --out report  # a comment\n```\n"
    assert hooks.on_page_markdown(good, _page(), None, None) == good
    with pytest.raises(PluginError, match="unrecognized arguments: --no-such-option"):
        hooks.on_page_markdown("```bash\nllmsl audit --task hate_speech --no-such-option 3\n```\n", _page(), None, None)
    with pytest.raises(PluginError, match="invalid choice"):
        hooks.on_page_markdown("```bash\nllmsl no-such-command\n```\n", _page(), None, None)
    with pytest.raises(PluginError, match="no file 'scripts/missing.sh'"):
        hooks.on_page_markdown("```bash\nbash scripts/missing.sh && llmsl --version\n```\n", _page(), None, None)
    with pytest.raises(PluginError, match="do not know how to check the command 'rm'"):
        hooks.on_page_markdown("```bash\nrm -rf report\n```\n", _page(), None, None)


def test_getting_started_commands_must_be_in_readme_word_for_word():
    hooks = _hooks()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bash scripts/setup.sh && .venv/bin/python -m pytest" in readme
    good = "```bash\nbash scripts/setup.sh && .venv/bin/python -m pytest\n```\n"
    assert hooks.on_page_markdown(good, _page("getting-started.md"), None, None) == good
    bad = "```bash\nbash scripts/setup.sh && .venv/bin/python -m pytest -x\n```\n"
    with pytest.raises(PluginError, match="not in README.md word for word"):
        hooks.on_page_markdown(bad, _page("getting-started.md"), None, None)


def test_api_reference_modules_must_import():
    hooks = _hooks()
    assert hooks.on_page_markdown("::: ribum.budget\n", _page(), None, None)
    with pytest.raises(PluginError, match="no_such_module"):
        hooks.on_page_markdown("::: ribum.no_such_module.f\n", _page(), None, None)


def test_math_becomes_mathml_and_a_bad_formula_fails():
    hooks = _hooks()
    html = hooks.on_page_content('<p><span class="arithmatex">\\(E[t,s] = p_t \\cdot x_s\\)</span></p>',
                                 _page(), None, None)
    assert "<math" in html and "arithmatex" not in html and "<msub>" in html
    with pytest.raises(PluginError, match="does not convert"):
        hooks.on_page_content('<div class="arithmatex">\\[x^{\\]</div>', _page(), None, None)
    with pytest.raises(PluginError, match="unknown command"):
        hooks.on_page_content('<span class="arithmatex">\\(\\nosuchcommand x\\)</span>', _page(), None, None)


def test_the_site_builds_strictly(tmp_path):
    """``mkdocs build --strict``: every code block runs, every docstring renders, no warning."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    site = tmp_path / "site"
    assert (site / "index.html").is_file()
    herding = (site / "tutorials" / "herding-thresholds.html").read_text(encoding="utf-8")
    assert "<svg" in herding and "cascade thresholds on pi(0)" in herding  # a figure and a code block's output
    assert "<math" in (site / "math" / "control.html").read_text(encoding="utf-8")
    assert "ribum.budget.garp" in (site / "reference" / "ribum.html").read_text(encoding="utf-8")


def test_the_griffe_extension_reads_sphinx_roles_and_example_sections(tmp_path):
    import griffe

    (tmp_path / "toy.py").write_text('def f():\n    """Like :func:`~pkg.g` and :class:`Report`.\n\n    Example\n'
                                     '    -------\n    >>> 1 + 1\n    2\n    """\n', encoding="utf-8")
    ext = griffe.load_extensions(f"{ROOT / 'docs' / 'griffe_sphinxisms.py'}:SphinxIsms")
    doc = griffe.load("toy", search_paths=[tmp_path], extensions=ext)["f"].docstring
    assert doc.value.startswith("Like `pkg.g` and `Report`.") and "Examples\n--------" in doc.value
    sections = doc.parse("numpy")
    assert [s.kind.value for s in sections] == ["text", "examples"]
