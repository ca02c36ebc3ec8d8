"""Bytes to items, pure: encodings, the pre-scan, feedparser, autodiscovery, links, cleaning text."""
