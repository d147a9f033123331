"""The serving tests share the registry's trained versions and its served model."""

from tests.registry.conftest import reg, served, trained, trained_template  # noqa: F401 (fixtures)
