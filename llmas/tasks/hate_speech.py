r"""Hate-speech rating task (Jain & Krishnamurthy, arXiv 2411.01271; SPEC 1b).

Design version :data:`VERSION`.  The herding pipelines import the prompts, the
schema and the action mapping from here, so there is exactly one definition.

States
    ``x in {0..5}``: the binned hate-speech score of the Measuring Hate Speech
    corpus, ``x = np.digitize(score, [-8, -4, 0, 1, 2, 2.5]) - 1`` (0 = supportive
    or counter-speech, 5 = calls for violence or genocide); see
    :func:`score_to_state`.  Scores below -8 (the most supportive comments) go to
    state 0; the paper's formula alone would give them the label -1.

Replies
    Six booleans, :data:`FLAGS`: ``is_insulting, is_dehumanizing,
    is_humiliating, promotes_violence, promotes_genocide, is_respectful``.
    Parsing schema :data:`SCHEMA` (``{flag: bool}``) for
    :func:`llmas.parse_json_reply`.

Actions
    ``a in {0..5}``: ``a = 1 + (index of the last true flag among the first
    five)``, or ``a = 0`` when none of them is true, i.e.
    ``a = max_i (i + 1) f_i`` (:func:`action_from_flags`).  ``is_respectful`` is
    asked (as in the paper) but does not enter the action.

Prompts
    *Sampled mode* (:func:`json_prompt`): the paper's prompt, ``Return a JSON
    with the following format for the given text, and objectively rate the text
    without any other assumptions: {"is_insulting": Bool, ...} Text: <text>``,
    after the environment's system message.

    *Exact mode* (:func:`question_prompt`): each of the five flags that enter
    the action is asked as its own Yes/No question, and ``q_i = P(Yes)`` is read
    exactly from the next-token log-probabilities (``choice_probs`` over
    :data:`YES_NO`).  Questions asked separately are answered independently
    (each is its own conditional distribution of the model), so

    .. math::

        P(a = 0) = \prod_{j=0}^{4} (1 - q_j), \qquad
        P(a = i + 1) = q_i \prod_{j=i+1}^{4} (1 - q_j), \quad i = 0..4

    (:func:`action_probs_from_yes`).  The map is onto the simplex: every action
    distribution ``p`` arises from ``q_i = p_{i+1} / \sum_{a \le i+1} p_a``
    (:func:`yes_probs_from_action_probs`), so the independence of separately
    asked questions restricts nothing about the action kernel.

Environments (:data:`ENVIRONMENTS`)
    Three framings of the decision that change its stakes, stated in the system
    message: ``neutral`` (no system message), ``protect_users`` (a moderator of a
    teenagers' forum held responsible for every harmful post left online: missing
    hate is costly) and ``protect_speech`` (a moderator of a debate forum where
    every flag deletes the post and suspends its author: false flags are costly).
    A rationally inattentive rater flags more in the first and less in the
    second, which NIAC can then test across environments.

Prior
    The corpus' state frequencies.

Stakes design (task ``hate_speech_stakes``, :class:`HateSpeechStakesTask`)
    The same corpus, prior, questions and action law; the environments are the
    four incentive environments of :mod:`llmas.tasks.incentives` (a hateful
    comment left up costs k points, a benign comment removed costs 1, for k in
    1, 2, 5, 10), stated in the system message, each with its incentive matrix
    ``Delta_k(x, a)`` (``HateSpeechStakesTask.incentives``, (4, 6, 6)). The audit
    then tests one utility shared by every environment plus the stated incentives
    (SPEC 1c), a test that uniformly random answers fail.
"""
from __future__ import annotations

import numpy as np

from . import incentives as _incentives
from .base import Coarsening, Environment, Task, messages, register_task
from .stakes import StakesTask, stakes_environments

NAME = "hate_speech"
VERSION = "1.0"
N_STATES = 6
N_ACTIONS = 6
STATE_NAMES = ("supportive", "neutral", "mildly insulting", "insulting", "dehumanizing", "violent")
ACTION_NAMES = ("none", "insulting", "dehumanizing", "humiliating", "violence", "genocide")
BINS = (-8.0, -4.0, 0.0, 1.0, 2.0, 2.5)

FLAGS = (
    "is_insulting",
    "is_dehumanizing",
    "is_humiliating",
    "promotes_violence",
    "promotes_genocide",
    "is_respectful",
)
#: the flags that determine the action (the first five)
ACTION_FLAGS = FLAGS[:5]
SCHEMA = {flag: bool for flag in FLAGS}
YES_NO = ("Yes", "No")

QUESTIONS = {
    "is_insulting": "Is this text insulting?",
    "is_dehumanizing": "Does this text dehumanize anyone, for example by calling people animals, "
                       "vermin, a disease or less than human?",
    "is_humiliating": "Is this text humiliating to anyone?",
    "promotes_violence": "Does this text promote or call for violence?",
    "promotes_genocide": "Does this text promote genocide, the destruction of a whole group of people?",
    "is_respectful": "Is this text respectful?",
}

ENVIRONMENTS: tuple[Environment, ...] = (
    Environment(
        name="neutral",
        description="no framing: the paper's prompt as is",
        system=None,
    ),
    Environment(
        name="protect_users",
        description="missing hate is costly: moderator of a teenagers' forum, responsible for harm left online",
        system=(
            "You are the content moderator of an online forum for teenagers. If a hateful, insulting or "
            "violent post stays online, vulnerable young users are harmed, and you are held personally "
            "responsible for every harmful post you fail to flag."
        ),
    ),
    Environment(
        name="protect_speech",
        description="false flags are costly: every flag deletes the post and suspends its author",
        system=(
            "You are a moderator of a debate forum that values free expression. Every post you flag is "
            "deleted and its author is suspended, so flagging a post that is merely blunt or critical "
            "silences an innocent person, and you are held personally responsible for every wrongful flag."
        ),
    ),
)

_JSON_FORMAT = (
    '{"is_insulting": Bool, "is_dehumanizing":Bool, "is_humiliating":Bool, '
    '"promotes_violence":Bool, "promotes_genocide":Bool, "is_respectful":Bool,}'
)


def score_to_state(score) -> np.ndarray:
    """Bin Measuring-Hate-Speech scores into the six states.

    ``x = clip(np.digitize(score, [-8, -4, 0, 1, 2, 2.5]) - 1, 0, 5)``.

    >>> score_to_state([-9.0, -5.0, -1.0, 0.5, 1.5, 2.2, 3.0]).tolist()
    [0, 0, 1, 2, 3, 4, 5]
    """
    s = np.asarray(score, dtype=float)
    if np.isnan(s).any():
        raise ValueError("hate-speech scores contain NaN")
    return np.clip(np.digitize(s, BINS) - 1, 0, N_STATES - 1)


def json_prompt(text: str, env: Environment = ENVIRONMENTS[0]) -> list[dict[str, str]]:
    """The paper's JSON prompt for one text, after ``env``'s system message."""
    return messages(
        env,
        "Return a JSON with the following format for the given text, and objectively rate the text "
        f"without any other assumptions: {_JSON_FORMAT} Text:{text}",
    )


def question_prompt(text: str, flag: str, env: Environment = ENVIRONMENTS[0]) -> list[dict[str, str]]:
    """One Yes/No question (``flag`` in :data:`FLAGS`) about ``text`` in ``env``."""
    if flag not in QUESTIONS:
        raise ValueError(f"unknown flag {flag!r}; expected one of {FLAGS}")
    return messages(env, f'Text: "{text}"\n\n{QUESTIONS[flag]} Answer Yes or No.')


def action_from_flags(flags) -> np.ndarray:
    """Action ``a = max_i (i + 1) f_i`` over the first five flags (0 if none).

    ``flags``: a dict ``{flag: bool}``, or an array of shape (..., 5) or (..., 6).

    >>> int(action_from_flags({"is_insulting": True, "is_dehumanizing": False, "is_humiliating": True,
    ...     "promotes_violence": False, "promotes_genocide": False, "is_respectful": False}))
    3
    """
    if isinstance(flags, dict):
        missing = [f for f in ACTION_FLAGS if f not in flags]
        if missing:
            raise ValueError(f"reply lacks the flags {missing}")
        f = np.array([bool(flags[k]) for k in ACTION_FLAGS])
    else:
        f = np.asarray(flags, dtype=bool)
        if f.shape[-1] not in (5, 6):
            raise ValueError(f"flags must have 5 or 6 columns, got shape {f.shape}")
        f = f[..., :5]
    return (f * np.arange(1, 6)).max(axis=-1)


def action_probs_from_yes(q) -> np.ndarray:
    r"""Action distribution from the five independent P(Yes) values.

    ``q``: array (..., 5) of P(Yes) for :data:`ACTION_FLAGS`.  Returns (..., 6):
    ``P(a=0) = prod_j (1 - q_j)``, ``P(a=i+1) = q_i prod_{j>i} (1 - q_j)``.

    >>> action_probs_from_yes([0.5, 0, 0, 0, 0.5]).tolist()
    [0.25, 0.25, 0.0, 0.0, 0.0, 0.5]
    """
    q = np.asarray(q, dtype=float)
    if q.shape[-1] != 5:
        raise ValueError(f"expected 5 P(Yes) values in the last axis, got shape {q.shape}")
    if np.isnan(q).any() or (q < 0).any() or (q > 1).any():
        raise ValueError("P(Yes) values must lie in [0, 1]")
    one_minus = 1.0 - q
    # tail[i] = prod_{j > i} (1 - q_j)
    tail = np.ones_like(q)
    tail[..., :-1] = np.cumprod(one_minus[..., ::-1], axis=-1)[..., ::-1][..., 1:]
    p = np.empty(q.shape[:-1] + (6,))
    p[..., 0] = one_minus.prod(axis=-1)
    p[..., 1:] = q * tail
    return p


def yes_probs_from_action_probs(p) -> np.ndarray:
    """Inverse of :func:`action_probs_from_yes`: ``q_i = p_{i+1} / sum_{a<=i+1} p_a``.

    ``p``: array (..., 6) of action probabilities.  Returns (..., 5); a zero
    denominator (no mass on actions ``<= i+1``) gives ``q_i = 0``.
    """
    p = np.asarray(p, dtype=float)
    if p.shape[-1] != 6:
        raise ValueError(f"expected 6 action probabilities in the last axis, got shape {p.shape}")
    csum = np.cumsum(p, axis=-1)[..., 1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(csum > 0, p[..., 1:] / np.where(csum > 0, csum, 1.0), 0.0)
    return np.clip(q, 0.0, 1.0)


def flags_for_action(action: int, rng: np.random.Generator) -> dict[str, bool]:
    """A flag set that maps to ``action`` (lower flags drawn at random).

    Used by planted agents that reply in JSON.
    """
    if not 0 <= action < N_ACTIONS:
        raise ValueError(f"action must be in 0..{N_ACTIONS - 1}, got {action}")
    f = np.zeros(6, dtype=bool)
    if action > 0:
        f[: action - 1] = rng.random(action - 1) < 0.5
        f[action - 1] = True
    f[5] = action == 0
    return {k: bool(v) for k, v in zip(FLAGS, f, strict=True)}


def design() -> dict:
    """The design as a JSON-ready dict (stored in every report)."""
    return {
        "task": NAME,
        "version": VERSION,
        "n_states": N_STATES,
        "n_actions": N_ACTIONS,
        "state_names": list(STATE_NAMES),
        "action_names": list(ACTION_NAMES),
        "bins": list(BINS),
        "flags": list(FLAGS),
        "schema": {k: "bool" for k in SCHEMA},
        "questions": dict(QUESTIONS),
        "json_prompt_example": json_prompt("<text>")[-1]["content"],
        "question_prompt_example": question_prompt("<text>", "is_insulting")[-1]["content"],
        "choices": list(YES_NO),
        "action_rule": "a = 1 + index of the last true flag among the first five, 0 if none",
        "exact_rule": "P(a=0)=prod_j(1-q_j); P(a=i+1)=q_i prod_{j>i}(1-q_j), q_i = P(Yes) of question i",
        "environments": [e.to_dict() for e in ENVIRONMENTS],
        "prior": "state frequencies of the corpus",
    }


@register_task
class HateSpeechTask(Task):
    """The hate-speech design as a :class:`~llmas.tasks.base.Task` (see the module docstring).

    >>> t = HateSpeechTask()
    >>> t.action_law(np.array([[0.5, 0, 0, 0, 0.5]])).tolist()
    [[0.25, 0.25, 0.0, 0.0, 0.0, 0.5]]
    """

    name = NAME
    version = VERSION
    description = "six-level hate-speech rating of texts under three framings of the moderation stakes"
    state_names = STATE_NAMES
    action_names = ACTION_NAMES
    environments = ENVIRONMENTS
    questions = ACTION_FLAGS
    choices = YES_NO
    schema = SCHEMA
    coarsenings = {
        "binary": Coarsening((0, 1, 1, 1, 1, 1), (0, 1, 1, 1, 1, 1), ("not hateful", "hateful"),
                             ("no flag", "flagged"), "states {0} vs {1..5}; observation: any of the first five "
                                                     "flags true"),
    }
    default_n = 10
    max_tokens = 160

    def load_corpus(self, source: str = "bundled", *, path: str | None = None):
        from ..corpora import load_hate_speech

        return load_hate_speech(source, path=path)

    def question_prompts(self, corpus, i: int, env: Environment) -> list[list[dict[str, str]]]:
        return [question_prompt(corpus.texts[i], flag, env) for flag in ACTION_FLAGS]

    def action_law(self, q: np.ndarray) -> np.ndarray:
        return action_probs_from_yes(q)

    def json_prompt(self, corpus, i: int, env: Environment) -> list[dict[str, str]]:
        return json_prompt(corpus.texts[i], env)

    def action_from_reply(self, reply: dict) -> int:
        return int(action_from_flags(reply))

    def design(self) -> dict:
        return {**super().design(), **design()}


#: name and version of the stakes design (environments from :mod:`llmas.tasks.incentives`)
STAKES_NAME = "hate_speech_stakes"
STAKES_VERSION = "1.0"
STAKES_ENVIRONMENTS = stakes_environments(NAME)


@register_task
class HateSpeechStakesTask(StakesTask, HateSpeechTask):
    """The hate-speech design with environments that state point incentives (see the module docstring).

    ``incentives`` (K, X, A) holds ``Delta_k(x, a)`` of every environment, in
    the order of ``environments``; the audit tests one shared utility with them.

    >>> t = HateSpeechStakesTask()
    >>> [e.name for e in t.environments], t.incentives.shape
    (['hate_miss_1', 'hate_miss_2', 'hate_miss_5', 'hate_miss_10'], (4, 6, 6))
    """

    name = STAKES_NAME
    version = STAKES_VERSION
    description = ("six-level hate-speech rating of texts in four environments whose prompts state the points "
                   "lost for a hateful comment left up (1, 2, 5, 10) and for a benign comment removed (1)")
    environments = STAKES_ENVIRONMENTS
    incentives = _incentives.incentives(NAME)
    base_task = NAME
    default_n = 5
