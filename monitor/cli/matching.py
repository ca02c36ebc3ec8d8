"""`monitor match`: the config's watchlists tried on text given on the command line or stdin."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import click

from monitor.cli import options
from monitor.cli.context import Context


@click.command()
@click.option("--watchlist", "-w", "watchlists", metavar="NAME", multiple=True, help="Only these watchlists.")
@click.option("--text", help="Match this text (as a title) instead of JSON lines on stdin.")
@click.option(
    "--language",
    callback=options.language,
    help="Language hint for the input: en, sr, ru (default: guessed).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input line, in order.")
@click.option("--explain", is_flag=True, help="Show every query, term by term.")
@click.pass_obj
def match(
    context: Context,
    watchlists: tuple[str, ...],
    text: str | None,
    language: str | None,
    as_json: bool,
    explain: bool,
) -> None:
    """Test watchlists on text: JSON lines {"title", "summary", "language"} on stdin, or --text."""
    from monitor.cli.render import explained, json_line, shown, spans_json, spans_text
    from monitor.match.cache import cache_directory, compile_matcher

    config = context.config()
    for name in watchlists:
        config.watchlist(name)
    matcher = compile_matcher({w.name: w.queries for w in config.watchlists}, cache_directory())
    chosen = watchlists or None
    for number, (title, summary, hint) in enumerate(_read_inputs(text, language), start=1):
        if explain:
            click.echo(
                f"#{number} {shown(title[:70])}\n{explained(matcher.explain(title, summary, hint, chosen))}"
            )
            continue
        found = matcher.match(title, summary, hint, chosen)
        if as_json:
            matches = [
                {"watchlist": name, "query": m.query, "spans": spans_json(m.spans)}
                for name, listed in found.items()
                for m in listed
            ]
            click.echo(json_line({"matches": matches}))
            continue
        click.echo(f"#{number} {shown(title[:70])}")
        for name, listed in found.items():
            for m in listed:
                click.echo(shown(f"  {name}: {m.query}  →  {spans_text(m.spans)}"))
        if not found:
            click.echo("  no match")


def _read_inputs(text: str | None, language: str | None) -> Iterator[tuple[str, str, str | None]]:
    """``--text``, or JSON lines on stdin: (title, summary, language) per input."""
    if text is not None:
        yield text, "", language
        return
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            title, summary = data.get("title", ""), data.get("summary", "")
            if not isinstance(title, str) or not isinstance(summary, str):
                raise ValueError('"title" and "summary" must be strings')
        except ValueError as exc:
            raise click.UsageError(
                f"stdin line {number}: {exc}; write one JSON object per line, "
                'such as {"title": "...", "summary": "...", "language": "sr"}'
            ) from None
        yield title, summary, data.get("language") or language
