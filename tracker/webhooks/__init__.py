"""Webhooks: signed notifications to API clients' endpoints when records change."""
