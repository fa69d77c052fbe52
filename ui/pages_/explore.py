"""The Explore page (drawn by :mod:`ui.explore`); listed in ui/app.py."""

from ui.explore import render

render()
