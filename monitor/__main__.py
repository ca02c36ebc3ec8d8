"""``monitor`` and ``python -m monitor``: stop signals are held before anything is imported."""

from monitor import signals


def main() -> None:
    signals.hold()
    from monitor.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
