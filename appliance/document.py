"""Configuration documents (JSON or YAML) read as untrusted input, and written as YAML.

- YAML goes through libyaml, PyYAML's C parser and emitter, when the installed PyYAML has it
  (`yaml.__with_libyaml__`; the PyPI wheels do), else through the pure-Python ones. Parsing is the
  cost a sender controls: libyaml reads a 600 KB document about four times faster.
- YAML 1.1 reads 12:30 as the base-60 number 750: without that rule "start: 12:30" stays a time.
- No anchors or aliases: a small document cannot expand into a huge one.
- At most MAX_NODES values (scalars, lists and objects together: an exported monitor has 34, so
  any export that fits the 1 MiB body limit, some 3,000 monitors, stays under it) and MAX_DEPTH
  levels of nesting (a configuration needs five). A YAML parse stops as soon as it passes
  MAX_NODES.

Every problem is a DocumentError: one sentence saying what is wrong and what to do.
"""

from __future__ import annotations

import json
import re

import yaml

MAX_NODES = 150_000
MAX_DEPTH = 32
LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))


class DocumentError(Exception):
    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class _TooManyNodes(Exception):
    pass


def _too_many() -> DocumentError:
    return DocumentError(f"The document has more than {MAX_NODES:,} values (lists, objects and scalars together); "
                         "split it into several imports.", {"body": f"more than {MAX_NODES} values"})


def _too_deep() -> DocumentError:
    return DocumentError(f"The document is nested more than {MAX_DEPTH} levels deep; a configuration needs "
                         "no more than a few.", {"body": f"nested more than {MAX_DEPTH} levels"})


_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


def _without_base_60(loader: type) -> type:
    """The loader with YAML 1.1's int and float rules minus their base-60 forms (12:30)."""
    loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
    loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
    return loader


class _Counting:
    """Counts the nodes as the parser resolves them (the C parser calls back into Python for
    each one), so a huge document is refused after MAX_NODES, not after parsing all of it."""

    def __init__(self, stream):
        super().__init__(stream)
        self.nodes = 0

    def resolve(self, kind, value, implicit):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooManyNodes
        return super().resolve(kind, value, implicit)


class _TooDeep(Exception):
    pass


class PureLoader(_Counting, yaml.SafeLoader):
    """The pure-Python composer recurses per level: it stops at MAX_DEPTH itself rather than at
    Python's recursion limit, whose RecursionError leaves half-run parser generators that fail
    again when the collector finalises them."""

    depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_without_base_60(PureLoader)
if LIBYAML:
    class FastLoader(_Counting, yaml.CSafeLoader):
        pass

    _without_base_60(FastLoader)
    _Dumper = yaml.CSafeDumper
else:  # pragma: no cover - PyYAML built without libyaml
    FastLoader = PureLoader
    _Dumper = yaml.SafeDumper


def read_document(raw: bytes, kind: str, loader: type | None = None):
    """The value a JSON (`kind` "json") or YAML ("yaml") text holds, within the limits above.
    `loader`: PureLoader or FastLoader (default: the fast one when there is one)."""
    if kind == "yaml":
        return _read_yaml(raw, loader or FastLoader)
    try:
        value = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise DocumentError(f"The body is not valid JSON ({_first_line(exc)}).", {"body": "not valid JSON"}) from None
    _measure(value, _json_children, aliases_possible=False)
    return value


def write_yaml(document) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def _read_yaml(raw: bytes, loader_class: type):
    loader = None
    try:
        loader = loader_class(raw)  # the pure-Python reader already checks the first characters
        node = loader.get_single_node()
        if node is None:  # an empty document
            return None
        _measure(node, _yaml_children, aliases_possible=True)
        return loader.construct_document(node)
    except _TooManyNodes:
        raise _too_many() from None
    except (_TooDeep, RecursionError):  # RecursionError: the constructor recurses too, within MAX_DEPTH
        raise _too_deep() from None
    except yaml.MarkedYAMLError as exc:
        if exc.problem == "exceeded maximum nesting depth":  # libyaml's own limit (1,000 levels)
            raise _too_deep() from None
        raise DocumentError(f"The body is not valid YAML ({_first_line(exc)}).", {"body": "not valid YAML"}) from None
    except (ValueError, yaml.YAMLError) as exc:  # e.g. a timestamp with a 13th month
        raise DocumentError(f"The body is not valid YAML ({_first_line(exc)}).", {"body": "not valid YAML"}) from None
    finally:
        if loader is not None:
            loader.dispose()


def _first_line(exc: Exception) -> str:
    line = (str(exc).splitlines() or [type(exc).__name__])[0]
    return line.split("; use sys.set_int_max_str_digits")[0][:200]  # advice for programmers, not senders


def _yaml_children(node):
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return ()


def _json_children(value):
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return value.values()
    return ()


def _measure(root, children, aliases_possible: bool) -> None:
    """Walk the tree without recursion: at most MAX_NODES nodes and MAX_DEPTH levels. In a YAML
    node graph an alias is a node met twice."""
    seen: set[int] = set()
    stack = [(root, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _too_many()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if aliases_possible:
            if id(node) in seen:
                raise DocumentError("The YAML uses an anchor and alias (& and *), which an import does not accept; "
                                    "write the values out.", {"body": "aliases are not allowed"})
            seen.add(id(node))
        stack.extend((child, depth + 1) for child in children(node))
