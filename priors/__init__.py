"""The priors data files, installed as the package ``toe_twitch.priors_files``.

Nothing here is code: ``default.yaml`` holds every number of the model. Read it through
:func:`toe_twitch.resources.default_priors_path`.
"""
