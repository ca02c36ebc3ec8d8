"""Polling: when a feed is due, what a poll changes, and the lanes that run polls."""
