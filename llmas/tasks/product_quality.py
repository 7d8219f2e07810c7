r"""Product-quality task (Jain & Krishnamurthy, arXiv 2411.01271; SPEC 1b).

Design version :data:`VERSION`.

States
    ``x in {0, 1}``: 0 = bad product, 1 = good product (the product's quality as
    established independently of the review shown: in the bundled corpus by
    construction, in Amazon data from the product's other reviews, see
    :func:`llmas.corpora.load_product_reviews`).

Environments
    ``k in {1..5}``: the review's star rating, stated in the prompt (``The
    reviewer rated it k out of 5 stars``).  The rating changes what the rater
    knows before reading, so each rating is its own decision problem; a
    1-star review of a good product (a late delivery) and a 5-star review of a
    bad one (written on the day it arrived) exist in every corpus.

Replies
    Three booleans, :data:`FLAGS` = ``is_durable, meets_expectations,
    would_recommend``; schema :data:`SCHEMA` for :func:`llmas.parse_json_reply`.

Actions
    ``a = 4 d + 2 m + r in {0..7}`` from the three booleans
    (:func:`action_from_flags`).

Exact mode
    Each boolean is its own Yes/No question (:func:`question_prompt`), read
    exactly with ``choice_probs``; separately asked questions are independent,
    so ``P(a) = prod_i q_i^{b_i(a)} (1 - q_i)^{1 - b_i(a)}``
    (:func:`action_probs_from_yes`).  Unlike the hate-speech design this is a
    restriction: exact-mode kernels are products of three Bernoullis per review
    (their average over reviews of a state need not be).

Prior
    The corpus' state frequencies.

Stakes design (task ``product_quality_stakes``, :class:`ProductQualityStakesTask`)
    The same corpus, prior, questions and action law; the environments are the
    four incentive environments of :mod:`llmas.tasks.incentives` (recommending a
    bad product costs k points, not recommending a good one costs 1, for k in 1,
    2, 5, 10), stated in the system message, each with its incentive matrix
    ``Delta_k(x, a)`` (``ProductQualityStakesTask.incentives``, (4, 2, 8)). The
    star rating is held fixed across these environments: every review (with its
    own rating in the prompt) is asked in every environment, so the environments
    differ by the stated incentives only.
"""
from __future__ import annotations

import numpy as np

from . import incentives as _incentives
from .base import Coarsening, Environment, Task, messages, register_task
from .stakes import StakesTask, stakes_environments

NAME = "product_quality"
VERSION = "1.0"
N_STATES = 2
N_ACTIONS = 8
STATE_NAMES = ("bad", "good")
FLAGS = ("is_durable", "meets_expectations", "would_recommend")
ACTION_FLAGS = FLAGS
ACTION_NAMES = tuple(
    "".join(c if (a >> (2 - i)) & 1 else "-" for i, c in enumerate("DMR")) for a in range(8)
)
SCHEMA = {flag: bool for flag in FLAGS}
YES_NO = ("Yes", "No")
STARS = (1, 2, 3, 4, 5)

QUESTIONS = {
    "is_durable": "Is this product durable?",
    "meets_expectations": "Does this product meet expectations?",
    "would_recommend": "Would you recommend this product?",
}

ENVIRONMENTS = tuple(
    Environment(name=f"stars_{s}", description=f"the reviewer rated the product {s} of 5 stars")
    for s in STARS
)

_JSON_FORMAT = '{"is_durable": Bool, "meets_expectations": Bool, "would_recommend": Bool}'


def _review_block(review: str, product: str, stars: int) -> str:
    if stars not in STARS:
        raise ValueError(f"star rating must be one of {STARS}, got {stars!r}")
    return (f"Here is a customer review of the {product}. The reviewer rated it {stars} out of 5 stars.\n"
            f'Review: "{review}"')


def json_prompt(review: str, product: str, stars: int, env: Environment | None = None) -> list[dict[str, str]]:
    """JSON prompt for one review (environment = ``stars``, or ``env`` when given)."""
    block = _review_block(review, product, stars)
    return messages(
        ENVIRONMENTS[stars - 1] if env is None else env,
        block + f"\n\nJudge the product itself. Return a JSON with the following format: {_JSON_FORMAT}",
    )


def question_prompt(review: str, product: str, stars: int, flag: str,
                    env: Environment | None = None) -> list[dict[str, str]]:
    """One Yes/No question (``flag`` in :data:`FLAGS`) about the product (environment ``stars``, or ``env``)."""
    if flag not in QUESTIONS:
        raise ValueError(f"unknown flag {flag!r}; expected one of {FLAGS}")
    block = _review_block(review, product, stars)
    return messages(
        ENVIRONMENTS[stars - 1] if env is None else env,
        block + f"\n\n{QUESTIONS[flag]} Answer Yes or No.",
    )


def action_from_flags(flags) -> np.ndarray:
    """``a = 4 d + 2 m + r`` from a dict ``{flag: bool}`` or an array (..., 3).

    >>> int(action_from_flags({"is_durable": True, "meets_expectations": False, "would_recommend": True}))
    5
    """
    if isinstance(flags, dict):
        missing = [f for f in FLAGS if f not in flags]
        if missing:
            raise ValueError(f"reply lacks the flags {missing}")
        f = np.array([bool(flags[k]) for k in FLAGS])
    else:
        f = np.asarray(flags, dtype=bool)
        if f.shape[-1] != 3:
            raise ValueError(f"flags must have 3 columns, got shape {f.shape}")
    return (f * np.array([4, 2, 1])).sum(axis=-1)


_BITS = ((np.arange(8)[:, None] >> np.array([2, 1, 0])) & 1).astype(bool)  # (8, 3)


def action_probs_from_yes(q) -> np.ndarray:
    """``P(a) = prod_i q_i^{b_i(a)} (1 - q_i)^{1 - b_i(a)}``; ``q`` (..., 3) -> (..., 8).

    >>> action_probs_from_yes([1.0, 0.0, 0.5]).tolist()
    [0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.0]
    """
    q = np.asarray(q, dtype=float)
    if q.shape[-1] != 3:
        raise ValueError(f"expected 3 P(Yes) values in the last axis, got shape {q.shape}")
    if np.isnan(q).any() or (q < 0).any() or (q > 1).any():
        raise ValueError("P(Yes) values must lie in [0, 1]")
    qe = q[..., None, :]
    return np.where(_BITS, qe, 1.0 - qe).prod(axis=-1)


def flags_for_action(action: int) -> dict[str, bool]:
    """The flag set that maps to ``action``."""
    if not 0 <= action < N_ACTIONS:
        raise ValueError(f"action must be in 0..{N_ACTIONS - 1}, got {action}")
    return {k: bool(b) for k, b in zip(FLAGS, _BITS[action], strict=True)}


def design() -> dict:
    """The design as a JSON-ready dict (stored in every report)."""
    return {
        "task": NAME,
        "version": VERSION,
        "n_states": N_STATES,
        "n_actions": N_ACTIONS,
        "state_names": list(STATE_NAMES),
        "action_names": list(ACTION_NAMES),
        "flags": list(FLAGS),
        "schema": {k: "bool" for k in SCHEMA},
        "questions": dict(QUESTIONS),
        "json_prompt_example": json_prompt("<review>", "<product>", 3)[-1]["content"],
        "question_prompt_example": question_prompt("<review>", "<product>", 3, "is_durable")[-1]["content"],
        "choices": list(YES_NO),
        "action_rule": "a = 4*is_durable + 2*meets_expectations + would_recommend",
        "exact_rule": "P(a) = prod_i q_i^b_i(a) (1-q_i)^(1-b_i(a)), q_i = P(Yes) of question i",
        "environments": [e.to_dict() for e in ENVIRONMENTS],
        "prior": "state frequencies of the corpus",
    }


@register_task
class ProductQualityTask(Task):
    """The product-quality design as a :class:`~llmas.tasks.base.Task` (see the module docstring).

    Environments are the review's star rating, so each review is asked in its
    own environment only (:meth:`items`).

    >>> t = ProductQualityTask()
    >>> t.n_states, t.n_actions, len(t.environments)
    (2, 8, 5)
    """

    name = NAME
    version = VERSION
    description = "good versus bad product from a customer review; environments = the review's star rating"
    state_names = STATE_NAMES
    action_names = ACTION_NAMES
    environments = ENVIRONMENTS
    questions = ACTION_FLAGS
    choices = YES_NO
    schema = SCHEMA
    coarsenings = {
        "binary": Coarsening(None, tuple(a & 1 for a in range(8)), None, ("not recommended", "recommended"),
                             "observation: would_recommend"),
    }
    default_n = 4
    max_tokens = 80

    def load_corpus(self, source: str = "bundled", *, path: str | None = None):
        from ..corpora import load_product_reviews

        return load_product_reviews(source, path=path)

    def items(self, corpus) -> tuple[list[tuple[int, int]], list[str]]:
        if corpus.environments is None or corpus.products is None:
            raise ValueError("product-review corpora need product names and star ratings")
        present = sorted(set(corpus.environments.tolist()))
        envs = [f"stars_{s}" for s in present]
        return [(present.index(int(corpus.environments[i])), i) for i in range(len(corpus))], envs

    def environment(self, corpus, k: int, i: int) -> Environment:
        return ENVIRONMENTS[int(corpus.environments[i]) - 1]

    def question_prompts(self, corpus, i: int, env: Environment) -> list[list[dict[str, str]]]:
        return [question_prompt(corpus.texts[i], corpus.products[i], int(corpus.environments[i]), flag)
                for flag in ACTION_FLAGS]

    def action_law(self, q: np.ndarray) -> np.ndarray:
        return action_probs_from_yes(q)

    def json_prompt(self, corpus, i: int, env: Environment) -> list[dict[str, str]]:
        return json_prompt(corpus.texts[i], corpus.products[i], int(corpus.environments[i]))

    def sampling_temperature(self, env: Environment) -> float:
        return 0.7

    def action_from_reply(self, reply: dict) -> int:
        return int(action_from_flags(reply))

    def design(self) -> dict:
        return {**super().design(), **design()}


#: name and version of the stakes design (environments from :mod:`llmas.tasks.incentives`)
STAKES_NAME = "product_quality_stakes"
STAKES_VERSION = "1.0"
STAKES_ENVIRONMENTS = stakes_environments(NAME)


@register_task
class ProductQualityStakesTask(StakesTask, ProductQualityTask):
    """The product-quality design with environments that state point incentives (see the module docstring).

    Every review is asked in every incentive environment (its star rating stays
    in the prompt, the same in every environment), so only the incentives
    differ; ``incentives`` (K, X, A) holds ``Delta_k(x, a)``.

    >>> t = ProductQualityStakesTask()
    >>> len(t.environments), t.incentives.shape
    (4, (4, 2, 8))
    """

    name = STAKES_NAME
    version = STAKES_VERSION
    description = ("good versus bad product from a customer review, in four environments whose prompts state the "
                   "points lost for recommending a bad product (1, 2, 5, 10) and for not recommending a good one "
                   "(1); the star rating is held fixed across them")
    environments = STAKES_ENVIRONMENTS
    incentives = _incentives.incentives(NAME)
    base_task = NAME
    default_n = 2

    def items(self, corpus) -> tuple[list[tuple[int, int]], list[str]]:
        if corpus.environments is None or corpus.products is None:
            raise ValueError("product-review corpora need product names and star ratings")
        return Task.items(self, corpus)

    def environment(self, corpus, k: int, i: int) -> Environment:
        return self.environments[k]

    def question_prompts(self, corpus, i: int, env: Environment) -> list[list[dict[str, str]]]:
        return [question_prompt(corpus.texts[i], corpus.products[i], int(corpus.environments[i]), flag, env)
                for flag in ACTION_FLAGS]

    def json_prompt(self, corpus, i: int, env: Environment) -> list[dict[str, str]]:
        return json_prompt(corpus.texts[i], corpus.products[i], int(corpus.environments[i]), env)

    def design(self) -> dict:
        return {**super().design(), "star_rating": "held fixed across environments: every review, with its own "
                                                   "rating in the prompt, is asked in every environment"}
