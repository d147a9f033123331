"""Notifications: the outbox's events delivered to webhooks, Slack and local commands."""
