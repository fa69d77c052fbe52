"""The Network page (drawn by :mod:`ui.network`); listed in ui/app.py."""

from ui.network import render

render()
