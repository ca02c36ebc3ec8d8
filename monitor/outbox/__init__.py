"""The outbox: messages (digests and alerts) recorded, then delivered by SMTP and Apprise, retried."""
