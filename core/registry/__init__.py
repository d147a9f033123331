"""Registry: named model versions, aliases, promotion through gates, and bundles.

`versions` registers versions and moves aliases (with their history), `gates` judges a
promotion, `modelcard` describes a version, `packaging` builds, verifies and imports
self-contained bundles, `manifest` checks a bundle's manifest, `tarsafety` reads untrusted
bundles into memory.
"""
