"""The pages, one module each; every page is the ``render`` function of its module."""
