"""Digests in the reader's language: catalogs, locales, dates, and Serbian's two scripts."""
