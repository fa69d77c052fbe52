"""Write the research notebooks (``NN_name.ipynb``) from the cells below, without outputs.

The notebooks are generated so that their code stays reviewable as plain Python:
edit the cells here and run ``python notebooks/build.py``; ``tests/test_notebooks.py``
checks that the committed notebooks match this file, carry no outputs, and run top to
bottom (each ends with assertions on what it computed).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

FOLDER = Path(__file__).resolve().parent
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str):
    return new_code_cell(text.strip("\n"))


DISCLAIMER_CELL = """
> This model explains likelihoods; it does not diagnose. In an emergency, call your local
> emergency services.
"""

# ---------------------------------------------------------------------------- 01
TOUR = [
    md(
        """
# A tour of the toe-twitching model

What the network looks like, what it says about one person, why it says it, and what it
would ask next. Everything here goes through the public API (`model.*`).
"""
        + DISCLAIMER_CELL
    ),
    code(
        """
import warnings

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np

from model import load_model

warnings.filterwarnings("ignore", module="tqdm")  # pgmpy imports tqdm.auto (no widgets here)
m = load_model()
network = m.network
print(f"{len(m.causes)} causes, {len(m.findings)} findings a person can answer, "
      f"{network.number_of_nodes()} variables, {network.number_of_edges()} arrows")
"""
    ),
    md(
        """
## The network

Four layers: the age group; the risk factors (diabetes, smoking, a family history ...),
which change how common each cause is; the twelve causes, each present or absent (several
can be present at once); and the findings each cause can produce. A finding is a *leaky
noisy-OR* of its causes: every present cause has its own chance of producing it, and a
small leak covers everything the model leaves out. Red flags are drawn in red.
"""
    ),
    code(
        """
vocabulary = m.vocabulary
order = {f: i for i, f in enumerate(vocabulary.finding_ids)}
risk_factors = sorted(
    {p for c in m.causes for p in network.predecessors(c)} - {"age_group"}, key=order.get
)
findings = sorted(
    (v for v in network.nodes if v not in m.causes and v not in risk_factors and v != "age_group"),
    key=order.get,
)
layers = {"age": ["age_group"], "risk factor": risk_factors, "cause": list(m.causes),
          "finding": findings}
position = {
    v: ((i + 0.5) / len(nodes), -depth)
    for depth, nodes in enumerate(layers.values())
    for i, v in enumerate(nodes)
}
colour = {"age": "#8c6d31", "risk factor": "#e7ba52", "cause": "#3182bd", "finding": "#9ecae1"}

fig, ax = plt.subplots(figsize=(17, 9))
nx.draw_networkx_edges(network, position, ax=ax, alpha=0.12, arrows=False)
for layer, nodes in layers.items():
    nx.draw_networkx_nodes(network, position, nodelist=nodes, node_size=140,
                           node_color=colour[layer], ax=ax, label=layer)
flags = [f for f in findings if vocabulary.findings[f].red_flag]
nx.draw_networkx_nodes(network, position, nodelist=flags, node_size=140, node_color="#d62728",
                       ax=ax, label="red flag")
for v, (x, y) in position.items():
    if v in findings:  # below, vertical
        ax.text(x, y - 0.08, v, fontsize=7, rotation=90, ha="center", va="top")
    elif v in risk_factors:  # above, vertical
        ax.text(x, y + 0.08, v, fontsize=7, rotation=90, ha="center", va="bottom")
    else:  # causes below, age above
        ax.text(x, y + (0.1 if v == "age_group" else -0.1), v, fontsize=8, rotation=0,
                ha="center", va="bottom" if v == "age_group" else "top")
ax.set_ylim(-4.3, 0.4)
ax.set_axis_off()
ax.legend(loc="upper right", fontsize=8)
ax.set_title("The network: age, risk factors, causes, findings")
plt.show()
"""
    ),
    md(
        """
## One person

An older adult with numbness and tingling in the feet, diabetes, twitching for more than
two weeks, and no leg pain. `diagnose` returns the differential (P(cause present |
answers), highest first), the urgency with its reasons, and the article's advice.
"""
    ),
    code(
        """
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

causes = [c for c, _ in d.ranking][::-1]
fig, ax = plt.subplots(figsize=(8, 5))
y = np.arange(len(causes))
ax.barh(y + 0.2, [d.probabilities[c] for c in causes], height=0.4, label="after the answers")
ax.barh(y - 0.2, [d.prior[c] for c in causes], height=0.4, color="#bbbbbb", label="before")
ax.set_yticks(y, causes)
ax.set_xlabel("P(cause present)")
ax.set_title("The differential for this person")
ax.legend()
plt.show()
"""
    ),
    md(
        """
## Why: the weight of each answer

`explain` gives each answer's likelihood ratio for the first cause: how much more
probable that answer is if the cause is present than if it is absent (given the other
answers). Its logarithm, the *weight of evidence*, is positive when the answer supports
the cause. The sequential weights (answers added one at a time) add up exactly to the
change in log-odds from before to after.
"""
    ),
    code(
        """
why = m.explain(evidence, d.top)
contributions = why.contributions[::-1]
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.barh([f"{c.finding} = {c.state}" for c in contributions],
        [c.weight for c in contributions],
        color=["#2ca02c" if c.weight > 0 else "#d62728" for c in contributions])
ax.axvline(0, color="black", linewidth=0.8)
ax.set_xlabel("weight of evidence (natural log of the likelihood ratio)")
ax.set_title(f"Why {d.top}: {why.prior:.1%} before, {why.posterior:.1%} after")
plt.show()
for c in why.contributions:
    print(f"{c.finding:>20} = {c.state:<8} likelihood ratio {c.likelihood_ratio:8.2f}")
"""
    ),
    md(
        """
## What to ask next

`next_questions` ranks the unanswered findings by expected information gain: how much,
on average over the possible answers, the answer would reduce the uncertainty about the
causes (in bits). `what_if` shows what each answer would do to the differential.
"""
    ),
    code(
        """
questions = m.next_questions(evidence, k=5)
for q in questions:
    print(f"{q.gain_bits:.3f} bits  {q.finding:<24} ({q.reason})")
best = questions[0]
after = {w.state: w for w in m.what_if(evidence) if w.finding == best.finding}

top = [c for c, _ in d.ranking[:5]]
fig, ax = plt.subplots(figsize=(8, 3.5))
width = 0.8 / (len(after) + 1)
x = np.arange(len(top))
ax.bar(x, [d.probabilities[c] for c in top], width, color="#bbbbbb", label="now")
for i, (state, w) in enumerate(after.items(), start=1):
    probabilities = dict(w.ranking)
    ax.bar(x + i * width, [probabilities[c] for c in top], width,
           label=f"{best.finding} = {state} (P = {best.predictive[state]:.0%})")
ax.set_xticks(x + width * len(after) / 2, top)
ax.set_ylabel("P(cause present)")
ax.set_title(f"The best next question: {best.label}")
ax.legend(fontsize=8)
plt.show()
"""
    ),
    md("## Checks on what this notebook computed"),
    code(
        """
probabilities = [p for _, p in d.ranking]
assert probabilities == sorted(probabilities, reverse=True)
assert d.top == "neuropathy" and d.urgency == "see_doctor"
assert np.isclose(sum(c.sequential_weight for c in why.contributions), why.log_odds_change)
assert np.isclose(why.posterior, d.probabilities[d.top])
gains = [q.gain_bits for q in questions]
assert gains == sorted(gains, reverse=True) and gains[0] > 0
assert set(after) == set(m.states[best.finding])
assert np.isclose(sum(best.predictive.values()), 1.0)
print("all checks passed")
"""
    ),
]

# ---------------------------------------------------------------------------- 02
VIGNETTES = [
    md(
        """
# Scoring the model on clinical vignettes

`tests/vignettes.yaml` holds short stories written from the source article, each with the
findings a person would report and what a clinician expects: the first cause, the
causes that belong in the top three, and the acceptable urgency levels. Here the model
is scored against them, the misses are laid out as a confusion table, and its
probabilities are checked for calibration on simulated people.
"""
        + DISCLAIMER_CELL
    ),
    code(
        """
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from model import load_model
from model.vignettes import evaluate, load_vignettes

# Notices from libraries, not about this notebook: pgmpy imports tqdm.auto (no widgets
# here) and warns about its own renamed modules.
warnings.filterwarnings("ignore", module="tqdm")
warnings.filterwarnings("ignore", category=FutureWarning, module="pgmpy")
m = load_model()
vignettes = load_vignettes(Path("..") / "tests" / "vignettes.yaml")
evaluation = evaluate(m, vignettes)
summary = evaluation.summary
pd.Series(summary)
"""
    ),
    md(
        """
## Every vignette

First cause and its probability, whether it is one of the expected first causes, whether
the expected top three are all in the model's top three, and the urgency.
"""
    ),
    code(
        """
rows = pd.DataFrame(
    {
        "vignette": r.vignette.id,
        "expected first": " / ".join(r.vignette.expect.top1) or "(none)",
        "model's first": r.diagnosis.top,
        "p": round(r.diagnosis.ranking[0][1], 3),
        "top-1 ok": r.top1_ok,
        "top-3 ok": r.top3_ok,
        "urgency expected": " / ".join(r.vignette.expect.urgency),
        "urgency": r.diagnosis.urgency,
    }
    for r in evaluation.results
)
rows[rows["top-1 ok"].eq(False) | rows["top-3 ok"].eq(False)]  # None: not judged
"""
    ),
    md(
        """
## Confusion table: expected first cause against the model's first cause

Rows are the clinician's first cause (the first one listed when several are acceptable),
columns the model's. The diagonal holds the agreements.
"""
    ),
    code(
        """
judged = [r for r in evaluation.results if r.vignette.expect.top1]
expected = pd.Categorical([r.vignette.expect.top1[0] for r in judged], categories=m.causes)
given = pd.Categorical([r.diagnosis.top for r in judged], categories=m.causes)
confusion = pd.crosstab(expected, given, dropna=False, rownames=["expected"], colnames=["model"])

fig, ax = plt.subplots(figsize=(8, 7))
ax.imshow(confusion.to_numpy(), cmap="Blues")
ax.set_xticks(range(len(m.causes)), m.causes, rotation=60, ha="right")
ax.set_yticks(range(len(m.causes)), m.causes)
for (i, j), n in np.ndenumerate(confusion.to_numpy()):
    if n:
        dark = n > confusion.to_numpy().max() / 2
        ax.text(j, i, n, ha="center", va="center", color="white" if dark else "black")
ax.set_xlabel("model's first cause")
ax.set_ylabel("expected first cause")
ax.set_title(f"{len(judged)} vignettes with an expected first cause")
plt.show()
"""
    ),
    md(
        """
## Calibration on simulated people

When the model says 30 %, is the cause present about 30 % of the time? On real patients
that needs data we do not have; what can be checked here is that the engine is exact:
people simulated from the network itself (forward sampling with pgmpy's
`BayesianModelSampling`, keeping those who have toe twitching, since every query assumes
it) answer each question with probability one half, and the predicted probabilities of
all causes are pooled into bins. An exact engine lands on the diagonal up to sampling
noise (the bars are 95 % binomial intervals).
"""
    ),
    code(
        """
from pgmpy.sampling import BayesianModelSampling

sample = BayesianModelSampling(m.network).forward_sample(size=40_000, seed=7, show_progress=False)
people = sample[sample["toe_twitching"] == "present"].reset_index(drop=True)
rng = np.random.default_rng(7)
answers = [
    {f: person[f] for f in m.findings if rng.random() < 0.5}
    for person in people.to_dict("records")
]
predicted = m.posterior_batch(answers).ravel()
present = (people[m.causes].to_numpy() == "present").ravel()

edges = np.array([0, 0.01, 0.03, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0])
bin_of = np.clip(np.digitize(predicted, edges) - 1, 0, len(edges) - 2)
calibration = pd.DataFrame(
    {"predicted": predicted, "present": present, "bin": bin_of}
).groupby("bin").agg(n=("present", "size"), predicted=("predicted", "mean"),
                     observed=("present", "mean"))
calibration["se"] = np.sqrt(calibration.predicted * (1 - calibration.predicted) / calibration.n)

fig, ax = plt.subplots(figsize=(5.5, 5.5))
ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", label="perfect calibration")
ax.errorbar(calibration.predicted, calibration.observed, yerr=1.96 * calibration.se, fmt="o",
            label=f"{len(people):,} simulated people x {len(m.causes)} causes")
ax.set_xlabel("predicted P(cause present)")
ax.set_ylabel("share of simulated people with the cause")
ax.set_title("Reliability diagram")
ax.legend(fontsize=8)
plt.show()
calibration
"""
    ),
    md("## Checks on what this notebook computed"),
    code(
        """
top1 = [r.top1_ok for r in evaluation.results if r.top1_ok is not None]
assert summary["top1_judged"] == len(judged) == int(confusion.to_numpy().sum())
assert np.isclose(summary["top1_accuracy"], sum(top1) / len(top1))
diagonal_share = np.trace(confusion.to_numpy()) / len(judged)
assert diagonal_share <= summary["top1_accuracy"] + 1e-12  # several first causes may be allowed
assert summary["under_triaged_emergencies"] == 0
well_filled = calibration[calibration.n >= 200]
assert len(well_filled) >= 5
assert np.all(np.abs(well_filled.observed - well_filled.predicted) <= 4 * well_filled.se + 0.005)
print("all checks passed")
"""
    ),
]

# ---------------------------------------------------------------------------- 03
SENSITIVITY = [
    md(
        """
# Which numbers matter? Sensitivity to the priors

Every number in `priors/default.yaml` comes with a plausible range. Moving one number to
the ends of its range, the others held at their values, shows how much each one drives a
conclusion: a *tornado chart* for one case, and, over the vignettes, which numbers can
change the first cause or the urgency.
"""
        + DISCLAIMER_CELL
    ),
    code(
        """
import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm import tqdm

from model import load_model
from model.analysis import vignette_sensitivity
from model.vignettes import load_vignettes

m = load_model()
vignettes = {v.id: v for v in load_vignettes(Path("..") / "tests" / "vignettes.yaml")}
print(f"{len(m.structure.parameters)} parameters, each moved to both ends of its range")
"""
    ),
    md(
        """
## Tornado charts

For two cases (a diabetic with numb feet; an infant who stopped sitting, whose sister has
a neuromuscular disease), the posterior of the first cause with each parameter at the low
end and at the high end of its range (the ten widest swings). The vertical line is the
posterior with every parameter at its value.
"""
    ),
    code(
        """
def tornado(ax, case_id, bars=10):
    evidence = dict(vignettes[case_id].findings)
    cause = m.diagnose(evidence).top
    result = m.sensitivity(evidence, cause)
    swings = result.swings[:bars][::-1]
    for i, s in enumerate(swings):
        ax.barh(i, s.posterior_high - result.posterior, left=result.posterior, color="#3182bd",
                label="parameter at the high end" if i == 0 else None)
        ax.barh(i, s.posterior_low - result.posterior, left=result.posterior, color="#e6550d",
                label="parameter at the low end" if i == 0 else None)
    ax.axvline(result.posterior, color="black", linewidth=0.8, label="every parameter at its value")
    ax.set_yticks(range(len(swings)), [s.path for s in swings], fontsize=7)
    ax.set_xlabel(f"P({cause} | answers)")
    ax.set_title(case_id, fontsize=9)
    return result


cases = ["neuropathy_vs_plmt_diabetic_numb_feet", "sma_infant_stopped_sitting"]
fig, axes = plt.subplots(len(cases), 1, figsize=(8, 3.4 * len(cases)))
tornadoes = {case: tornado(ax, case) for case, ax in zip(cases, axes)}
axes[0].legend(fontsize=7, loc="lower right")
fig.tight_layout()
plt.show()
"""
    ),
    md(
        """
## Across vignettes: which numbers can flip a conclusion?

`vignette_sensitivity` runs every vignette with every parameter at each end of its range
(509 models per vignette) and lists every *flip*: a change of the first cause or of the
urgency. A one-parameter change touches only a few of the network's tables, so the models
are grouped by the tables they change; all 55 vignettes take well under a minute.
"""
    ),
    code(
        """
chosen = list(vignettes.values())
print("vignettes:", ", ".join(v.id for v in chosen))

flips = []
for v in tqdm(chosen, desc="vignettes"):
    flips.extend(vignette_sensitivity(m, [v]))
print(f"{len(chosen)} vignettes, {len(flips)} flips")
"""
    ),
    code(
        """
table = pd.DataFrame([dataclasses.asdict(f) for f in flips])
table["what"] = np.where(table.top1_before != table.top1_after, "first cause", "urgency only")
counts = table.groupby(["path", "what"]).size().unstack(fill_value=0)
counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index[:15]]

fig, ax = plt.subplots(figsize=(8, 5))
counts[::-1].plot.barh(stacked=True, ax=ax, color={"first cause": "#3182bd", "urgency only": "#e6550d"})
ax.set_xlabel("flips (vignette x range end)")
ax.set_title("Parameters that change a vignette's first cause or urgency")
plt.show()
table.groupby("vignette").size().sort_values(ascending=False).rename("flips").to_frame()
"""
    ),
    md("## Checks on what this notebook computed"),
    code(
        """
paths = {p.path for p in m.structure.parameters}
for case, result in tornadoes.items():
    widths = [s.swing for s in result.swings]
    assert widths == sorted(widths, reverse=True)
    assert all(0 <= s.posterior_low <= 1 and 0 <= s.posterior_high <= 1 for s in result.swings)
    assert {s.path for s in result.swings} == paths
chosen_ids = {v.id for v in chosen}
assert all(f.vignette in chosen_ids and f.path in paths for f in flips)
assert all((f.top1_before, f.urgency_before) != (f.top1_after, f.urgency_after) for f in flips)
before = {v.id: m.diagnose(dict(v.findings)).top for v in chosen}
assert all(f.top1_before == before[f.vignette] for f in flips)
print("all checks passed")
"""
    ),
]

# ---------------------------------------------------------------------------- 04
UNCERTAINTY = [
    md(
        """
# How sure is the differential? Posterior intervals from the prior ranges

The priors give each number a plausible range. Drawing every number at once from a
distribution that matches its range (a Beta for probabilities, a log-normal for odds
ratios) and recomputing the posteriors gives each cause a 90 % interval, and shows how
often the first-ranked cause would change if the numbers were elsewhere in their ranges.
"""
        + DISCLAIMER_CELL
    ),
    code(
        """
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm import tqdm

from model import load_model
from model.vignettes import load_vignettes

m = load_model()
vignettes = load_vignettes(Path("..") / "tests" / "vignettes.yaml")
by_id = {v.id: v for v in vignettes}
"""
    ),
    md(
        """
## Intervals for three cases

Dots are the posteriors with every number at its value; bars are the 5 % to 95 %
quantiles over 1,000 draws of all the numbers together.
"""
    ),
    code(
        """
cases = ["neuropathy_vs_plmt_diabetic_numb_feet", "hypnic_vs_plmd_stress", "myopathy_vs_als_lupus"]
results = {}
fig, axes = plt.subplots(1, len(cases), figsize=(15, 4.5), sharey=True)
for ax, case in zip(axes, cases):
    evidence = dict(by_id[case].findings)
    u = m.uncertainty(evidence, draws=1000, seed=0)
    point = m.posterior(evidence)
    results[case] = (u, point)
    y = np.arange(len(m.causes))
    median = np.array([c.median for c in u.causes])
    low = np.array([c.low for c in u.causes])
    high = np.array([c.high for c in u.causes])
    ax.errorbar(median, y, xerr=[median - low, high - median], fmt="|", color="#3182bd",
                label="median and 90 % interval over the draws")
    ax.plot([point[c] for c in m.causes], y, "o", color="black", markersize=4,
            label="every number at its value")
    ax.set_xscale("log")
    ax.set_xlim(1e-5, 1)
    ax.set_title(case, fontsize=9)
    ax.set_xlabel("P(cause present | answers)")
axes[0].set_yticks(np.arange(len(m.causes)), m.causes)
axes[0].legend(fontsize=7, loc="lower left")
fig.tight_layout()
plt.show()
pd.DataFrame(
    {case: {c.cause: c.first_rank_share for c in u.causes} for case, (u, _) in results.items()}
).round(3)
"""
    ),
    md(
        """
## How often does the first rank flip?

For every vignette: the share of 100 parameter draws in which the first-ranked cause is
not the one the model ranks first with every number at its value.
"""
    ),
    code(
        """
flip = {}
for v in tqdm(vignettes, desc="vignettes"):
    evidence = dict(v.findings)
    first = m.causes.index(m.diagnose(evidence).top)
    u = m.uncertainty(evidence, draws=100, seed=1)
    flip[v.id] = float(np.mean(np.argmax(u.samples, axis=1) != first))
flip = pd.Series(flip).sort_values()

fig, ax = plt.subplots(figsize=(7, 9))
ax.barh(flip.index, flip.to_numpy(), color=np.where(flip > 0.2, "#e6550d", "#3182bd"))
ax.axvline(0.2, color="#999999", linestyle="--", linewidth=0.8)
ax.tick_params(axis="y", labelsize=6)
ax.set_xlabel("share of draws where the first-ranked cause changes")
ax.set_title("Stability of the first cause under the prior ranges")
plt.show()
print(f"median {flip.median():.0%}; {int((flip > 0.2).sum())} of {len(flip)} vignettes "
      "flip in more than 20 % of the draws")
"""
    ),
    md("## Checks on what this notebook computed"),
    code(
        """
for case, (u, point) in results.items():
    assert u.samples.shape == (1000, len(m.causes))
    assert all(c.low <= c.median <= c.high for c in u.causes)
    assert np.isclose(sum(c.first_rank_share for c in u.causes), 1.0)
again = m.uncertainty(dict(by_id[cases[0]].findings), draws=1000, seed=0)
assert np.array_equal(again.samples, results[cases[0]][0].samples)  # reproducible by seed
assert len(flip) == len(vignettes) and flip.between(0, 1).all()
print("all checks passed")
"""
    ),
]

# ---------------------------------------------------------------------------- 05
POPULATION = [
    md(
        """
# A simulated population

The network is a generative model: draw an age group, then risk factors, then which
causes are present, then which findings each person has. Doing that for a large
population and running the engine over everyone asks a population-level question: how
often is each cause ranked first, compared with how often it is truly present? And an
exhaustive sweep over every combination of the main yes/no symptoms shows where each
cause takes the lead.

Sizes are chosen to keep this notebook under a minute on a 2-core machine: 100,000
simulated people (about 11,000 of whom have toe twitching and are diagnosed, each with
every question answered), and all 1,024 combinations of ten symptoms in each of the four
age groups (4,096 differentials).
"""
        + DISCLAIMER_CELL
    ),
    code(
        """
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm import tqdm

from model import load_model

m = load_model()
rng = np.random.default_rng(2026)
"""
    ),
    md(
        """
## Forward sampling

Each variable in turn, parents before children: its table, indexed by the states already
drawn for its parents, gives each person's distribution, and one uniform number per
person picks the state. Everyone keeps the twitching they drew; only those with toe
twitching are diagnosed, because every query assumes it.
"""
    ),
    code(
        """
size = 100_000
drawn = {}
for variable in m.structure.variables:  # parents before children
    table = m.tables[variable][0]  # table[state, parent 1 state, parent 2 state, ...]
    parents = m.structure.parents(variable)
    if parents:
        probabilities = table[(slice(None), *(drawn[p] for p in parents))]
    else:
        probabilities = np.repeat(table[:, None], size, axis=1)
    u = rng.random(size)
    drawn[variable] = (u > np.cumsum(probabilities, axis=0)).sum(axis=0).clip(max=len(table) - 1)

twitching = drawn["toe_twitching"] == m.states["toe_twitching"].index("present")
population = {v: states[twitching] for v, states in drawn.items()}
n = int(twitching.sum())
print(f"{size:,} people simulated, {n:,} with toe twitching ({twitching.mean():.1%})")
"""
    ),
    md(
        """
## Diagnosing everyone

Every person answers every question. The engine runs in batches of 1,000 (a progress bar
shows the batches).
"""
    ),
    code(
        """
answers = [
    {f: m.states[f][population[f][i]] for f in m.findings} for i in range(n)
]
batches = [answers[i : i + 1000] for i in range(0, n, 1000)]
posteriors = np.vstack([m.posterior_batch(batch) for batch in tqdm(batches, desc="batches")])

truly_present = np.stack([population[c] == 1 for c in m.causes], axis=1)
first = np.argmax(posteriors, axis=1)
comparison = pd.DataFrame(
    {
        "truly present": truly_present.mean(axis=0),
        "mean P(present)": posteriors.mean(axis=0),
        "ranked first": np.bincount(first, minlength=len(m.causes)) / n,
        "first and present": [truly_present[first == k, k].mean() if (first == k).any() else np.nan
                              for k in range(len(m.causes))],
    },
    index=m.causes,
)
fig, ax = plt.subplots(figsize=(9, 4.5))
x = np.arange(len(m.causes))
ax.bar(x - 0.2, comparison["truly present"], 0.4, label="truly present")
ax.bar(x + 0.2, comparison["ranked first"], 0.4, label="ranked first")
ax.set_xticks(x, m.causes, rotation=45, ha="right")
ax.set_yscale("log")
ax.set_ylabel("share of people with toe twitching")
ax.set_title("How often each cause is present, and how often it is ranked first")
ax.legend()
plt.show()
comparison.round(4)
"""
    ),
    md(
        """
Causes that are common and have distinctive findings are ranked first about as often as
they are present; rare causes (ALS, SMA, Parkinson's disease) are present in a small share
and are ranked first only when their findings are strong, which the last column shows:
when the model ranks a cause first, how often the person truly has it.

## Exhaustive sweep over the main symptoms

All combinations of ten yes/no symptoms, in each age group, with nothing else answered.
The chart shows which cause comes first for how many combinations.
"""
    ),
    code(
        """
symptoms = ["onset_falling_asleep", "during_sleep", "after_exertion", "persists_2_weeks",
            "leg_pain", "cramp_stiffness", "numbness_tingling", "muscle_weakness",
            "widespread_twitching", "toe_curling"]
combinations = list(itertools.product(("absent", "present"), repeat=len(symptoms)))
sweep = [
    {"age_group": age, **dict(zip(symptoms, combination))}
    for age in m.states["age_group"]
    for combination in combinations
]
chunks = [sweep[i : i + 512] for i in range(0, len(sweep), 512)]
swept = np.vstack([m.posterior_batch(chunk) for chunk in tqdm(chunks, desc="sweep")])
leader = pd.DataFrame(
    {
        "age_group": [row["age_group"] for row in sweep],
        "first cause": [m.causes[k] for k in np.argmax(swept, axis=1)],
    }
)
counts = leader.groupby(["age_group", "first cause"]).size().unstack(fill_value=0)
counts = counts.loc[list(m.states["age_group"])]
counts = counts[[c for c in m.causes if c in counts.columns]]
counts.plot.barh(stacked=True, figsize=(9, 3.5), colormap="tab20")
plt.xlabel(f"combinations of {len(symptoms)} symptoms (of {len(combinations):,})")
plt.title("Which cause comes first, by age group")
plt.legend(fontsize=7, bbox_to_anchor=(1, 1))
plt.show()
"""
    ),
    md("## Checks on what this notebook computed"),
    code(
        """
assert posteriors.shape == (n, len(m.causes)) and 5_000 < n < 20_000
assert np.allclose(comparison["ranked first"].sum(), 1.0)
# The engine is exact and the people come from the same network, so the average
# predicted probability of each cause matches its true share up to sampling noise.
se = np.sqrt(comparison["truly present"] * (1 - comparison["truly present"]) / n)
assert np.all(np.abs(comparison["mean P(present)"] - comparison["truly present"]) <= 5 * se + 1e-4)
assert swept.shape == (4 * 2 ** len(symptoms), len(m.causes))
assert np.allclose(m.posterior_batch(sweep[:3]), swept[:3])
assert counts.to_numpy().sum() == len(sweep)
print("all checks passed")
"""
    ),
]

# ---------------------------------------------------------------------------- 06
INTEROP = [
    md(
        """
# The network in other tools

`model.interop.export_network` writes the network through pgmpy's writers as BIF, XMLBIF,
XDSL (GeNIe), NET (Hugin) or UAI. Here every format is written to a temporary folder and
pyAgrum, an independent library, reads the files back and runs its own exact inference
(`LazyPropagation`) on random cases, to compare with this project's engine.

The comparison has a known tolerance for each format, from the precision it prints and
the precision pyAgrum reads (`model.interop.posterior_error_bound`): XMLBIF is exact;
pyAgrum keeps BIF and NET numbers as single-precision floats (a relative 6e-8 per table
entry, at most about 1.4e-6 on a posterior).
"""
        + DISCLAIMER_CELL
    ),
    code(
        """
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyagrum as gum

from model import load_model
from model.interop import FORMATS, SINGLE_PRECISION, export_network, posterior_error_bound

warnings.filterwarnings("ignore", module="tqdm")  # pgmpy imports tqdm.auto (no widgets here)
m = load_model()
folder = Path(tempfile.mkdtemp(prefix="toe-twitch-interop-"))  # never inside the project
files = {name: export_network(m, folder / f"toe_twitch{fmt.extension}", name)
         for name, fmt in FORMATS.items()}
pd.DataFrame(
    {
        "file": [p.name for p in files.values()],
        "kilobytes": [round(p.stat().st_size / 1024) for p in files.values()],
        "digits": ["all" if f.decimals is None else f"{f.decimals} decimals" for f in FORMATS.values()],
        "labels": [f.labels or "(none)" for f in FORMATS.values()],
    },
    index=list(FORMATS),
)
"""
    ),
    md(
        """
## Random cases

200 evidence sets: each finding answered with probability 0.4, in a random state. The
project's engine gives the reference posteriors for every cause.
"""
    ),
    code(
        """
rng = np.random.default_rng(11)
cases = [
    {f: m.states[f][rng.integers(len(m.states[f]))] for f in m.findings if rng.random() < 0.4}
    for _ in range(200)
]
ours = m.posterior_batch(cases)
"""
    ),
    md(
        """
## pyAgrum reads the files and infers

pyAgrum knows XMLBIF by the extension `.bifxml`, so that file is copied under that name.
XDSL and UAI are left out here: for nodes with two or more parents pyAgrum 3.3.1 reads
their tables with the parents in the opposite order to SMILE's documentation and the UAI
format (the test suite checks those files' numbers directly).
"""
    ),
    code(
        """
reader_error = {"bif": SINGLE_PRECISION, "net": SINGLE_PRECISION, "xmlbif": 0.0}
measured = {}
for name in ["bif", "xmlbif", "net"]:
    path = files[name]
    if name == "xmlbif":
        path = path.with_suffix(".bifxml")
        path.write_bytes(files[name].read_bytes())
    start = time.perf_counter()
    bn = gum.loadBN(str(path))
    loaded = time.perf_counter() - start
    inference = gum.LazyPropagation(bn)
    theirs = np.empty_like(ours)
    for row, case in enumerate(cases):
        inference.setEvidence(m.check_evidence(case))  # adds the twitching every query assumes
        inference.makeInference()
        theirs[row] = [inference.posterior(c)[1] for c in m.causes]
    measured[name] = {
        "load": loaded,
        "largest": np.abs(theirs - ours).max(),
        "bound": posterior_error_bound(m, name, reader_error[name]),
        "posteriors": theirs,
    }
pd.DataFrame(
    {
        "pyAgrum load (s)": [f"{r['load']:.2f}" for r in measured.values()],
        "largest |pyAgrum - ours|": [f"{r['largest']:.1e}" for r in measured.values()],
        "bound": [f"{r['bound']:.1e}" for r in measured.values()],
    },
    index=list(measured),
)
"""
    ),
    code(
        """
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
names = list(measured)
left.bar(names, [max(measured[n]["largest"], 1e-17) for n in names], label="measured")
left.scatter(names, [measured[n]["bound"] for n in names], color="black", marker="_", s=900,
             label="bound from the printed and read precision")
left.set_yscale("log")
left.set_ylim(1e-13, 1e-4)
left.set_ylabel(f"largest |pyAgrum - ours|, {len(cases)} cases x {len(m.causes)} causes")
left.legend(fontsize=8, loc="upper left")
left.set_title("Agreement by format")
for n, marker in [("bif", "."), ("xmlbif", "x")]:
    difference = np.abs(measured[n]["posteriors"] - ours).ravel()
    right.loglog(ours.ravel(), np.maximum(difference, 1e-18), marker, markersize=3, alpha=0.5,
                 linestyle="none", label=n)
right.set_xlabel("P(cause | case), this project's engine")
right.set_ylabel("|pyAgrum - ours| (zeros drawn at 1e-18)")
right.set_title("Every posterior: single-precision BIF against exact XMLBIF")
right.legend(fontsize=8)
fig.tight_layout()
plt.show()
"""
    ),
    md(
        """
## And back again

A network file also loads as an inference-only model (`load_model("toe_twitch.xdsl")`):
it diagnoses, explains and asks questions, but has no ranges or sources, so the
sensitivity tools say they need a priors file.
"""
    ),
    code(
        """
from model import PriorsRequiredError

again = load_model(files["xdsl"])
roundtrip = np.abs(again.posterior_batch(cases) - ours).max()
print(f"XDSL round trip through load_model: largest difference {roundtrip:.1e}")
try:
    again.sensitivity(cases[0], "als")
except PriorsRequiredError as error:
    message = str(error)
print(message)
"""
    ),
    md("## Checks on what this notebook computed"),
    code(
        """
for name, result in measured.items():
    assert result["largest"] <= result["bound"], name
assert measured["xmlbif"]["largest"] < 1e-9
assert roundtrip <= posterior_error_bound(m, "xdsl")
assert "no ranges or sources; sensitivity needs a priors file" in message
project = Path.cwd().resolve().parent  # the notebook runs in notebooks/
assert not any(project in p.resolve().parents for p in files.values())  # nothing written there
print("all checks passed")
"""
    ),
]

NOTEBOOKS = {
    "01_tour.ipynb": TOUR,
    "02_vignettes.ipynb": VIGNETTES,
    "03_sensitivity.ipynb": SENSITIVITY,
    "04_uncertainty.ipynb": UNCERTAINTY,
    "05_population.ipynb": POPULATION,
    "06_interop.ipynb": INTEROP,
}


def build() -> dict[str, nbformat.NotebookNode]:
    """Every notebook, as nbformat objects without outputs."""
    notebooks = {}
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=copy.deepcopy(cells))
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{Path(name).stem}-{i:02d}"  # stable ids: rebuilding changes nothing
        nb.metadata["kernelspec"] = dict(KERNEL)
        nb.metadata["language_info"] = {"name": "python"}
        notebooks[name] = nb
    return notebooks


def main() -> int:
    for name, nb in build().items():
        nbformat.validate(nb)
        (FOLDER / name).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        print(f"wrote notebooks/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
