"""Published rationality figures for context, quoted (never measured here).

``PUBLISHED_RATIONALITY`` is a list of dicts with keys ``key`` (the source's
key in ``SOURCES``), ``source`` (citation), ``subjects`` (who chose: e.g. "GPT"
or "human subjects"), ``domain``, ``statistic`` (e.g. "mean CCEI"), ``value``,
``where`` (table, figure or page of the source) and ``quote`` (the sentence the
value is read from). A figure enters the table only once it has been read in
the source text itself; reports label every row "quoted, not measured" and list
a source without a quoted figure as "figure not verified here", with no number.

Status. The two sources below were located (title, authors, venue and
abstract confirmed), but the retrievable text did not include the passages
that state their CCEI figures, so no figure is recorded yet (searched again
for issue 13 item 4: the stored copies of the PNAS/PMC and arXiv/ar5iv pages
and of the AER article return only their first pages; secondary summaries
were not used; searched once more on 2026-11-27 with the ``search`` tool's
"pages", "docs" and "code" corpora and exact-string look-ups: the stored copies
of PMC10740389, ar5iv 2305.12763, sciencestack.ai, the authors' column and the
AER 97(5) scans again show only their opening pages; the only CCEI numbers found
for Chen et al. were in third-party project notes in public repositories, not in
the paper's own text, so they are not recorded here):

* Chen, Y., Liu, T. X., Shan, Y. & Zhong, S. (2023). The emergence of economic
  rationality of GPT. Proceedings of the National Academy of Sciences 120(51),
  e2316205120 (arXiv:2305.12763). Abstract: GPT's budgetary decisions in the
  risk, time, social and food domains are "largely rational" and score higher
  than human subjects; the per-domain CCEI statistics are in the paper's
  results and figures.
* Choi, S., Fisman, R., Gale, D. & Kariv, S. (2007). Consistency and
  heterogeneity of individual behavior under uncertainty. American Economic
  Review 97(5), 1921-1938: CCEI of human subjects choosing portfolios of
  state-contingent assets on randomly drawn budget lines.

Example
-------
>>> all({"key", "source", "subjects", "domain", "statistic", "value", "where", "quote"} <= set(r)
...     for r in PUBLISHED_RATIONALITY)
True
>>> {s["key"] for s in SOURCES} >= {r["key"] for r in PUBLISHED_RATIONALITY}
True
"""
from __future__ import annotations

__all__ = ["PUBLISHED_RATIONALITY", "SOURCES"]

#: Quoted figures (see the module docstring); empty until verified in the source text.
PUBLISHED_RATIONALITY: list[dict] = []

#: The sources the table is to be filled from (bibliographic details confirmed).
SOURCES: list[dict] = [
    {"key": "chen2023", "citation": "Chen, Liu, Shan & Zhong (2023), The emergence of economic rationality of GPT, "
                                    "PNAS 120(51) e2316205120", "subjects": "GPT",
     "doi": "10.1073/pnas.2316205120", "domains": ["risk", "time", "social", "food"]},
    {"key": "choi2007", "citation": "Choi, Fisman, Gale & Kariv (2007), Consistency and heterogeneity of individual "
                                    "behavior under uncertainty, AER 97(5) 1921-1938", "subjects": "human subjects",
     "doi": "10.1257/aer.97.5.1921", "domains": ["risk"]},
]
