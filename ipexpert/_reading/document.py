"""Safe YAML (and JSON) reading that keeps the line and column of every value.

Only the YAML 1.2 core types are built (mappings, sequences, strings, integers,
floats, true/false, null); dates stay strings so the schema can check them, and
`yes`, `no`, `on`, `off` stay strings so that Norway (`NO`) is not `false`.
No tag can construct an object, aliases cannot expand beyond a fixed number of
nodes, nesting and size are bounded, and duplicate keys are errors.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ipexpert._common import values as _values
from ipexpert._errors import Problem

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000

Path = tuple  # ("markets", 1, "code")

_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}


class _CoreResolver(yaml.resolver.BaseResolver):
    """Implicit types of the YAML 1.2 core schema, nothing more."""


_CoreResolver.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_CoreResolver.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)


class _Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _CoreResolver,
):
    """Reads YAML into a node tree; never constructs Python objects."""

    # PyYAML treats every `?` inside `{...}` or `[...]` as a complex-key indicator; YAML 1.2
    # allows `?name` there as a plain scalar, and rule packs write variables that way.
    def check_key(self):
        if self.flow_level and _variable_start(self):
            return False
        return super().check_key()

    def check_plain(self):
        return (self.flow_level and _variable_start(self)) or super().check_plain()

    def fetch_plain(self):
        if not (self.flow_level and _variable_start(self)):
            return super().fetch_plain()
        self.save_possible_simple_key()
        self.allow_simple_key = False
        start = self.get_mark()
        self.forward()
        token = self.scan_plain()
        token.value = "?" + token.value
        token.start_mark = start
        self.tokens.append(token)

    def __init__(self, stream):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _CoreResolver.__init__(self)
        self.ipexpert_source = "<profile>"
        self.ipexpert_depth = 0
        self.ipexpert_nodes = 0

    # Composition is recursive: bound depth and size while composing, in the same pass.
    def compose_node(self, parent, index):
        self.ipexpert_depth += 1
        self.ipexpert_nodes += 1
        event = self.peek_event()
        if self.ipexpert_depth > MAX_DEPTH:
            raise YAMLInputError(
                _mark_problem(event.start_mark, self.ipexpert_source, f"nested more than {MAX_DEPTH} levels deep")
            )
        if self.ipexpert_nodes > MAX_NODES:
            raise YAMLInputError(
                _mark_problem(event.start_mark, self.ipexpert_source, f"more than {MAX_NODES:,} values; refused")
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.ipexpert_depth -= 1


try:  # libyaml, bundled with PyYAML's wheels; the pure-Python reader stands in without it
    from yaml._yaml import CParser as _CParser

    class _FastLoader(_CParser, _CoreResolver):
        """libyaml's parser with the same YAML 1.2 core resolver."""

        def __init__(self, stream):
            _CParser.__init__(self, stream)
            _CoreResolver.__init__(self)

except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _FastLoader = None  # type: ignore[assignment,misc]


def _variable_start(scanner) -> bool:
    return scanner.peek() == "?" and (scanner.peek(1).isalpha() or scanner.peek(1) == "_")


@dataclass
class Document:
    """A parsed document: its data, where each value came from, and its name."""

    data: Any  # whatever the document holds: mapping, list or scalar
    source: str = "<profile>"
    positions: dict = field(default_factory=dict)  # path -> (line, col) of the value
    key_positions: dict = field(default_factory=dict)  # path -> (line, col) of the key

    def position(self, path, key: bool = False) -> tuple[int | None, int | None]:
        """Line and column (1-based) of the value at *path*, or of its nearest parent."""
        table = self.key_positions if key else self.positions
        path = tuple(path)
        while path:
            if path in table:
                return table[path]
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), (None, None))

    def problem(self, path, message: str, key: bool = False, severity: str = "error") -> Problem:
        line, col = self.position(path, key=key)
        return Problem(self.source, line, col, json_path(path), message, severity)


def json_path(path) -> str:
    """`("markets", 1, "code")` -> `$.markets[1].code`."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            out += f".{part}"
        else:
            out += "[" + repr(str(part)) + "]"
    return out


class YAMLInputError(Exception):
    """Raised with one Problem when a text cannot be read as a safe document."""

    def __init__(self, problem: Problem):
        super().__init__(problem.format())
        self.problem = problem


def read_text(raw: bytes, source: str) -> str:
    """Decode *raw* as UTF-8 within the size limit, or raise YAMLInputError."""
    if len(raw) > MAX_BYTES:
        raise YAMLInputError(
            # *raw* may be a bounded read of a longer stream (stdin), so give no exact size.
            Problem(source, None, None, "$", f"more than {MAX_BYTES:,} bytes; the limit is {MAX_BYTES:,} bytes")
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        hint = "; it looks like UTF-16, save it as UTF-8" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise YAMLInputError(Problem(source, line, col, "$", f"not UTF-8 text (byte 0x{raw[exc.start]:02x}){hint}")) from None
    return text


def load(text: str | bytes, source: str = "<profile>") -> Document:
    """Parse one YAML or JSON document with positions; raise YAMLInputError if unsafe or broken."""
    if isinstance(text, bytes):
        text = read_text(text, source)
    elif len(text) > MAX_BYTES:
        raise YAMLInputError(Problem(source, None, None, "$", f"text is {len(text):,} characters; the limit is {MAX_BYTES:,}"))
    node = _compose_fast(text, source) if _FastLoader is not None else None
    if node is None:
        node = _compose(text, source)
    doc = Document(None, source)
    _check_expansion(node, source)
    doc.data = _Builder(doc).build(node)
    return doc


def _compose(text: str, source: str):
    """The node tree, by the pure-Python reader: one pass, depth and size checked as it goes."""
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:
        raise YAMLInputError(_yaml_problem(exc, source, text)) from None
    loader.ipexpert_source = source
    try:
        node = loader.get_single_node()
    except yaml.composer.ComposerError as exc:
        if exc.problem == "but found another document":
            raise YAMLInputError(
                _mark_problem(exc.problem_mark, source, "more than one YAML document ('---'); give one document")
            ) from None
        raise YAMLInputError(_yaml_problem(exc, source, text)) from None
    except yaml.YAMLError as exc:
        raise YAMLInputError(_yaml_problem(exc, source, text)) from None
    finally:
        loader.dispose()
    if node is None:
        raise YAMLInputError(Problem(source, 1, 1, "$", "the document is empty"))
    return node


def _compose_fast(text: str, source: str):
    """The node tree by libyaml (about ten times faster), or None to let the pure-Python reader decide.

    libyaml composes recursively in C, so the event stream is checked for depth, size and
    document count first. Anything libyaml rejects (including `?name` inside `{...}`, which
    rule packs use) goes to the pure-Python reader, whose answer is the one that counts.
    """
    if _STAND_IN in text:
        return None
    # libyaml, like PyYAML, reads `?` inside `{...}` as a complex-key indicator; a variable's
    # `?` is swapped for a private-use character of the same width (so columns stay right)
    # and swapped back when scalars are built.
    text = _VARIABLE_MARK.sub(_STAND_IN, text)
    try:
        loader = _FastLoader(text)
        try:
            _check_events(loader, source)
        finally:
            loader.dispose()
        loader = _FastLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError:
        return None
    return node


def _check_expansion(root, source: str) -> None:
    """Refuse a tree whose aliases would expand past MAX_NODES values, before expanding any."""
    sizes: dict[int, int] = {}  # id(node) -> values it expands to; aliases share nodes, so each is counted once
    open_nodes = set()  # nodes whose children are still being counted
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if not children_done:
            if id(node) in open_nodes:
                raise YAMLInputError(_mark_problem(node.start_mark, source, "an alias refers to a value that contains it"))
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        open_nodes.discard(id(node))
        sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
        if sizes[id(node)] > MAX_NODES:
            raise YAMLInputError(
                _mark_problem(
                    node.start_mark,
                    source,
                    f"this value expands to more than {MAX_NODES:,} values through aliases (an alias bomb?); refused",
                )
            )


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


_STAND_IN = "\ue000"
_VARIABLE_MARK = re.compile(r"(?<=[\s\[{,:])\?(?=[A-Za-z_])")


def _check_events(loader, source: str) -> None:
    """Reject deep nesting, too many values and multiple documents before any tree is built."""
    depth = documents = values = 0
    while True:
        event = loader.get_event()
        if event is None:
            break
        values += isinstance(event, yaml.NodeEvent)
        if values > MAX_NODES:
            raise YAMLInputError(_mark_problem(event.start_mark, source, f"more than {MAX_NODES:,} values; refused"))
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YAMLInputError(_mark_problem(event.start_mark, source, f"nested more than {MAX_DEPTH} levels deep"))
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        elif isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise YAMLInputError(
                    _mark_problem(event.start_mark, source, "more than one YAML document ('---'); give one document")
                )


def _mark_problem(mark, source: str, message: str) -> Problem:
    return Problem(source, mark.line + 1, mark.column + 1, "$", message)


def _yaml_problem(exc: yaml.YAMLError, source: str, text: str = "") -> Problem:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        what = "binary data (NUL byte)" if exc.character == 0 else f"character U+{exc.character:04X}"
        return Problem(source, line, col, "$", f"{what} is not allowed in YAML or JSON text")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"not valid YAML: {what}" + (f" ({context})" if context else "")
    message = " ".join(message.split())
    if mark is None:
        return Problem(source, None, None, "$", message)
    return _mark_problem(mark, source, message)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clip(text: str) -> str:
    """A scalar quoted for a message, shortened when long."""
    return repr(text) if len(text) <= 60 else repr(text[:57]) + "..."


class _Builder:
    """Turns a node tree into plain data, recording positions and refusing what is unsafe."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.count = 0

    def build(self, root):
        # Iterative, so depth never reaches Python's recursion limit.
        result: dict = {}
        stack: list[tuple] = [(root, (), result, "value")]
        while stack:
            node, path, parent, slot = stack.pop()
            self.count += 1
            if self.count > MAX_NODES:
                raise YAMLInputError(self._problem(node, path, f"more than {MAX_NODES:,} values (an alias bomb?); refused"))
            self.doc.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
            if node.tag not in _CORE_TAGS:
                raise YAMLInputError(
                    self._problem(node, path, f"the tag {node.tag!r} is not allowed; only plain YAML data is read")
                )
            value: dict | list
            if isinstance(node, yaml.MappingNode):
                value = {}
                seen: dict = {}
                for key_node, value_node in node.value:
                    key = self._key(key_node, path)
                    if key in seen:
                        raise YAMLInputError(
                            self._problem(key_node, path + (key,), f"duplicate key {key!r} (first at line {seen[key]})")
                        )
                    seen[key] = key_node.start_mark.line + 1
                    child = path + (key,)
                    self.doc.key_positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                    value[key] = None
                    stack.append((value_node, child, value, key))
            elif isinstance(node, yaml.SequenceNode):
                value = [None] * len(node.value)
                for index, item in enumerate(node.value):
                    stack.append((item, path + (index,), value, index))
            else:
                value = self._scalar(node, path)
            parent[slot] = value
        return result["value"]

    def _key(self, node, path):
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _CORE_TAGS:
            raise YAMLInputError(self._problem(node, path, "a mapping key must be a plain string"))
        key = self._scalar(node, path)
        if not isinstance(key, str):
            # `1: x` or `true: x`: keys are names, keep their text.
            key = node.value
        return key

    def _scalar(self, node, path):
        tag, text = node.tag, node.value
        if _STAND_IN in text:
            text = text.replace(_STAND_IN, "?")
        try:
            if tag == "tag:yaml.org,2002:null":
                return None
            if tag == "tag:yaml.org,2002:bool":
                return text.lower() == "true"
            if tag == "tag:yaml.org,2002:int":
                return _values.parse_int(text)
            if tag == "tag:yaml.org,2002:float":
                if "inf" in text.lower() or "nan" in text.lower():
                    raise YAMLInputError(self._problem(node, path, f"{text!r} is not a finite number"))
                number = float(text)
                if not math.isfinite(number):
                    raise YAMLInputError(self._problem(node, path, f"{_clip(text)} is not a finite number"))
                return number
        except ValueError:
            raise YAMLInputError(self._problem(node, path, f"{_clip(text)} is not a valid {tag.rsplit(':', 1)[-1]}")) from None
        if _SURROGATE.search(text):
            # JSON writes U+1F300 as the escapes `\ud83c\udf00`, which PyYAML leaves as two halves:
            # join the pairs; an unpaired half is text no UTF-8 output can hold.
            try:
                return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
            except UnicodeDecodeError:
                raise YAMLInputError(
                    self._problem(node, path, "the text has an unpaired surrogate escape (\\uD800-\\uDFFF)")
                ) from None
        return text

    def _problem(self, node, path, message):
        return Problem(self.doc.source, node.start_mark.line + 1, node.start_mark.column + 1, json_path(path), message)
