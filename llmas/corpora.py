"""Labelled corpora for the audit tasks: bundled ones and loaders for the real ones.

Bundled (written by this project, CC0, shipped in ``llmas/data``; cards in
``datasets/``):

- ``fictional_hate_speech``: 60 texts, 10 per hate-speech state, aimed at a
  fictional people (the Veltrani) or fictional individuals; no slurs, no real
  groups.
- ``fictional_product_reviews``: 40 reviews of 8 fictional products, 4 per
  (quality, star rating) cell.

Real corpora, through Hugging Face ``datasets`` when cached or online, or a
local CSV/JSONL/Parquet file:

- Measuring Hate Speech (Kennedy et al. 2020, ``ucberkeley-dlab/measuring-hate-speech``):
  one row per annotation; a comment's state is the binned median of its
  ``hate_speech_score`` (:func:`llmas.tasks.hate_speech.score_to_state`).
- Amazon reviews (``McAuley-Lab/Amazon-Reviews-2023``, a ``raw_review_*`` config):
  the environment is the review's star rating and the state the product's
  quality judged from its *other* reviews (leave-one-out mean rating >= 4: good,
  <= 3: bad, in between: dropped; products with fewer than 5 reviews dropped),
  so the state is not read off the review being rated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .tables import read_table
from .tasks import hate_speech as _hs
from .tasks import product_quality as _pq

MHS_NAME = "ucberkeley-dlab/measuring-hate-speech"
AMAZON_NAME = "McAuley-Lab/Amazon-Reviews-2023"
AMAZON_CONFIG = "raw_review_All_Beauty"


class CorpusUnavailable(ValueError):
    """A corpus is neither in the local Hugging Face cache nor reachable."""


@dataclass
class Corpus:
    """A labelled corpus.

    Attributes
    ----------
    name : identifier (``"fictional_hate_speech"``, ``"mhs"``, a file path...).
    texts : list of n texts.
    states : int array (n,), values in ``0..n_states-1``.
    n_states : number of states of the task.
    ids : list of n identifiers.
    environments : int array (n,) of per-item environments (star ratings for
        product reviews, values 1..5) or ``None``.
    products : list of n product names (product reviews) or ``None``.
    source, license : provenance, for the report.
    """

    name: str
    texts: list[str]
    states: np.ndarray
    n_states: int
    ids: list[str] = field(default_factory=list)
    environments: np.ndarray | None = None
    products: list[str] | None = None
    source: str = ""
    license: str = ""

    def __post_init__(self) -> None:
        self.states = np.asarray(self.states, dtype=int)
        n = len(self.texts)
        if self.states.shape != (n,):
            raise ValueError(f"{n} texts but states of shape {self.states.shape}")
        if n and (self.states.min() < 0 or self.states.max() >= self.n_states):
            raise ValueError(f"states must lie in 0..{self.n_states - 1}")
        if not self.ids:
            self.ids = [str(i) for i in range(n)]
        if self.environments is not None:
            self.environments = np.asarray(self.environments, dtype=int)
            if self.environments.shape != (n,):
                raise ValueError("environments must have one entry per text")

    def __len__(self) -> int:
        return len(self.texts)

    def state_frequencies(self) -> np.ndarray:
        """Empirical prior ``pi0(x) = #{i : x_i = x} / n``, shape (n_states,)."""
        if not len(self):
            raise ValueError("empty corpus")
        return np.bincount(self.states, minlength=self.n_states) / len(self)

    def take(self, index) -> Corpus:
        """The sub-corpus at integer positions ``index``."""
        idx = np.asarray(index, dtype=int)
        return Corpus(
            name=self.name,
            texts=[self.texts[i] for i in idx],
            states=self.states[idx],
            n_states=self.n_states,
            ids=[self.ids[i] for i in idx],
            environments=None if self.environments is None else self.environments[idx],
            products=None if self.products is None else [self.products[i] for i in idx],
            source=self.source,
            license=self.license,
        )

    def subsample(self, n_per_cell: int | None, *, seed: int = 0) -> Corpus:
        """At most ``n_per_cell`` items per state (per state and environment
        when environments are set), drawn without replacement with ``seed``;
        ``None`` keeps everything.  Order is stable (by original position)."""
        if n_per_cell is None:
            return self
        if n_per_cell < 1:
            raise ValueError(f"n_per_cell must be positive, got {n_per_cell}")
        rng = np.random.default_rng(seed)
        env = self.environments if self.environments is not None else np.zeros(len(self), int)
        keep = []
        for cell in sorted(set(zip(env.tolist(), self.states.tolist(), strict=True))):
            members = np.flatnonzero((env == cell[0]) & (self.states == cell[1]))
            if len(members) > n_per_cell:
                members = rng.choice(members, n_per_cell, replace=False)
            keep.extend(members.tolist())
        return self.take(np.sort(keep))

    def to_dict(self) -> dict[str, Any]:
        """Summary for reports (not the texts)."""
        out = {
            "name": self.name,
            "n": len(self),
            "n_per_state": np.bincount(self.states, minlength=self.n_states).tolist(),
            "source": self.source,
            "license": self.license,
        }
        if self.environments is not None:
            out["environments"] = sorted(set(self.environments.tolist()))
        return out


def _data_file(name: str) -> Path:
    return Path(str(resources.files("llmas") / "data" / name))


def _column(rows: list[dict], names: tuple[str, ...], path: Any) -> str:
    if not rows:
        raise ValueError(f"{path}: no rows")
    for n in names:
        if n in rows[0]:
            return n
    raise ValueError(f"{path}: needs one of the columns {list(names)}; found {list(rows[0])}")


def _hf_load(name: str, config: str | None, split: str):
    """``datasets.load_dataset`` with a clear error when neither cached nor reachable."""
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is a dependency
        raise CorpusUnavailable("the 'datasets' package is needed to load Hugging Face corpora") from exc
    try:
        # mypy resolves ``datasets`` to this repository's data folder datasets/ (a namespace package)
        # rather than the Hugging Face library, which has no type information anyway
        return datasets.load_dataset(name, config, split=split)  # type: ignore[attr-defined]
    except Exception as exc:
        raise CorpusUnavailable(
            f"corpus {name!r}{f' ({config})' if config else ''} is neither in the local Hugging Face cache "
            f"nor reachable ({type(exc).__name__}: {exc}). Connect to the internet once, or download it "
            f"and pass path=<local .csv/.jsonl/.parquet file>, or use the bundled corpus (source='bundled')."
        ) from exc


# --------------------------------------------------------------------------- hate speech


def load_hate_speech(source: str = "bundled", *, path: str | Path | None = None,
                     split: str = "train") -> Corpus:
    """Hate-speech corpus with the six states of :mod:`llmas.tasks.hate_speech`.

    Parameters
    ----------
    source : ``"bundled"`` (60 fictional texts, offline), ``"mhs"`` (Measuring
        Hate Speech through Hugging Face ``datasets``) or ``"file"``.
    path : a local CSV/JSONL/Parquet file (implies ``source="file"``) with a text
        column (``text`` or ``comment``) and either ``state`` or
        ``hate_speech_score``; rows sharing a ``comment_id`` are merged and their
        median score binned, as in the paper.

    The state of a score is ``clip(np.digitize(score, [-8, -4, 0, 1, 2, 2.5]) - 1, 0, 5)``.

    >>> load_hate_speech().state_frequencies().tolist() == [1 / 6] * 6
    True
    """
    if path is not None:
        source = "file"
    if source == "bundled":
        rows = read_table(_data_file("fictional_hate_speech.csv"))
        return Corpus(
            name="fictional_hate_speech",
            texts=[r["text"] for r in rows],
            states=np.array([int(r["state"]) for r in rows], dtype=int),
            n_states=_hs.N_STATES,
            ids=[r["id"] for r in rows],
            source="written by the llmsl project (fictional targets)",
            license="CC0-1.0",
        )
    if source == "mhs":
        ds = _hf_load(MHS_NAME, None, split)
        rows = ds.select_columns([c for c in ("comment_id", "text", "hate_speech_score")
                                  if c in ds.column_names]).to_list()
        return _hate_speech_from_rows(rows, name=MHS_NAME, license_="CC-BY-4.0")
    if source == "file":
        if path is None:
            raise ValueError("source='file' needs path=")
        return _hate_speech_from_rows(read_table(path), name=str(path), license_="see the file's source")
    raise ValueError(f"source must be 'bundled', 'mhs' or 'file', got {source!r}")


def _hate_speech_from_rows(rows: list[dict], *, name: str, license_: str) -> Corpus:
    text_col = _column(rows, ("text", "comment", "comment_text"), name)
    label_col = _column(rows, ("state", "hate_speech_score"), name)
    if label_col == "state":
        try:
            states = [int(float(r["state"])) for r in rows]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}: non-integer state ({exc})") from None
        return Corpus(name=name, texts=[str(r[text_col]) for r in rows], states=np.array(states, dtype=int),
                      n_states=_hs.N_STATES, ids=[str(r.get("comment_id", i)) for i, r in enumerate(rows)],
                      source=name, license=license_)
    # One row per annotation: group by comment, median score, bin.
    key = "comment_id" if "comment_id" in rows[0] else text_col
    groups: dict[Any, list[float]] = {}
    texts: dict[Any, str] = {}
    for r in rows:
        try:
            score = float(r["hate_speech_score"])
        except (TypeError, ValueError):
            raise ValueError(f"{name}: hate_speech_score {r['hate_speech_score']!r} is not a number") from None
        groups.setdefault(r[key], []).append(score)
        texts.setdefault(r[key], str(r[text_col]))
    keys = list(groups)
    scores = np.array([np.median(groups[k]) for k in keys])
    return Corpus(name=name, texts=[texts[k] for k in keys], states=_hs.score_to_state(scores),
                  n_states=_hs.N_STATES, ids=[str(k) for k in keys], source=name, license=license_)


# --------------------------------------------------------------------------- product reviews


def load_product_reviews(source: str = "bundled", *, path: str | Path | None = None,
                         config: str = AMAZON_CONFIG, split: str = "full",
                         min_reviews: int = 5, good: float = 4.0, bad: float = 3.0) -> Corpus:
    """Product reviews with state (0 bad, 1 good) and environment (star rating 1..5).

    Parameters
    ----------
    source : ``"bundled"`` (40 fictional reviews, offline), ``"amazon"``
        (``McAuley-Lab/Amazon-Reviews-2023``, config ``config``) or ``"file"``.
    path : a local CSV/JSONL/Parquet file (implies ``source="file"``) with
        columns text (``text``/``review``), rating (``stars``/``rating``) and
        either ``state`` or a product id (``product``/``parent_asin``/``asin``).
    min_reviews, good, bad : without a ``state`` column, a review's state comes
        from the leave-one-out mean rating ``m`` of its product's other reviews
        (products with fewer than ``min_reviews`` reviews are dropped):
        good if ``m >= good``, bad if ``m <= bad``, dropped in between.

    >>> c = load_product_reviews(); (len(c), sorted(set(c.environments.tolist())))
    (40, [1, 2, 3, 4, 5])
    """
    if path is not None:
        source = "file"
    if source == "bundled":
        rows = read_table(_data_file("fictional_product_reviews.csv"))
        name, license_ = "fictional_product_reviews", "CC0-1.0"
    elif source == "amazon":
        ds = _hf_load(AMAZON_NAME, config, split)
        rows = ds.select_columns([c for c in ("text", "title", "rating", "parent_asin")
                                  if c in ds.column_names]).to_list()
        name, license_ = f"{AMAZON_NAME}:{config}", "see the Amazon Reviews 2023 terms"
    elif source == "file":
        if path is None:
            raise ValueError("source='file' needs path=")
        rows, name, license_ = read_table(path), str(path), "see the file's source"
    else:
        raise ValueError(f"source must be 'bundled', 'amazon' or 'file', got {source!r}")

    text_col = _column(rows, ("text", "review", "review_text"), name)
    star_col = _column(rows, ("stars", "rating", "star_rating"), name)
    try:
        stars = np.array([int(round(float(r[star_col]))) for r in rows])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: non-numeric star rating ({exc})") from None
    if ((stars < 1) | (stars > 5)).any():
        raise ValueError(f"{name}: star ratings must lie in 1..5")
    prod_col = next((c for c in ("product", "parent_asin", "asin", "product_id") if c in rows[0]), None)
    products = [str(r[prod_col]) for r in rows] if prod_col else [f"product {i}" for i in range(len(rows))]
    if "state" in rows[0]:
        states = np.array([int(float(r["state"])) for r in rows])
        keep = np.arange(len(rows))
    else:
        if prod_col is None:
            raise ValueError(f"{name}: needs a 'state' column or a product id column to derive it")
        _, inverse = np.unique(np.array(products), return_inverse=True)
        total = np.bincount(inverse, weights=stars.astype(float))
        count = np.bincount(inverse)
        n_other = count[inverse] - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            loo = (total[inverse] - stars) / n_other
        enough = count[inverse] >= min_reviews
        state = np.where(loo >= good, 1, np.where(loo <= bad, 0, -1))
        keep = np.flatnonzero(enough & (state >= 0))
        states = state
    ids = [str(rows[i].get("id", i)) for i in keep]
    return Corpus(name=name, texts=[str(rows[i][text_col]) for i in keep], states=states[keep],
                  n_states=_pq.N_STATES, ids=ids, environments=stars[keep],
                  products=[products[i] for i in keep], source=name, license=license_)


__all__ = ["Corpus", "CorpusUnavailable", "load_hate_speech", "load_product_reviews"]
