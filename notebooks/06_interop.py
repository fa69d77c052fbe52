# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The network in other tools
#
# `toe_twitch.interop.export_network` writes the network as BIF, XMLBIF, XDSL (GeNIe), NET
# (Hugin) or UAI. Here every format is written to a temporary folder and read back twice:
# by this project (`load_model("toe_twitch.bif")` gives an inference-only model), and by
# pyAgrum, an independent library that runs its own exact inference (`LazyPropagation`).
# Both are compared with this project's engine on random cases.
#
# Each comparison has a known tolerance, from the precision the format prints and the
# precision the reader keeps (`toe_twitch.interop.posterior_error_bound`): XMLBIF, BIF, NET
# and UAI print every digit; XDSL prints 16 decimals; pyAgrum keeps BIF and NET numbers as
# single-precision floats (a relative 6e-8 per table entry).
#
# > This model explains likelihoods; it does not diagnose. In an emergency, call your local
# > emergency services.

# %%
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyagrum as gum

from toe_twitch import PriorsRequiredError, load_model, sensitivity
from toe_twitch.interop import FORMATS, SINGLE_PRECISION, export_network, posterior_error_bound

# pgmpy imports tqdm.auto, which warns that ipywidgets is missing; it shows no bar here.
warnings.filterwarnings("ignore", message="IProgress not found")
m = load_model()
folder = Path(tempfile.mkdtemp(prefix="toe-twitch-interop-"))  # never inside the project
files = {
    name: export_network(m, folder / f"toe_twitch{fmt.extension}", name)
    for name, fmt in FORMATS.items()
}
pd.DataFrame(
    {
        "file": [p.name for p in files.values()],
        "kilobytes": [round(p.stat().st_size / 1024) for p in files.values()],
        "digits": [
            "all" if f.decimals is None else f"{f.decimals} decimals" for f in FORMATS.values()
        ],
        "names": [f.carries_names for f in FORMATS.values()],
        "labels": [f.labels or "(none)" for f in FORMATS.values()],
    },
    index=list(FORMATS),
)

# %% [markdown]
# ## Random cases
#
# 200 evidence sets: each question answered with probability 0.4, in a random state. The
# project's engine gives the reference posteriors for every cause.

# %%
rng = np.random.default_rng(11)
cases = [
    {f: m.states[f][rng.integers(len(m.states[f]))] for f in m.findings if rng.random() < 0.4}
    for _ in range(200)
]
reference = m.query(cases, impossible="mark")
possible = ~reference.impossible
cases = [c for c, ok in zip(cases, possible, strict=True) if ok]
ours = reference.marginals[possible]
print(f"{len(cases)} possible cases of 200 drawn")

# %% [markdown]
# ## Read back by this project
#
# A network file loads as an inference-only model: it diagnoses, explains and asks
# questions, but has no ranges or sources, so the sensitivity tools say they need a
# priors file. pgmpy's readers take about a minute for the BIF file and two for the NET
# file (the tables of the twitching's properties make them the largest), so this notebook
# reads those two with pyAgrum only, below; set `READ_EVERY_FORMAT = True` to read them
# back here too.

# %%
READ_EVERY_FORMAT = False

read_back = {}
for name, path in files.items():
    if name in ("bif", "net") and not READ_EVERY_FORMAT:
        continue
    start = time.perf_counter()
    again = load_model(path)
    loaded = time.perf_counter() - start
    theirs = again.query(cases).marginals
    read_back[name] = {
        "load (s)": loaded,
        "largest difference": np.abs(theirs - ours).max(),
        "bound": posterior_error_bound(m, name),
    }
pd.DataFrame(read_back).T.style.format("{:.2g}")

# %%
try:
    sensitivity(again, cases[0], "als")
except PriorsRequiredError as error:
    message = str(error)
print(message)

# %% [markdown]
# ## Read by pyAgrum
#
# pyAgrum knows XMLBIF by the extension `.bifxml`, so that file is copied under that name.
# XDSL and UAI are left out here: for nodes with two or more parents pyAgrum 3.3.1 reads
# their tables with the parents in the opposite order to SMILE's documentation and the UAI
# format (the test suite checks those files' numbers directly). Each case is given to
# pyAgrum with the twitching every query assumes (`m.reference_evidence`).

# %%
reader_error = {"bif": SINGLE_PRECISION, "net": SINGLE_PRECISION, "xmlbif": 0.0}
measured = {}
for name, error in reader_error.items():
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
        inference.setEvidence(m.reference_evidence(case))
        inference.makeInference()
        theirs[row] = [inference.posterior(c)[1] for c in m.causes]
    measured[name] = {
        "load": loaded,
        "largest": np.abs(theirs - ours).max(),
        "bound": posterior_error_bound(m, name, error),
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

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
names = list(measured)
left.bar(names, [max(measured[n]["largest"], 1e-17) for n in names], label="measured")
left.scatter(
    names,
    [measured[n]["bound"] for n in names],
    color="black",
    marker="_",
    s=900,
    label="bound from the printed and read precision",
)
left.set_yscale("log")
left.set_ylim(1e-17, 1e-4)
left.set_ylabel(f"largest |pyAgrum - ours|, {len(cases)} cases x {len(m.causes)} causes")
left.legend(fontsize=8, loc="upper left")
left.set_title("Agreement by format")
for n, marker in [("bif", "."), ("xmlbif", "x")]:
    difference = np.abs(measured[n]["posteriors"] - ours).ravel()
    right.loglog(
        ours.ravel(),
        np.maximum(difference, 1e-18),
        marker,
        markersize=3,
        alpha=0.5,
        linestyle="none",
        label=n,
    )
right.set_xlabel("P(cause | case), this project's engine")
right.set_ylabel("|pyAgrum - ours| (zeros drawn at 1e-18)")
right.set_title("Every posterior: single-precision BIF against exact XMLBIF")
right.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Checks on what this notebook computed
#
# Every reading, by this project or by pyAgrum, lies within the bound its format and
# reader allow; XMLBIF, which loses nothing, agrees to the engine's own accuracy; and
# nothing was written inside the project.

# %%
for name, result in read_back.items():
    assert result["largest difference"] <= result["bound"], name
for name, result in measured.items():
    assert result["largest"] <= result["bound"], name
assert measured["xmlbif"]["largest"] < 1e-9
assert "sensitivity needs a priors file" in message
project = Path.cwd().resolve().parent  # the notebook runs in notebooks/
assert not any(project in p.resolve().parents for p in files.values())
print("all checks passed")
