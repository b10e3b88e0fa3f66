"""Load checklist YAML files into `Checklist` objects, reporting every problem with its line.

The rules of the format live in `auditapp.domain.checklist.parse_checklist`; this module does
the byte- and YAML-level work around it: decoding, YAML syntax errors, duplicate keys (which a
YAML loader would otherwise silently overwrite), and mapping each problem's field path back to
a line of the file. Every problem reads ``FILE:LINE: field: message``.

Anchors and aliases (``&name`` / ``*name``, and merge keys ``<<: *name``) are refused on the
parser's event stream, before any document is built: a few hundred bytes of nested aliases
(a "billion laughs") otherwise expand into millions of values and seconds of work.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    Event,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from auditapp.domain.checklist import Checklist, ChecklistInvalid, format_path, parse_checklist

FILE_FIELD = "(file)"
YAML_FIELD = "(yaml)"
# A file of nothing but aliases would otherwise give a problem list as long as the file.
MAX_ALIAS_PROBLEMS = 20


class ChecklistFormatError(Exception):
    """A checklist file cannot be loaded; `problems` lists each as ``FILE:LINE: field: msg``."""

    def __init__(self, problems: list[str]) -> None:
        """Keep every problem line."""
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        """All problems, one per line."""
        return "\n".join(self.problems)


def load_checklist_file(path: str | os.PathLike[str]) -> Checklist:
    """Read and validate a checklist YAML file (UTF-8); raise `ChecklistFormatError`."""
    name = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ChecklistFormatError([f"{name}:1: {FILE_FIELD}: file not found"]) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise ChecklistFormatError([f"{name}:1: {FILE_FIELD}: cannot read: {reason}"]) from None
    try:
        # utf-8-sig: editors on Windows like to prepend a byte-order mark.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        byte = raw[error.start]
        message = f"not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
        raise ChecklistFormatError([f"{name}:{line}: {FILE_FIELD}: {message}"]) from None
    return load_checklist_text(text, name)


def load_checklist_text(text: str, filename: str) -> Checklist:
    """Validate checklist YAML given as text; `filename` only labels the problems."""
    if not text.strip():
        raise ChecklistFormatError([f"{filename}:1: {FILE_FIELD}: the file is empty"])
    try:
        # Aliases first, on the event stream: nothing has been built or expanded yet.
        aliases = list(_anchors_and_aliases(_yaml(allow_duplicate_keys=False).parse(text)))
        if aliases:
            shown = [f"{filename}:{line}: {field}: {msg}" for line, field, msg in aliases]
            if len(shown) > MAX_ALIAS_PROBLEMS:
                more = len(shown) - MAX_ALIAS_PROBLEMS
                line = aliases[MAX_ALIAS_PROBLEMS][0]
                shown = shown[:MAX_ALIAS_PROBLEMS]
                shown.append(f"{filename}:{line}: {YAML_FIELD}: {more} more anchors and aliases")
            raise ChecklistFormatError(shown)
        yaml = _yaml(allow_duplicate_keys=True)
        document = yaml.compose(text)
        # Duplicate keys are found on the node tree, where all of them are still visible;
        # the loader would stop at the first one (or keep one value silently).
        problems = [(line, f"{field}: {msg}") for line, field, msg in _duplicate_keys(document)]
        # Built from the same node tree: the text is parsed once more only for the alias check.
        data = yaml.constructor.construct_document(document) if document is not None else None
    except MarkedYAMLError as error:
        raise ChecklistFormatError([_syntax_problem(filename, error)]) from None
    except YAMLError as error:
        raise ChecklistFormatError([f"{filename}:1: {YAML_FIELD}: {error}"]) from None

    if data is None:
        raise ChecklistFormatError([f"{filename}:1: {FILE_FIELD}: the file has no content"])
    if not isinstance(data, CommentedMap):
        line = _start_line(data)
        message = (
            f"the top level must be a mapping (checklist: ..., version: ...), not {_kind(data)}"
        )
        raise ChecklistFormatError([f"{filename}:{line}: {FILE_FIELD}: {message}"])

    checklist: Checklist | None = None
    try:
        checklist = parse_checklist(_plain(data))
    except ChecklistInvalid as error:
        problems += [
            (_line_of(data, problem.path), f"{problem.field}: {problem.message}")
            for problem in error.problems
        ]
    if problems or checklist is None:
        # Stable sort: problems on the same line keep the order the rules found them in.
        problems.sort(key=lambda problem: problem[0])
        raise ChecklistFormatError([f"{filename}:{line}: {rest}" for line, rest in problems])
    return checklist


def _yaml(*, allow_duplicate_keys: bool) -> YAML:
    # Round-trip mode keeps line numbers on every mapping and list (node.lc).
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = allow_duplicate_keys
    return yaml


def _syntax_problem(filename: str, error: MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    message = error.problem or "invalid YAML"
    if error.context:
        message = f"{message} ({error.context})"
    return f"{filename}:{line}: {YAML_FIELD}: {message}"


def _anchors_and_aliases(events: Iterator[Event]) -> Iterator[tuple[int, str, str]]:
    """Yield (line, field path, message) for every anchor and alias, reading events only.

    The path is tracked with a stack of open collections: a mapping alternates key and value,
    a list counts its items.
    """
    # Each open collection: [is_mapping, expecting_a_key, current key or index].
    stack: list[list[Any]] = []

    def path() -> tuple[str | int, ...]:
        return tuple(frame[2] for frame in stack if frame[2] is not None)

    for event in events:
        if isinstance(event, CollectionEndEvent):
            stack.pop()
            continue
        if not isinstance(event, NodeEvent):
            continue  # stream and document start/end
        is_key = False
        if stack:
            frame = stack[-1]
            if frame[0]:  # a mapping: keys and values alternate
                is_key = frame[1]
                frame[1] = not frame[1]
                if is_key:
                    frame[2] = None
            else:
                frame[2] = 0 if frame[2] is None else frame[2] + 1
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        where = format_path(path()) if path() else FILE_FIELD
        if isinstance(event, AliasEvent):
            yield (
                line,
                where,
                f"YAML aliases (*{event.anchor}) are not allowed in a checklist; "
                "write the value out",
            )
        elif event.anchor is not None:
            yield (
                line,
                where,
                f"YAML anchors (&{event.anchor}) are not allowed in a checklist; "
                "write the value out",
            )
        if is_key and isinstance(event, ScalarEvent):
            stack[-1][2] = str(event.value)
        if isinstance(event, MappingStartEvent):
            stack.append([True, True, None])
        elif isinstance(event, SequenceStartEvent):
            stack.append([False, False, None])


def _duplicate_keys(root: Node | None) -> Iterator[tuple[int, str, str]]:
    """Yield (line, field path, message) for every key repeated within one mapping."""
    seen_nodes: set[int] = set()

    def walk(node: Node, path: tuple[str | int, ...]) -> Iterator[tuple[int, str, str]]:
        # Aliases reuse a node; visiting it once is enough and avoids looping on cycles.
        if id(node) in seen_nodes:
            return
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            first_line: dict[object, int] = {}
            for key_node, value_node in node.value:
                key = (
                    key_node.value if not isinstance(key_node, MappingNode | SequenceNode) else None
                )
                line = key_node.start_mark.line + 1
                if isinstance(key, str) and key in first_line:
                    yield (
                        line,
                        format_path((*path, key)),
                        f"duplicate key (first at line {first_line[key]})",
                    )
                elif isinstance(key, str):
                    first_line[key] = line
                yield from walk(value_node, (*path, key) if isinstance(key, str) else path)
        elif isinstance(node, SequenceNode):
            for index, child in enumerate(node.value):
                yield from walk(child, (*path, index))

    if root is not None:
        yield from walk(root, ())


def _line_of(root: CommentedMap, path: tuple[str | int, ...]) -> int:
    """The 1-based line of the field at `path`, or of its nearest existing parent."""
    node: Any = root
    line: int = root.lc.line + 1
    for part in path:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break  # a missing field: point at the mapping that should hold it
    return line


def _plain(value: Any) -> Any:
    """Copy ruamel's round-trip objects into plain dicts, lists and scalars for the domain."""
    if isinstance(value, dict):
        return {key: _plain(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_plain(child) for child in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value  # dates and the like: the domain rejects them with a clear message


def _start_line(value: Any) -> int:
    lc = getattr(value, "lc", None)
    return int(lc.line) + 1 if lc is not None else 1


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__
