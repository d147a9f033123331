"""Reports for pull requests, CI logs and terminals: Markdown and versioned JSON from one document."""
