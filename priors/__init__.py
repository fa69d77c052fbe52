"""The priors data files, installed as the package ``toe_twitch_priors``.

Nothing here is code: ``default.yaml`` holds every number of the model. Read it through
:func:`model.resources.default_priors_path`.
"""
