"""Notifications to managers: the deliveries' Redis store, the SMTP and webhook senders, the notifier."""
