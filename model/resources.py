"""The data files the program reads, found through :mod:`importlib.resources`.

They are installed with the package, so the program works from a wheel in any folder:

* ``model/data/vocabulary.yaml`` (the ids), ``model/data/advice.yaml`` (the article's
  advice) and ``model/data/vignettes.yaml`` (the clinical vignettes the tests and the
  page's Validation view score);
* ``priors/default.yaml``, installed as the package ``toe_twitch.priors_files`` (the folder
  stays at the top of the repository, where clinicians find it).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PRIORS_PACKAGE = "toe_twitch.priors_files"


def _file(package: str, name: str) -> Path:
    return Path(str(resources.files(package).joinpath(name)))


def data_path(name: str) -> Path:
    """A file of ``model/data`` (``vocabulary.yaml``, ``advice.yaml``, ``vignettes.yaml``)."""
    return _file("toe_twitch.data", name)


def default_priors_path() -> Path:
    """The shipped priors file (``priors/default.yaml``)."""
    return _file(PRIORS_PACKAGE, "default.yaml")


def vignettes_path() -> Path:
    """The shipped clinical vignettes (``model/data/vignettes.yaml``)."""
    return data_path("vignettes.yaml")
