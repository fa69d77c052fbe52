"""Shared fixtures. The model is built once per test session.

Network access other than to this machine fails loudly: the tests must never depend on
the internet (CI has none).
"""

from __future__ import annotations

import importlib
import ipaddress
import os
import socket
from pathlib import Path

import pytest

from toe_twitch import load_model

ROOT = Path(__file__).resolve().parent.parent
VIGNETTES = ROOT / "model" / "data" / "vignettes.yaml"

_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6):
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise RuntimeError(f"tests must not reach the network (tried {address!r})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    socket.socket.connect = _guarded_connect
    yield
    socket.socket.connect = _real_connect


@pytest.fixture(scope="session")
def model():
    return load_model()


def edited_priors(changes: dict[str, float], base=None):
    """The shipped priors with some values replaced, each range widened to hold its value
    (tests use values at the ends of what the schema allows)."""
    from toe_twitch.priors import load_priors, priors_to_data, validate_priors_data

    data = priors_to_data(base or load_priors())
    for path, value in changes.items():
        node = data
        for part in path.split("."):
            node = node[part]
        node["value"] = value
        node["low"] = min(node["low"], value)
        node["high"] = max(node["high"], value)
    return validate_priors_data(data, "<test edit>")


def edited_model(changes: dict[str, float]):
    from toe_twitch import ToeTwitchModel

    return ToeTwitchModel.from_priors(edited_priors(changes), "<test edit>")


def require_browser(*modules: str) -> None:
    """Skip (or, under CI, fail) a browser test when Debian's chromium or one of the
    Python ``modules`` that drive it is missing; never downloads a browser."""
    from benchmarks import load

    def unavailable(reason: str) -> None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (required because CI is set)")
        pytest.skip(reason)

    if not load.CHROMIUM.exists():
        unavailable(
            f"{load.CHROMIUM} not found: install Debian's chromium (apt-get install chromium)"
        )
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            unavailable(f"{name} is not importable: pip install playwright axe-playwright-python")
