"""A task defined here, outside the package, runs through the audit's own code path.

The toy design: a coin shows heads or tails (the state); the agent says which
(the action), in two decision problems.  A scripted backend answers with a
known kernel, so the audit must recover it exactly and reach the verdict the
kernel implies.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from llmas.corpora import Corpus
from llmas.tasks import Environment, Task, get_task, register_task, task_names
from llmsl.audit import audit


@register_task
class CoinTask(Task):
    name = "toy_coin"
    version = "0.1"
    description = "say which side a coin shows"
    state_names = ("tails", "heads")
    action_names = ("say tails", "say heads")
    environments = (Environment("plain", "no stakes"),
                    Environment("reward", "a reward for saying heads", system="Saying heads pays."))
    questions = ("says_heads",)
    schema = {"heads": bool}
    default_n = 3

    def load_corpus(self, source="bundled", *, path=None):
        texts = [f"The coin shows {'heads' if s else 'tails'} (toss {i})." for i, s in enumerate([0, 1] * 3)]
        return Corpus("coins", texts, np.array([0, 1] * 3), 2)

    def question_prompts(self, corpus, i, env):
        msgs = [{"role": "system", "content": env.system}] if env.system else []
        return [msgs + [{"role": "user", "content": f"{corpus.texts[i]} Is it heads? Answer Yes or No."}]]

    def action_law(self, q):
        q = np.asarray(q, dtype=float)[:, 0]
        return np.stack([1 - q, q], axis=1)

    def json_prompt(self, corpus, i, env):
        return [{"role": "user", "content": f'{corpus.texts[i]} Reply {{"heads": Bool}}.'}]

    def action_from_reply(self, reply):
        return int(bool(reply["heads"]))


class ScriptedCoinAgent:
    """Says heads with probability KERNEL[environment, state]: no model, no cache."""

    name = "planted"
    model = "scripted-coin"

    def __init__(self, kernel):
        self.kernel = np.asarray(kernel, dtype=float)  # (K, X) P(heads)
        self.n_calls = 0

    def choice_probs(self, prompts, choices):
        assert list(choices) == ["Yes", "No"]
        out = []
        for msgs in prompts:
            k = int(msgs[0]["role"] == "system")
            x = int("shows heads" in msgs[-1]["content"])
            p = self.kernel[k, x]
            out.append([p, 1 - p])
        self.n_calls += len(prompts)
        return np.asarray(out)


def test_registered_like_the_built_in_tasks():
    assert "toy_coin" in task_names("ribum")
    assert get_task("toy_coin").n_actions == 2


@pytest.mark.parametrize("kernel,verdict", [
    ([[0.1, 0.9], [0.3, 0.95]], "consistent"),   # informative, and more heads where heads pays
    ([[0.5, 0.5], [0.5, 0.5]], "uninformative"),  # the text is ignored
])
def test_toy_task_audit_through_the_same_code_path(kernel, verdict, tmp_path):
    agent = ScriptedCoinAgent(kernel)
    rep = audit("toy_coin", agent, n=0, n_boot=10, progress=False, power_n=0)
    got = np.asarray(rep.results["kernels"])[:, :, 1]
    assert np.allclose(got, kernel, atol=1e-12)
    assert rep.results["environments"] == ["plain", "reward"]
    assert rep.verdict.label == verdict
    assert rep.provenance.model_calls == 2 * 6  # 2 environments x 6 texts x 1 question
    out = rep.save(tmp_path / "r")
    d = json.loads((out / "report.json").read_text())
    assert d["results"]["design"]["task"] == "toy_coin" and d["verdict"]["label"] == verdict
    assert (out / "report.md").read_text().count("## Verdict") == 1
