"""Bundled corpora and the loaders of the real ones (no network)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from llmas.corpora import Corpus, CorpusUnavailable, load_hate_speech, load_product_reviews
from llmas.tasks import hate_speech as hs


def test_bundled_hate_speech_balanced_and_fictional():
    c = load_hate_speech()
    assert len(c) == 60
    assert np.bincount(c.states).tolist() == [10] * 6
    assert np.allclose(c.state_frequencies(), 1 / 6)
    assert len(set(c.texts)) == 60 and len(set(c.ids)) == 60
    # every text targets a fictional people or a fictional person
    names = ("Veltrani", "Corvin", "Dorran", "Quellmoor")
    assert all(any(n in t for n in names) for t in c.texts)
    assert c.license == "CC0-1.0"


def test_bundled_product_reviews_cover_every_cell():
    c = load_product_reviews()
    assert len(c) == 40
    cells = np.zeros((5, 2), int)
    np.add.at(cells, (c.environments - 1, c.states), 1)
    assert (cells == 4).all()
    assert len(c.products) == 40


def test_subsample_per_cell_is_seeded_and_stable():
    c = load_product_reviews()
    a, b = c.subsample(2, seed=3), c.subsample(2, seed=3)
    assert a.ids == b.ids and len(a) == 20
    cells = np.zeros((5, 2), int)
    np.add.at(cells, (a.environments - 1, a.states), 1)
    assert (cells == 2).all()
    assert c.subsample(None) is c
    h = load_hate_speech().subsample(4, seed=0)
    assert np.bincount(h.states).tolist() == [4] * 6
    with pytest.raises(ValueError, match="positive"):
        c.subsample(0)


def test_mhs_local_file_median_score_binning(tmp_path):
    # Annotations of three comments; the state is the binned median score.
    rows = [
        {"comment_id": 1, "text": "a", "hate_speech_score": -5.0},
        {"comment_id": 1, "text": "a", "hate_speech_score": -3.0},
        {"comment_id": 1, "text": "a", "hate_speech_score": 0.5},   # median -3 -> state 1
        {"comment_id": 2, "text": "b", "hate_speech_score": 2.2},   # state 4
        {"comment_id": 3, "text": "c", "hate_speech_score": -9.0},  # below -8 -> state 0 (clipped)
        {"comment_id": 3, "text": "c", "hate_speech_score": 3.0},   # median -3 -> state 1
    ]
    p = tmp_path / "mhs.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows))
    c = load_hate_speech(path=p)
    assert c.texts == ["a", "b", "c"]
    assert c.states.tolist() == [1, 4, 1]
    # the paper's formula, by hand
    assert (np.digitize([-3.0, 2.2], [-8, -4, 0, 1, 2, 2.5]) - 1).tolist() == [1, 4]


def test_score_to_state_bins_edges():
    assert hs.score_to_state([-8.0, -4.0, 0.0, 1.0, 2.0, 2.5, -100, 100]).tolist() == [0, 1, 2, 3, 4, 5, 0, 5]
    with pytest.raises(ValueError, match="NaN"):
        hs.score_to_state([np.nan])


def test_product_reviews_state_from_other_reviews(tmp_path):
    p = tmp_path / "reviews.csv"
    lines = ["text,rating,parent_asin"]
    lines += [f"good {i},5,G" for i in range(5)] + ["good but late,1,G"]
    lines += [f"bad {i},1,B" for i in range(5)] + ["bad but new,5,B"]
    lines += ["few,5,F", "few,4,F"]                       # fewer than 5 reviews: dropped
    p.write_text("\n".join(lines))
    c = load_product_reviews(path=p)
    assert len(c) == 12 and "few" not in c.texts
    got = dict(zip(c.texts, c.states.tolist(), strict=True))
    # leave-one-out: the 1-star review of G sees mean 5 -> good; the 5-star review of B sees mean 1 -> bad
    assert got["good but late"] == 1 and got["bad but new"] == 0
    assert dict(zip(c.texts, c.environments.tolist(), strict=True))["good but late"] == 1


def test_file_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_hate_speech(path=tmp_path / "missing.csv")
    bad = tmp_path / "x.csv"
    bad.write_text("words,label\nhi,1\n")
    with pytest.raises(ValueError, match="needs one of the columns"):
        load_hate_speech(path=bad)
    bad.write_text("text,state\nhi,7\n")
    with pytest.raises(ValueError, match="states must lie"):
        load_hate_speech(path=bad)
    with pytest.raises(ValueError, match="source must be"):
        load_hate_speech("nope")
    with pytest.raises(ValueError, match="unsupported file type"):
        (tmp_path / "a.txt").write_text("x")
        load_hate_speech(path=tmp_path / "a.txt")


def test_corpus_validates_states():
    with pytest.raises(ValueError, match="states"):
        Corpus(name="x", texts=["a", "b"], states=[0], n_states=2)


def test_hf_corpus_offline_and_uncached_gives_clear_error(tmp_path):
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_CACHE": str(tmp_path / "hf" / "datasets")}
    code = ("from llmas.corpora import load_hate_speech, CorpusUnavailable\n"
            "try:\n    load_hate_speech('mhs')\nexcept CorpusUnavailable as e:\n    print('CLEAR:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "CLEAR:" in out.stdout
    assert "ucberkeley-dlab/measuring-hate-speech" in out.stdout and "path=" in out.stdout
    assert issubclass(CorpusUnavailable, ValueError)
