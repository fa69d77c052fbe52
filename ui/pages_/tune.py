"""The Tune page (drawn by :mod:`ui.tune`); listed in ui/app.py."""

from ui.tune import render

render()
