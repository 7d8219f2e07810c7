"""Task designs: action mappings, exact action probabilities, budget lines."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmas.tasks import budget, get_task
from llmas.tasks import hate_speech as hs
from llmas.tasks import product_quality as pq


def _brute_hs(q):
    """P(action) by enumerating all 2^5 answer combinations of independent questions."""
    p = np.zeros(6)
    for bits in itertools.product([0, 1], repeat=5):
        w = np.prod([qi if b else 1 - qi for qi, b in zip(q, bits, strict=True)])
        p[int(hs.action_from_flags(np.array(bits)))] += w
    return p


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=5, max_size=5))
def test_hate_speech_exact_action_probs_match_enumeration(q):
    assert np.allclose(hs.action_probs_from_yes(q), _brute_hs(q), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=6, max_size=6).filter(lambda v: sum(v) > 1e-3))
def test_hate_speech_yes_map_is_onto(v):
    p = np.array(v) / sum(v)
    q = hs.yes_probs_from_action_probs(p)
    assert ((q >= 0) & (q <= 1)).all()
    assert np.allclose(hs.action_probs_from_yes(q), p, atol=1e-9)


def test_hate_speech_action_rule_by_hand():
    f = dict.fromkeys(hs.FLAGS, False)
    assert int(hs.action_from_flags(f)) == 0
    f["is_respectful"] = True
    assert int(hs.action_from_flags(f)) == 0          # the sixth flag never enters the action
    f.update(is_insulting=True, promotes_violence=True)
    assert int(hs.action_from_flags(f)) == 4          # last true among the first five: index 3
    f["promotes_genocide"] = True
    assert int(hs.action_from_flags(f)) == 5
    with pytest.raises(ValueError, match="lacks"):
        hs.action_from_flags({"is_insulting": True})
    rng = np.random.default_rng(0)
    for a in range(6):
        assert int(hs.action_from_flags(hs.flags_for_action(a, rng))) == a


def test_product_quality_actions_and_exact_probs():
    for a in range(8):
        assert int(pq.action_from_flags(pq.flags_for_action(a))) == a
    q = np.array([0.9, 0.2, 0.6])
    p = pq.action_probs_from_yes(q)
    brute = np.zeros(8)
    for bits in itertools.product([0, 1], repeat=3):
        brute[4 * bits[0] + 2 * bits[1] + bits[2]] += np.prod(
            [qi if b else 1 - qi for qi, b in zip(q, bits, strict=True)]
        )
    assert np.allclose(p, brute) and np.isclose(p.sum(), 1)
    with pytest.raises(ValueError, match="lie in"):
        pq.action_probs_from_yes([1.5, 0, 0])


def test_prompts_carry_text_framing_and_are_distinct():
    envs = hs.ENVIRONMENTS
    assert len(envs) >= 3 and len({e.system for e in envs}) == len(envs)
    msgs = [hs.question_prompt("TEXT-X", "is_insulting", e) for e in envs]
    assert all("TEXT-X" in m[-1]["content"] and "Answer Yes or No" in m[-1]["content"] for m in msgs)
    assert msgs[0][0]["role"] == "user" and msgs[1][0]["role"] == "system"
    j = hs.json_prompt("TEXT-Y")[-1]["content"]
    assert j.startswith("Return a JSON") and j.endswith("Text:TEXT-Y")
    assert "4 out of 5 stars" in pq.question_prompt("r", "kettle", 4, "is_durable")[-1]["content"]
    with pytest.raises(ValueError, match="star rating"):
        pq.json_prompt("r", "kettle", 6)
    with pytest.raises(ValueError, match="unknown flag"):
        hs.question_prompt("t", "is_rude")
    for name in ("hate_speech", "product_quality", "budget"):
        d = get_task(name).design()
        assert d["version"] and d["task"] == name
    with pytest.raises(ValueError, match="unknown task"):
        get_task("chess")


def test_budget_lines_follow_choi_et_al():
    lines = budget.budget_lines(500, seed=1)
    assert lines.shape == (500, 2)
    assert (lines >= 1).all() and (lines <= 100).all()
    assert (lines.max(axis=1) >= 50).all()
    assert np.array_equal(lines, budget.budget_lines(500, seed=1))
    # a bundle on the line spends exactly the income 1
    s = np.linspace(0, 1, 500)
    x = budget.bundle(s, lines)
    assert np.allclose((budget.prices(lines) * x).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="shares"):
        budget.bundle(s + 2, lines)


def test_budget_choices_prefix_free_and_share_rules():
    ch = budget.CHOICES
    assert len(ch) == 21 and ch[0] == "0%" and ch[-1] == "100%"
    assert not any(a != b and b.startswith(a) for a in ch for b in ch)
    p = np.zeros((2, 21))
    p[0, [4, 6]] = 0.5          # mean of 20% and 30%
    p[1, 20] = 1.0
    assert np.allclose(budget.share_from_probs(p, "mean"), [0.25, 1.0])
    assert np.allclose(budget.share_from_probs(p, "mode"), [0.2, 1.0])
    with pytest.raises(ValueError, match="rule"):
        budget.share_from_probs(p, "median")
    m = budget.choice_prompt("social", budget.PERSONAS[0], 40.5, 80)
    assert m[0]["content"].startswith("You are") and "40.5" in m[1]["content"] and "80" in m[1]["content"]
