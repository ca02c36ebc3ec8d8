"""monitor: poll news feeds, match watchlists, deliver digests."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/monitor-alerts/monitor"
