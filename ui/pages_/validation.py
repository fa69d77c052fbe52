"""The Validation page (drawn by :mod:`ui.validation`); listed in ui/app.py."""

from ui.validation import render

render()
