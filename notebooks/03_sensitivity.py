# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Which numbers matter? Sensitivity to the priors
#
# Every number in the priors file (a prevalence, an odds ratio, a link probability, a
# leak, an urgency threshold) comes with a plausible range and a source. Moving one number
# to an end of its range, the others held at their values, shows how much that number
# drives a conclusion: a *tornado chart* for one case, and, over the vignettes, which
# numbers can change the first cause or the urgency.
#
# > This model explains likelihoods; it does not diagnose. In an emergency, call your local
# > emergency services.

# %%
import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm import tqdm

from toe_twitch import load_model, sensitivity
from toe_twitch.analysis import VignetteFlip, vignette_sensitivity
from toe_twitch.vignettes import load_vignettes

m = load_model()
vignettes = {v.id: v for v in load_vignettes()}
parameters = m.structure.parameters
print(f"{len(parameters)} parameters, each moved to both ends of its range")
pd.Series([p.kind for p in parameters]).value_counts().rename("parameters").to_frame()

# %% [markdown]
# ## Tornado charts
#
# For two cases (a diabetic with numb feet; an infant who stopped sitting, whose sister
# has a neuromuscular disease), the posterior of the first cause with each parameter at
# the low end and at the high end of its range: the twelve widest swings. The vertical
# line is the posterior with every parameter at its value. `sensitivity` runs the two
# models per parameter in one engine batch.


# %%
def tornado(ax, vignette_id, bars=12):
    evidence = dict(vignettes[vignette_id].findings)
    cause = m.diagnose(evidence).top
    result = sensitivity(m, evidence, cause)
    swings = result.swings[:bars][::-1]
    for i, s in enumerate(swings):
        for end, colour in [("high", "#3182bd"), ("low", "#e6550d")]:
            moved = getattr(s, f"posterior_{end}")
            ax.barh(
                i,
                moved - result.posterior,
                left=result.posterior,
                color=colour,
                label=f"parameter at the {end} end" if i == 0 else None,
            )
    ax.axvline(result.posterior, color="black", linewidth=0.8, label="every parameter at its value")
    ax.set_yticks(range(len(swings)), [s.path for s in swings], fontsize=7)
    ax.set_xlabel(f"P({cause} | answers)")
    ax.set_title(vignette_id, fontsize=9)
    return evidence, result


cases = ["neuropathy_vs_plmt_diabetic_numb_feet", "sma_infant_stopped_sitting"]
fig, axes = plt.subplots(len(cases), 1, figsize=(8, 3.8 * len(cases)))
tornadoes = {case: tornado(ax, case) for case, ax in zip(cases, axes, strict=True)}
axes[0].legend(fontsize=7, loc="lower left")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Across vignettes: which numbers can flip a conclusion?
#
# `vignette_sensitivity` runs a vignette with every parameter at each end of its range
# (the base model and two per parameter) and lists every *flip*: a change of the first
# cause or of the urgency. It takes about a second per vignette on a 2-core machine, so
# this notebook runs **a subset**: the first vignette of each expected first cause, and
# the first that expects no listed cause (13 of the 111 vignettes, about 15 s). Set
# `ALL_VIGNETTES = True` to run all of them (about two minutes).

# %%
ALL_VIGNETTES = False

if ALL_VIGNETTES:
    chosen = list(vignettes.values())
else:
    first_of_each = {}
    for v in vignettes.values():
        first_of_each.setdefault(v.expect.top1[0] if v.expect.top1 else "(none listed)", v)
    chosen = list(first_of_each.values())
print(f"{len(chosen)} vignettes:", ", ".join(v.id for v in chosen))

flips = []
for v in tqdm(chosen, desc="vignettes"):
    flips.extend(vignette_sensitivity(m, [v]))
print(f"{len(flips)} flips")

# %% [markdown]
# How fragile is each conclusion? The chart counts, per vignette, the parameter moves
# (parameter x range end) that change its first cause or its urgency; the table lists
# each of them.

# %%
table = pd.DataFrame(
    [dataclasses.asdict(f) for f in flips],
    columns=[field.name for field in dataclasses.fields(VignetteFlip)],
)
table["what"] = np.select(
    [table.top1_after.isna(), table.top1_before != table.top1_after],
    ["answers impossible", "first cause"],
    "urgency only",
)
palette = {"first cause": "#3182bd", "urgency only": "#e6550d", "answers impossible": "#777777"}
per_vignette = (
    table.groupby(["vignette", "what"])
    .size()
    .unstack(fill_value=0)
    .reindex(index=[v.id for v in chosen], columns=list(palette), fill_value=0)
)
fig, ax = plt.subplots(figsize=(8, 4.5))
per_vignette[::-1].plot.barh(stacked=True, ax=ax, color=list(palette.values()))
ax.legend(loc="lower right", fontsize=8)
ax.set_xlabel(f"parameter moves that change the conclusion (of {2 * len(parameters)})")
ax.set_ylabel("")
ax.set_title("How many single-number moves change each vignette's conclusion")
ax.tick_params(axis="y", labelsize=7)
plt.show()
table.sort_values(["vignette", "path", "end"]).set_index(["vignette", "path", "end"])

# %% [markdown]
# ## Checks on what this notebook computed
#
# Each tornado covers every parameter once, widest swing first, and its widest swing is
# reproduced by hand: the parameter vector with that one number at its end, through
# `m.posteriors_under`. Every flip is a real change, starts from the vignette's own first
# cause, and a first-cause flip is reproduced the same way.


# %%
def posterior_with(path, end, evidence):
    theta = m.structure.values().copy()
    parameter = parameters[m.structure.index[path]]
    theta[m.structure.index[path]] = getattr(parameter, end)
    return m.posteriors_under(theta[None, :], evidence).marginals[0]


paths = {p.path for p in parameters}
for evidence, result in tornadoes.values():
    widths = [s.swing for s in result.swings]
    assert widths == sorted(widths, reverse=True)
    assert {s.path for s in result.swings} == paths and len(result.swings) == len(paths)
    assert np.isclose(result.posterior, m.diagnose(evidence).probabilities[result.cause])
    widest = result.swings[0]
    k = m.causes.index(result.cause)
    assert np.isclose(posterior_with(widest.path, "high", evidence)[k], widest.posterior_high)
    assert np.isclose(posterior_with(widest.path, "low", evidence)[k], widest.posterior_low)

chosen_ids = {v.id for v in chosen}
assert all(f.vignette in chosen_ids and f.path in paths for f in flips)
assert all((f.top1_before, f.urgency_before) != (f.top1_after, f.urgency_after) for f in flips)
before = {v.id: m.diagnose(dict(v.findings)).top for v in chosen}
assert all(f.top1_before == before[f.vignette] for f in flips)
first_cause_flips = [f for f in flips if f.top1_after not in (None, f.top1_before)]
assert first_cause_flips, "some parameter should be able to change some first cause"
flip = first_cause_flips[0]
after = posterior_with(flip.path, flip.end, dict(vignettes[flip.vignette].findings))
assert m.causes[int(np.argmax(after))] == flip.top1_after
print("all checks passed")
