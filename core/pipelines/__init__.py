"""Pipelines: the CI/CD/CT steps of pitboard chained from one file, each stage cached by its inputs."""
