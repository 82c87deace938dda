"""Load a directory of contract files; every problem names the file, the field path and what is wrong."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from monitor.contract import Contract, FieldProblem

CONTRACT_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class ContractProblem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


@dataclass
class LoadedContracts:
    contracts: list[Contract] = field(default_factory=list)
    problems: list[ContractProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# Where a tagged union sits, pydantic inserts the tag (``uptime``, ``one-off-window``) into an
# error's location right after it; ``int`` stands for any list index. Only those parts are
# dropped, so a key that happens to be spelled like a tag is still named.
UnionPlaces = frozenset[tuple[str | type, ...]]
CONTRACT_UNIONS: UnionPlaces = frozenset(
    {
        ("clauses", int),
        ("maintenance", "windows", int),
        ("amendments", int, "clauses", int),
        ("amendments", int, "maintenance", "windows", int),
    }
)
MAX_DOCUMENT_NODES = 100_000  # after alias expansion: a contract file has a few hundred


def field_path(location: Iterable[int | str], unions: UnionPlaces = CONTRACT_UNIONS) -> str:
    """Render a pydantic error location as ``clauses[0].credits[1].below_percent``."""
    parts = list(location)
    text = ""
    for index, part in enumerate(parts):
        if isinstance(part, int):
            text += f"[{part}]"
        elif tuple(int if isinstance(p, int) else p for p in parts[:index]) in unions:
            continue  # union tag that pydantic inserts; not a key of the file
        else:
            text += f".{part}" if text else str(part)
    return text


_KIND_TAG_ERRORS = ("union_tag_invalid", "union_tag_not_found")


def _problem(file: str, item: ErrorDetails) -> ContractProblem:
    path = field_path(item["loc"])
    message = item["msg"].removeprefix("Value error, ")
    context = item.get("ctx") or {}
    cause = context.get("error")
    if isinstance(cause, FieldProblem):  # raised by a model: the path inside it holds no tags
        path = _join(path, field_path(cause.location, frozenset()))
        message = str(cause)
    elif item["type"] in _KIND_TAG_ERRORS and context.get("discriminator") == "'kind'":
        path = _join(path, "kind")
        if item["type"] == "union_tag_invalid":
            message = f"unknown kind {context.get('tag')!r}; expected one of {context.get('expected_tags')}"
        else:
            message = "Field required"
    return ContractProblem(file, path, message)


def _join(path: str, inner: str) -> str:
    if not inner:
        return path
    if not path or inner.startswith("["):
        return path + inner
    return f"{path}.{inner}"


def _problems_from_validation(file: str, error: ValidationError) -> list[ContractProblem]:
    return [_problem(file, item) for item in error.errors(include_url=False)]


def _expands_beyond(document: object, limit: int) -> bool:
    """True if the document has more than ``limit`` nodes once YAML aliases are expanded
    (a "billion laughs" file is a few lines that expand to billions of nodes)."""
    stack = [document]
    while stack:
        limit -= 1
        if limit < 0:
            return True
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class _UniqueKeySafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no object construction) that refuses a key given twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_scalar(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _describe_document(document: object) -> str:
    if document is None:
        return "the file is empty"
    if isinstance(document, list):
        return "it holds a list"
    return f"it holds a {type(document).__name__}"


def load_contract_file(path: Path) -> tuple[Contract | None, list[ContractProblem]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [ContractProblem(name, "", f"cannot read file: {error}")]
    try:
        document = yaml.load(text, Loader=_UniqueKeySafeLoader)  # a SafeLoader: no objects
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        return None, [ContractProblem(name, "", f"invalid YAML{where}: {problem}")]
    except RecursionError:
        return None, [ContractProblem(name, "", "invalid YAML: nested too deeply")]
    except ValueError as error:  # a scalar the safe constructors refuse, e.g. a 5,000-digit number
        return None, [ContractProblem(name, "", f"invalid YAML value: {error}")]
    if not isinstance(document, dict):
        found = _describe_document(document)
        return None, [ContractProblem(name, "", f"a contract file must hold one YAML mapping; {found}")]
    if _expands_beyond(document, MAX_DOCUMENT_NODES):
        return None, [
            ContractProblem(name, "", f"document too large: over {MAX_DOCUMENT_NODES} nodes (YAML aliases?)")
        ]
    try:
        return Contract.model_validate(document), []
    except ValidationError as error:
        return None, _problems_from_validation(name, error)
    except RecursionError:
        return None, [ContractProblem(name, "", "contract nested too deeply")]


def load_contracts(directory: str | Path) -> LoadedContracts:
    """Load every ``*.yaml``/``*.yml`` file; bad files are reported, good ones still load."""
    root = Path(directory)
    result = LoadedContracts()
    if not root.is_dir():
        result.problems.append(ContractProblem(str(root), "", "not a directory"))
        return result
    files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix in CONTRACT_SUFFIXES)
    if not files:
        result.problems.append(ContractProblem(str(root), "", "no contract files (*.yaml, *.yml)"))
    owner: dict[str, str] = {}
    for path in files:
        contract, problems = load_contract_file(path)
        result.problems.extend(problems)
        if contract is None:
            continue
        if contract.id in owner:
            result.problems.append(
                ContractProblem(
                    str(path),
                    "id",
                    f"duplicate contract id {contract.id!r} (also in {owner[contract.id]})",
                )
            )
            continue
        owner[contract.id] = str(path)
        result.contracts.append(contract)
    return result
