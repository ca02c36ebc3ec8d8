"""The fetcher: httpx's client, redirects followed by hand, capped bodies, per-host politeness."""
