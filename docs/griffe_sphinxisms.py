"""A Griffe extension (mkdocstrings-python ``extensions:``) for two habits of this project's docstrings.

* Sphinx roles (``:func:`garp```, ``:class:`~llmsl.report.Report```) become code spans,
  instead of showing their role markers on the page.
* A numpy ``Example`` section (singular) is read as ``Examples``, so its doctest
  renders as a code block rather than as a run-on paragraph.

It changes the docstrings only as the site reads them; the source files are untouched.
"""
from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|data|attr|obj|exc|const):`~?([^`]+)`")
_EXAMPLE = re.compile(r"^([ \t]*)Example\n([ \t]*)-{3,}[ \t]*$", re.M)


class SphinxIsms(griffe.Extension):
    """Rewrite Sphinx roles and ``Example`` headings in every docstring Griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            value = _ROLE.sub(r"`\1`", obj.docstring.value)
            obj.docstring.value = _EXAMPLE.sub(r"\1Examples\n\2--------", value)
