# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A simulated population
#
# The network is a generative model: draw an age group, then the risk factors, then which
# causes are present, then which findings each person has. Doing that for a large
# population and diagnosing everyone at once asks a population-level question: how often
# is each cause ranked first, compared with how often it is truly present? And a sweep
# over every combination of the main yes/no symptoms, in each age group, shows where
# each cause takes the lead.
#
# Sizes keep this notebook near half a minute on a 2-core machine: 100,000 simulated
# people (about 6,000 of whom have toe twitching and are diagnosed), and all 1,024
# combinations of ten symptoms in each of the four age groups (4,096 differentials).
#
# > This model explains likelihoods; it does not diagnose. In an emergency, call your local
# > emergency services.

# %%
import itertools
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from toe_twitch import load_model

# pgmpy warns about its own renamed modules when its sampler is imported, and its tqdm.auto
# that ipywidgets is missing (its progress bar is shown as text instead); not about us.
warnings.filterwarnings("ignore", category=FutureWarning, module="pgmpy")
warnings.filterwarnings("ignore", message="IProgress not found")
from pgmpy.sampling import BayesianModelSampling  # noqa: E402

m = load_model()
rng = np.random.default_rng(2026)

# %% [markdown]
# ## Forward sampling with pgmpy
#
# `m.network` is the same network as a pgmpy `DiscreteBayesianNetwork` (the same tables
# the engine uses); pgmpy's `forward_sample` draws each variable in turn, parents before
# children. Only the people who have toe twitching are kept: every query assumes it, so
# the model describes them and nobody else.

# %%
size = 100_000
sample = BayesianModelSampling(m.network).forward_sample(size=size, seed=2026, show_progress=True)
people = sample[sample["toe_twitching"] == "present"].reset_index(drop=True)
n = len(people)
print(f"{size:,} people simulated, {n:,} with toe twitching ({n / size:.1%})")
people[["age_group", *m.causes]].head()

# %% [markdown]
# ## Diagnosing everyone in one batch
#
# The answers go to the engine as a pandas DataFrame, one column per question, an empty
# cell meaning *unknown*. Each person leaves a fifth of the questions unanswered, at
# random (so *unknown* says nothing about the answer, as the model assumes). `m.query`
# returns every cause's probability and the "none of these causes" share for every row.

# %%
answers = people[m.findings].mask(rng.random((n, len(m.findings))) < 0.2)
display(answers.iloc[:3, :8])
posteriors = m.query(answers)
probability = posteriors.marginals  # (people, causes)

truly_present = people[m.causes].eq("present").to_numpy()
truly_none = ~truly_present.any(axis=1)
first = np.argmax(probability, axis=1)
first_is_present = truly_present[np.arange(n), first]
comparison = pd.DataFrame(
    {
        "truly present": truly_present.mean(axis=0),
        "mean P(present)": probability.mean(axis=0),
        "ranked first": np.bincount(first, minlength=len(m.causes)) / n,
        "present when ranked first": [
            truly_present[first == k, k].mean() if (first == k).any() else np.nan
            for k in range(len(m.causes))
        ],
        "ranked first when present": [
            (first[truly_present[:, k]] == k).mean() if truly_present[:, k].any() else np.nan
            for k in range(len(m.causes))
        ],
    },
    index=m.causes,
)
comparison.loc["none of these causes"] = [
    truly_none.mean(),
    posteriors.no_listed_cause.mean(),
    np.nan,
    np.nan,
    np.nan,
]

fig, ax = plt.subplots(figsize=(9, 4.5))
x = np.arange(len(m.causes))
ax.bar(x - 0.2, comparison["truly present"][: len(m.causes)], 0.4, label="truly present")
ax.bar(x + 0.2, comparison["ranked first"][: len(m.causes)], 0.4, label="ranked first")
ax.set_xticks(x, m.causes, rotation=45, ha="right")
ax.set_yscale("log")
ax.set_ylabel("share of people with toe twitching")
ax.set_title("How often each cause is present, and how often it is ranked first")
ax.legend()
plt.show()
print(
    f"The first-ranked cause is truly present for {first_is_present.mean():.1%} of people "
    f"(the model expects {probability.max(axis=1).mean():.1%}); "
    f"{truly_none.mean():.1%} have none of the listed causes."
)
comparison.round(4)

# %% [markdown]
# Common causes with distinctive findings are ranked first about as often as they are
# present. Rare causes (ALS, SMA) are present in a small share of people and are ranked
# first only when their findings are strong: the last two columns say how often the
# first-ranked cause is truly there, and how often a present cause makes it to the top.
# Several causes can be present at once, so a person can have a cause that is not ranked
# first even when the first one is right.
#
# Among the people ranked first with each cause (rows, with how many they are), the
# share who truly have each cause (columns):

# %%
ranked = [k for k in range(len(m.causes)) if (first == k).any()]
share = pd.DataFrame(
    [truly_present[first == k].mean(axis=0) for k in ranked],
    index=pd.Index(
        [f"{m.causes[k]} ({(first == k).sum():,})" for k in ranked], name="ranked first"
    ),
    columns=pd.Index(m.causes, name="truly present"),
)
share["none"] = [truly_none[first == k].mean() for k in ranked]
fig, ax = plt.subplots(figsize=(9, 5.5))
ax.imshow(share.to_numpy(), cmap="Blues", vmin=0, vmax=1)
ax.set_xticks(range(share.shape[1]), share.columns, rotation=60, ha="right")
ax.set_yticks(range(share.shape[0]), share.index)
for (i, j), value in np.ndenumerate(share.to_numpy()):
    if value >= 0.05:
        ax.text(j, i, f"{value:.0%}", ha="center", va="center", fontsize=7)
ax.set_xlabel("truly present")
ax.set_ylabel("ranked first")
plt.show()

# %% [markdown]
# ## Every combination of ten symptoms, in each age group
#
# All 1,024 combinations of ten yes/no symptoms, in each of the four age groups, with
# nothing else answered: 4,096 differentials in one batch. The chart shows which cause
# comes first for how many combinations; the table gives the median "none of these
# causes" share.

# %%
symptoms = [
    "onset_falling_asleep",
    "during_sleep",
    "persists_2_weeks",
    "leg_pain",
    "cramp_stiffness",
    "numbness_tingling",
    "muscle_weakness",
    "widespread_twitching",
    "toe_curling",
    "resting_tremor",
]
combinations = list(itertools.product(("absent", "present"), repeat=len(symptoms)))
sweep = pd.DataFrame(
    [
        {"age_group": age, **dict(zip(symptoms, combination, strict=True))}
        for age in m.states["age_group"]
        for combination in combinations
    ]
)
swept = m.query(sweep)
sweep["first cause"] = [m.causes[k] for k in np.argmax(swept.marginals, axis=1)]
sweep["none of these"] = swept.no_listed_cause

leaders = sweep.groupby(["age_group", "first cause"]).size().unstack(fill_value=0)
leaders = leaders.loc[list(m.states["age_group"]), [c for c in m.causes if c in leaders.columns]]
ax = leaders.plot.barh(stacked=True, figsize=(9, 3.5), colormap="tab20")
ax.invert_yaxis()
ax.set_xlabel(f"combinations of {len(symptoms)} symptoms (of {len(combinations):,})")
ax.set_title("Which cause comes first, by age group")
ax.legend(fontsize=7, bbox_to_anchor=(1, 1))
plt.show()
sweep.groupby("age_group", sort=False)["none of these"].describe()[["min", "50%", "max"]]

# %% [markdown]
# ## Checks on what this notebook computed
#
# The people are drawn from the model's own joint distribution and their unknown answers
# are unknown at random, so an exact engine must reproduce the population's shares on
# average: the mean P(present) of each cause is its true share, the mean "none of these
# causes" share is the share with no listed cause, and the first-ranked cause is present
# as often as its probability says, each up to sampling noise (five standard errors).
# The DataFrame path and the list-of-dicts path give the same numbers.


# %%
def within_noise(predicted, observed, tolerance=5):
    se = np.sqrt(np.maximum(predicted * (1 - predicted), 1e-12) / n)
    return np.abs(predicted - observed) <= tolerance * se + 1e-4


assert 3_000 < n < 12_000 and probability.shape == (n, len(m.causes))
assert np.isclose(comparison["ranked first"].sum(), 1.0)
assert within_noise(comparison["mean P(present)"], comparison["truly present"]).all()
assert within_noise(probability.max(axis=1).mean(), first_is_present.mean())
as_dicts = [row.dropna().to_dict() for _, row in answers.iloc[:50].iterrows()]
assert np.allclose(m.posterior_batch(as_dicts), probability[:50], rtol=1e-12, atol=1e-15)

assert len(sweep) == len(m.states["age_group"]) * 2 ** len(symptoms)
assert leaders.to_numpy().sum() == len(sweep)
one = sweep.iloc[1234][["age_group", *symptoms]].to_dict()
assert np.allclose(m.posterior(one)[sweep.iloc[1234]["first cause"]], swept.marginals[1234].max())
print("all checks passed")
