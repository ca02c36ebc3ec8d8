"""A query's plan: its terms, the rarest terms that must be found before it is worth
evaluating (its triggers), and its tree compiled into one function of the terms found."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from monitor.match.query import All, Any, InTitle, Near, Node, Not, Term, Word, positive_terms

# field (0 title, 1 summary), first token, token after the last: as tuples, in reading order
Occurrence = tuple[int, int, int]
Place = tuple[int, Occurrence]  # a term and where it occurs
Found = dict[int, list[Occurrence]]  # term → its occurrences, in reading order (shared: never changed)
Evaluate = Callable[[Found], list[Place] | None]
Frequency = Callable[[Word], float]  # a query word's share of running text (monitor.match.frequency)
TITLE = 0


def terms_of(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not | InTitle):
        return terms_of(node.child)
    children = (node.left, node.right) if isinstance(node, Near) else node.children
    return [term for child in children for term in terms_of(child)]


def triggers(tree: Node, parts: list[list[Term]], frequency: Frequency) -> list[Term]:
    """The terms whose presence makes a query worth evaluating: those of one of its required
    ``parts`` (the rarest), all alternatives of an OR. A query that could match on absences
    alone ("-a OR b") is triggered by all its positive terms."""
    terms: list[Term] = rarest(parts, frequency) if parts else positive_terms(tree)
    return list(dict.fromkeys(terms))


def required_parts(node: Node, frequency: Frequency) -> list[list[Term]]:
    """The parts of ``node`` that must each have a term found for it to hold (none when it can
    hold without any): an AND's children's parts, an OR's alternatives' rarest parts as one."""
    if isinstance(node, Term):
        return [[node]]
    if isinstance(node, Not):
        return []
    if isinstance(node, InTitle):
        return required_parts(node.child, frequency)
    if isinstance(node, Any):
        alternatives = [required_parts(child, frequency) for child in node.children]
        if not all(alternatives):
            return []
        return [[term for parts in alternatives for term in rarest(parts, frequency)]]
    children = (node.left, node.right) if isinstance(node, Near) else node.children
    return [part for child in children for part in required_parts(child, frequency)]


def rarest(parts: list[list[Term]], frequency: Frequency) -> list[Term]:
    """The part least likely found: by the sum of its terms' chances, a phrase's being its
    rarest word's."""
    if len(parts) == 1:
        return parts[0]
    return min(parts, key=lambda terms: sum(min(map(frequency, term.words)) for term in terms))


def evaluator(node: Node, term_ids: Mapping[Term, int], field: int | None = None) -> Evaluate:
    """The query tree as one function of the terms found: which (term, occurrence) places make
    it true (none for a satisfied NOT), or None. Term ids and fields are resolved here, once."""
    if isinstance(node, Term):
        term = term_ids[node]

        def occurs(found: Found) -> list[Place] | None:
            occurrences = found.get(term)
            return None if occurrences is None else [(term, o) for o in occurrences]

        def occurs_in_field(found: Found) -> list[Place] | None:
            places = [(term, o) for o in found.get(term, ()) if o[0] == field]
            return places or None

        return occurs if field is None else occurs_in_field
    if isinstance(node, InTitle):
        return evaluator(node.child, term_ids, TITLE)
    if isinstance(node, Not):
        child = evaluator(node.child, term_ids, field)
        return lambda found: [] if child(found) is None else None
    if isinstance(node, All):
        children = [evaluator(child, term_ids, field) for child in node.children]

        def every(found: Found) -> list[Place] | None:
            collected: list[Place] = []
            for child in children:
                result = child(found)
                if result is None:
                    return None
                collected += result
            return collected

        return every
    if isinstance(node, Any):
        alternatives = [evaluator(child, term_ids, field) for child in node.children]

        def some(found: Found) -> list[Place] | None:
            results = [r for child in alternatives if (r := child(found)) is not None]
            return [place for r in results for place in r] if results else None

        return some
    left, right = evaluator(node.left, term_ids, field), evaluator(node.right, term_ids, field)
    distance = node.distance

    def near(found: Found) -> list[Place] | None:
        a_places, b_places = left(found), right(found)
        if a_places is None or b_places is None:
            return None
        close = {
            place
            for a in a_places
            for b in b_places
            if a[1][0] == b[1][0] and max(b[1][1] - a[1][2], a[1][1] - b[1][2]) <= distance
            for place in (a, b)
        }
        return sorted(close) or None

    return near
