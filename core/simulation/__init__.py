"""Simulation: replaying production traffic against a served model, and the demo story.

`simulate` sends recorded months as requests and labels; `demo` builds the whole story
of the README on the sample data with the same calls the CLI makes.
"""
