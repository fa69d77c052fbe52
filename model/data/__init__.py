"""Data files of the model (vocabulary, advice, vignettes); see model.resources."""
