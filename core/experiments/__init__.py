"""Experiments: training scikit-learn models from a spec and recording what happened.

`specs` parses and checks training specs, `pipeline_builder` turns one into a
scikit-learn pipeline, `training` runs searches and cross-validation, `evaluation` scores
with the numba metric kernels, `runs` (and `run_filter`) record and query runs,
`provenance` notes code and library versions, `modelio` saves and loads models (skops).
"""
