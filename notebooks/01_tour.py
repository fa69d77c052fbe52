# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A tour of the toe-twitching model
#
# What the network looks like, what it says about one person, why it says it, what it
# would ask next and what each answer would change. Everything here goes through the
# public API (`model.*`).
#
# > This model explains likelihoods; it does not diagnose. In an emergency, call your local
# > emergency services.

# %%
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np

from toe_twitch import NO_LISTED_CAUSE_LABEL, explain, load_model, next_questions, what_if

m = load_model()
structure = m.structure
print(
    f"{len(m.causes)} causes, {len(m.findings)} questions a person can answer, "
    f"{len(structure.variables)} variables; every query assumes toe twitching is present"
)

# %% [markdown]
# ## The network in layers
#
# Five layers, parents above children:
#
# 1. **age group**, a root;
# 2. **risk factors** (diabetes, a statin, heavy alcohol use, evening exercise ...), each
#    a child of age, which change how common each cause is;
# 3. the twelve **causes**, each present or absent (several can be present at once);
# 4. the **findings** each cause can produce, the twitching itself among them, each a
#    *leaky noisy-OR* of its causes: every present cause has its own chance of producing
#    it, and a small leak covers everything the model leaves out;
# 5. the **properties of the twitching** (it has lasted two weeks, it comes as you fall
#    asleep, it comes during sleep): they describe the twitching, so each hangs below it
#    and below the causes that produce it, and points to the causes that make *that kind*
#    of twitching.
#
# Red flags are drawn in red. Every query assumes the twitching, so the causes compete to
# explain it, and so does the twitching's leak (twitching that no listed cause produces):
# the people whose twitching only the leak explains make the "none of these causes"
# share.

# %%
properties = list(structure.property_of)
layers = {
    "age group": ["age_group"],
    "risk factor": list(structure.risk_factors),
    "cause": list(structure.causes),
    "finding": [f for f in structure.findings if f not in properties],
    "property of the twitching": properties,
}
colour = {
    "age group": "#8c6d31",
    "risk factor": "#e7ba52",
    "cause": "#3182bd",
    "finding": "#9ecae1",
    "property of the twitching": "#a1d99b",
}
graph = nx.DiGraph(
    (parent, child) for child in structure.variables for parent in structure.parents(child)
)
position = {
    v: ((i + 0.5) / len(nodes), -depth - 0.6 * (depth == 4))  # room for the finding labels
    for depth, nodes in enumerate(layers.values())
    for i, v in enumerate(nodes)
}
red_flags = [f for f in structure.findings if m.vocabulary.findings[f].red_flag]

fig, ax = plt.subplots(figsize=(17, 11))
nx.draw_networkx_edges(graph, position, ax=ax, alpha=0.1, arrows=False)
for layer, nodes in layers.items():
    nx.draw_networkx_nodes(
        graph, position, nodelist=nodes, node_size=140, node_color=colour[layer], ax=ax, label=layer
    )
nx.draw_networkx_nodes(
    graph,
    position,
    nodelist=red_flags,
    node_size=140,
    node_color="#d62728",
    ax=ax,
    label="red flag",
)
for v, (x, y) in position.items():
    vertical = v in layers["risk factor"] or v in layers["finding"]
    above = v in layers["risk factor"] or v == "age_group"
    ax.text(
        x,
        y + (0.08 if above else -0.08),
        v,
        fontsize=7 if vertical else 8,
        rotation=90 if vertical else 0,
        ha="center",
        va="bottom" if above else "top",
    )
ax.set_ylim(-5.5, 0.6)
ax.set_axis_off()
ax.legend(loc="upper right", fontsize=8)
ax.set_title(f"The network: {graph.number_of_nodes()} variables, {graph.number_of_edges()} arrows")
plt.show()

# %% [markdown]
# ## One person, against the prior
#
# An older adult with numbness and tingling in the feet, diabetes, twitching for more
# than two weeks, and no leg pain. `diagnose` returns the differential (P(cause present |
# answers), highest first), the share no listed cause explains (`no_listed_cause`: every
# cause absent, often harmless twitching that settles), the urgency with its reasons, and
# the article's advice. The grey bars are the same numbers before any answer: the
# twitching alone.

# %%
evidence = {
    "age_group": "older_adult",
    "numbness_tingling": "present",
    "diabetes": "present",
    "persists_2_weeks": "present",
    "leg_pain": "absent",
}
d = m.diagnose(evidence)
print("Urgency:", d.urgency.replace("_", " "))
for reason in d.reasons:
    print(" -", reason)

rows = [c for c, _ in d.ranking][::-1]
after = [d.probabilities[c] for c in rows] + [d.no_listed_cause]
before = [d.prior[c] for c in rows] + [d.prior_no_listed_cause]
labels = rows + [NO_LISTED_CAUSE_LABEL]
y = np.arange(len(labels))
fig, ax = plt.subplots(figsize=(8, 5.5))
ax.barh(y + 0.2, after, height=0.4, label="after the answers")
ax.barh(y - 0.2, before, height=0.4, color="#bbbbbb", label="before (the twitching alone)")
ax.set_yticks(y, labels)
ax.get_yticklabels()[-1].set_fontweight("bold")
ax.set_xlabel("probability")
ax.set_title("The differential for this person")
ax.legend(loc="lower right")
plt.show()
print(
    f"None of these causes: {d.prior_no_listed_cause:.1%} before the answers, "
    f"{d.no_listed_cause:.1%} after"
)

# %% [markdown]
# ## Why: the weight of each answer
#
# `explain` gives each answer's likelihood ratio for the first cause: how much more
# probable that answer is if the cause is present than if it is absent (given the other
# answers). Its logarithm, the *weight of evidence*, is positive when the answer supports
# the cause. The sequential weights (answers added one at a time, strongest first) add up
# exactly to the change in log-odds from before to after.

# %%
why = explain(m, evidence, d.top)
shown = [c for c in why.contributions if c.weight is not None][::-1]
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.barh(
    [f"{c.finding} = {c.state}" for c in shown],
    [c.weight for c in shown],
    color=["#2ca02c" if c.weight > 0 else "#d62728" for c in shown],
)
ax.axvline(0, color="black", linewidth=0.8)
ax.set_xlabel("weight of evidence (natural log of the likelihood ratio)")
ax.set_title(f"Why {d.top}: {why.prior:.1%} before, {why.posterior:.1%} after")
plt.show()
for c in why.contributions:
    print(
        f"{c.finding:>20} = {c.state:<8} likelihood ratio {c.likelihood_ratio:6.2f}, "
        f"sequential weight {c.sequential_weight:+.3f}"
    )

# %% [markdown]
# ## What to ask next, and what each answer would do
#
# `next_questions` ranks the unanswered questions by expected information gain: how much,
# on average over the possible answers, the answer would reduce the uncertainty about the
# causes (in bits). `what_if` gives the differential and urgency after every answer to
# every unanswered question; here, the two answers to the best question.

# %%
questions = next_questions(m, evidence, k=5)
for q in questions:
    print(f"{q.gain_bits:.3f} bits  {q.finding:<24} ({q.reason})")
best = questions[0]
answers = {w.state: w for w in what_if(m, evidence) if w.finding == best.finding}

top = [c for c, _ in d.ranking[:5]]
x = np.arange(len(top))
width = 0.8 / (len(answers) + 1)
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.bar(x, [d.probabilities[c] for c in top], width, color="#bbbbbb", label="now")
for i, (state, w) in enumerate(answers.items(), start=1):
    probabilities = dict(w.ranking)
    ax.bar(
        x + i * width,
        [probabilities[c] for c in top],
        width,
        label=f"{best.finding} = {state} (P = {w.probability:.0%}; {w.urgency})",
    )
ax.set_xticks(x + width * len(answers) / 2, top)
ax.set_ylim(0, 1.3)
ax.set_ylabel("P(cause present)")
ax.set_title(f"The best next question: {best.label}")
ax.legend(fontsize=8, loc="upper right")
plt.show()

# %% [markdown]
# ## Checks on what this notebook computed
#
# The ranking is sorted and its first cause is the one a clinician expects for this story;
# nobody can be free of every cause while having the first one, so the "none" share is at
# most one minus the first probability; the sequential weights add up to the change in
# log-odds; and what-if obeys the law of total probability: averaging the differential
# after each answer, weighted by how likely that answer is, gives back the differential
# now.

# %%
probabilities = [p for _, p in d.ranking]
assert probabilities == sorted(probabilities, reverse=True)
assert d.top == "neuropathy" and d.urgency == "see_doctor"
assert 0 < d.no_listed_cause <= 1 - probabilities[0] + 1e-12
assert np.isclose(d.prior_no_listed_cause, m.prior_no_listed_cause)
assert d.no_listed_cause < d.prior_no_listed_cause  # these answers point to a listed cause
assert sorted(v for nodes in layers.values() for v in nodes) == sorted(structure.variables)

assert np.isclose(why.posterior, d.probabilities[d.top])
assert np.isclose(sum(c.sequential_weight for c in why.contributions), why.log_odds_change)
assert why.supporting[0].finding == "numbness_tingling"

gains = [q.gain_bits for q in questions]
assert gains == sorted(gains, reverse=True) and gains[0] > 0
assert set(answers) == set(m.states[best.finding])
assert np.isclose(sum(w.probability for w in answers.values()), 1.0)
for cause in m.causes:
    averaged = sum(w.probability * dict(w.ranking)[cause] for w in answers.values())
    assert np.isclose(averaged, d.probabilities[cause], rtol=1e-9, atol=1e-12), cause
averaged_none = sum(w.probability * w.no_listed_cause for w in answers.values())
assert np.isclose(averaged_none, d.no_listed_cause, rtol=1e-9)
print("all checks passed")
