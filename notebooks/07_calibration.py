# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Calibration: when the model says 30%, is it 30%?
#
# A reliability diagram and the Brier score of the ranking over a large simulated
# population: per cause, per age group, and for the "none of these causes" share.
#
# **What this tests, and what it does not.** The people are drawn from the network's own
# joint distribution, so an exact engine *must* be calibrated on them: among the people
# given P(neuropathy) = 0.3, close to 30% have neuropathy in the simulation. A failure here
# means the engine, the sampler, the encoding of the answers or the handling of unknown
# answers disagree with the network: a check of the engine's **consistency**. It says
# nothing about **clinical truth**: a model with wrong priors is perfectly calibrated on
# its own simulated people. Calibration against real patients needs real outcomes, which
# this project does not have.
#
# > This model explains likelihoods; it does not diagnose. In an emergency, call your local
# > emergency services.

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from toe_twitch import NO_LISTED_CAUSE_LABEL, load_model

# pgmpy warns about its own renamed modules when its sampler is imported, and its tqdm.auto
# that ipywidgets is missing (its progress bar is shown as text instead); not about us.
warnings.filterwarnings("ignore", category=FutureWarning, module="pgmpy")
warnings.filterwarnings("ignore", message="IProgress not found")
from pgmpy.sampling import BayesianModelSampling  # noqa: E402

m = load_model()
ages = list(m.states["age_group"])
NONE = "none of these causes"
outcomes = [*m.causes, NONE]

# %% [markdown]
# ## A population drawn from the model
#
# 200,000 people from pgmpy's forward sampler on `m.network` (the network with the
# engine's own tables), of whom those with toe twitching are kept: every query assumes
# it. 200,000 rather than 100,000 so that even the smallest age group holds enough people
# for its own reliability diagram.

# %%
size = 200_000
sample = BayesianModelSampling(m.network).forward_sample(size=size, seed=7, show_progress=True)
people = sample[sample["toe_twitching"] == "present"].reset_index(drop=True)
n = len(people)
print(f"{size:,} people simulated, {n:,} with toe twitching")
people["age_group"].value_counts().reindex(ages).rename("people").to_frame()

# %% [markdown]
# ## Answers revealed at random, as a user would
#
# Nobody answers everything. Each person answers their age group with probability 0.9
# and each other question with a probability of their own, drawn uniformly between 0 and
# 1: some answer two questions, some nearly all. Which questions are left unknown does
# not depend on the answers, which is what the model assumes of an unknown answer (if
# people mentioned only the symptoms they have, "unknown" would mean "probably not", and
# this check would fail for that reason). Everyone is diagnosed in one engine batch.

# %%
rng = np.random.default_rng(7)
rate = rng.uniform(0, 1, size=(n, 1))
answered = rng.random((n, len(m.findings))) < rate
answered[:, m.findings.index("age_group")] = rng.random(n) < 0.9
answers = people[m.findings].where(answered)
print(f"{answered.sum(axis=1).mean():.1f} answers per person on average (of {len(m.findings)})")

posteriors = m.query(answers)
predicted = np.column_stack([posteriors.marginals, posteriors.no_listed_cause])
truth = people[m.causes].eq("present").to_numpy()
observed = np.column_stack([truth, ~truth.any(axis=1)])
age = people["age_group"].to_numpy()

# The same people with only their true age group: the forecast a clinician could make
# before asking anything. It is calibrated too, but knows less.
by_age = m.query(pd.DataFrame({"age_group": age}))
baseline = np.column_stack([by_age.marginals, by_age.no_listed_cause])

# %% [markdown]
# ## Reliability diagrams
#
# Every (person, cause) pair is one forecast: the predicted probability against whether
# the simulated person has the cause. Forecasts are grouped into bins (on a log scale,
# since most probabilities are small); each dot is a bin's mean predicted probability
# against the share of forecasts in it that came true, with 1.96 standard errors of that
# share under calibration (from the predictions). A calibrated model sits on the
# diagonal; the log-scale panel shows the small probabilities that most forecasts are.

# %%
edges = np.array([0, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.97, 1])


def reliability(p, y):
    """Per bin: forecasts, mean predicted, share observed, and the standard error of that
    share if the forecasts are calibrated."""
    p, y = np.ravel(p), np.ravel(y)
    bins = np.clip(np.digitize(p, edges) - 1, 0, len(edges) - 2)
    table = (
        pd.DataFrame({"bin": bins, "predicted": p, "observed": y, "variance": p * (1 - p)})
        .groupby("bin")
        .agg(
            n=("predicted", "size"),
            predicted=("predicted", "mean"),
            observed=("observed", "mean"),
            variance=("variance", "sum"),
        )
    )
    table["se"] = np.sqrt(table.pop("variance")) / table.n
    return table


def draw(ax, table, label=None, colour=None, log=False):
    shown = table[table.n >= 30]  # a bin with fewer forecasts says little
    ax.errorbar(
        shown.predicted,
        shown.observed,
        yerr=1.96 * shown.se,
        fmt="o",
        markersize=4,
        color=colour,
        label=label,
    )
    ax.plot([1e-4, 1], [1e-4, 1], color="#999999", linestyle="--", linewidth=0.8)
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(5e-4, 1.2)
        ax.set_ylim(5e-4, 1.2)
    else:
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    ax.set_xlabel("predicted probability")


first = np.argmax(posteriors.marginals, axis=1)
rows = np.arange(n)
tables = {
    "every cause": reliability(predicted[:, :-1], observed[:, :-1]),
    NONE: reliability(predicted[:, -1], observed[:, -1]),
    "the first-ranked cause": reliability(predicted[rows, first], observed[rows, first]),
}
panels = [
    ("every cause", tables["every cause"], False),
    ("every cause, log scale", tables["every cause"], True),
    (NONE, tables[NONE], False),
    ("the first-ranked cause", tables["the first-ranked cause"], False),
]
fig, axes = plt.subplots(1, len(panels), figsize=(18, 4.6))
for ax, (title, table, log) in zip(axes, panels, strict=True):
    draw(ax, table, log=log)
    ax.set_title(f"{title} ({int(table.n.sum()):,} forecasts)", fontsize=10)
axes[0].set_ylabel("share that came true")
fig.tight_layout()
plt.show()
print(f"third panel: {NO_LISTED_CAUSE_LABEL}")

# %% [markdown]
# The last panel is the calibration *of the ranking*: the probability of whichever
# cause is ranked first, against whether that cause is present. Picking the largest of
# twelve probabilities does not bias it, since the choice depends only on the answers.
#
# By age group, every cause pooled (blue) and the "none of these causes" share (orange):

# %%
fig, axes = plt.subplots(1, len(ages), figsize=(16, 4.2), sharey=True)
for ax, group in zip(axes, ages, strict=True):
    who = age == group
    draw(ax, reliability(predicted[who, :-1], observed[who, :-1]), "every cause", "#3182bd")
    draw(ax, reliability(predicted[who, -1], observed[who, -1]), NONE, "#e6550d")
    ax.set_title(f"{group} ({who.sum():,} people)")
axes[0].set_ylabel("share that came true")
axes[0].legend(fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Brier score, and a test of calibration
#
# The Brier score is the mean squared difference between the forecast and what happened
# (0 is perfect). For each cause and for the "none" share, the table gives:
#
# * **Brier** of the model, and **expected** under calibration, the mean of p(1 - p):
#   for a calibrated forecast the two agree up to noise;
# * **Brier, age only**: the same people forecast from their age group alone; **skill**
#   = 1 - Brier / Brier (age only), the share of that error the answers remove;
# * **z**, Spiegelhalter's test (Spiegelhalter 1986, *Statistics in Medicine* 5:421):
#   z = sum (y - p)(1 - 2p) / sqrt(sum (1 - 2p)^2 p (1 - p)), approximately standard
#   normal when the forecasts are calibrated. It is left empty where the cause is too
#   rare in this population for the test to mean anything (sum of p(1 - p) under 5).


# %%
def scores(p, y, p_age):
    """Brier, expected Brier, age-only Brier, skill and Spiegelhalter's z, per column."""
    variance = p * (1 - p)
    spread = ((1 - 2 * p) ** 2 * variance).sum(axis=0)
    z = ((y - p) * (1 - 2 * p)).sum(axis=0) / np.sqrt(spread)
    brier = ((p - y) ** 2).mean(axis=0)
    brier_age = ((p_age - y) ** 2).mean(axis=0)
    return pd.DataFrame(
        {
            "share present": y.mean(axis=0),
            "mean predicted": p.mean(axis=0),
            "Brier": brier,
            "expected": variance.mean(axis=0),
            "Brier, age only": brier_age,
            "skill": 1 - brier / brier_age,
            "z": np.where(variance.sum(axis=0) >= 5, z, np.nan),
        },
        index=outcomes,
    )


overall = scores(predicted, observed, baseline)
overall.style.format("{:.4f}").format("{:+.2f}", subset=["skill", "z"])

# %% [markdown]
# Per age group, Spiegelhalter's z for each cause (empty: too rare in that group to test)
# and the summed Brier score over the twelve causes and the "none" share:

# %%
per_age = {
    group: scores(predicted[age == group], observed[age == group], baseline[age == group])
    for group in ages
}
z_by_age = pd.DataFrame({group: table["z"] for group, table in per_age.items()})
brier_by_age = pd.DataFrame(
    {
        group: table[["Brier", "expected", "Brier, age only"]].sum()
        for group, table in per_age.items()
    }
).T
z_by_age.style.format("{:+.2f}", na_rep="").background_gradient(cmap="RdBu", vmin=-4, vmax=4)

# %%
brier_by_age.assign(skill=1 - brier_by_age["Brier"] / brier_by_age["Brier, age only"]).round(4)

# %% [markdown]
# ## Would the test notice a miscalibrated model?
#
# The same forecasts made overconfident, every log-odds stretched by half again
# (logit p' = 1.5 logit p): the ranking is unchanged, only the probabilities are too
# extreme. The reliability diagram bends away from the diagonal and z leaves the normal
# range by far.

# %%
logit = np.log(np.clip(predicted, 1e-12, 1)) - np.log(np.clip(1 - predicted, 1e-12, 1))
overconfident = 1 / (1 + np.exp(-1.5 * logit))
stretched = scores(overconfident, observed, baseline)

fig, ax = plt.subplots(figsize=(5.5, 4.8))
draw(ax, tables["every cause"], "the model", "#3182bd")
draw(ax, reliability(overconfident[:, :-1], observed[:, :-1]), "overconfident", "#d62728")
ax.set_ylabel("share that came true")
ax.legend(fontsize=8, loc="upper left")
plt.show()
pd.DataFrame({"z, the model": overall["z"], "z, overconfident": stretched["z"]}).round(
    1
).transpose()

# %% [markdown]
# ## Checks on what this notebook computed
#
# The model is calibrated on its own population: every testable z is within +-4 (overall
# and in each age group: some fifty tests, so a value beyond 4 by chance has odds of
# about 1 in 300), every well-filled bin of the reliability diagrams lies within four standard
# errors of the diagonal, the first-ranked cause is present as often as its probability
# says, and the Brier score matches its expectation under calibration. The answers carry
# information (positive skill over the age-only forecast), and the overconfident
# forecasts fail the same test.

# %%
assert 8_000 < n < 20_000 and predicted.shape == (n, len(outcomes))
testable = overall["z"].dropna()
assert len(testable) >= 9, "most causes are common enough to test"
assert (testable.abs() < 4).all(), testable[testable.abs() >= 4]
for group, table in per_age.items():
    z = table["z"].dropna()
    assert (z.abs() < 4).all(), (group, z[z.abs() >= 4])
assert abs(overall.loc[NONE, "z"]) < 4  # the "none of these causes" share is calibrated too

for table in [*tables.values()] + [
    reliability(predicted[age == g, :-1], observed[age == g, :-1]) for g in ages
]:
    filled = table[table.n >= 200]
    assert np.all(np.abs(filled.observed - filled.predicted) <= 4 * filled.se + 1e-3), filled

top = tables["the first-ranked cause"]
assert abs((top.n * (top.observed - top.predicted)).sum()) <= 4 * np.sqrt(
    (top.se**2 * top.n**2).sum()
)
brier, expected = overall["Brier"].sum(), overall["expected"].sum()
assert abs(brier - expected) / expected < 0.03
assert (overall["skill"] > 0).sum() >= 10 and overall["Brier"].sum() < overall[
    "Brier, age only"
].sum()
assert stretched["z"].abs().max() > 8  # the test has the power to see miscalibration
tests = len(testable) + sum(int(table["z"].notna().sum()) for table in per_age.values())
print(
    f"{tests} calibration tests, largest |z| {max(overall['z'].abs().max(), z_by_age.abs().max().max()):.1f}"
)
print("all checks passed")
