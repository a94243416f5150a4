"""Mutants of one Python module, made from its syntax tree and applied to the live module.

A mutant is one small deliberate bug (a comparison flipped, a keyword argument dropped, a
call deleted...). It is applied by compiling the mutated module and swapping the code
object of the one top-level function or method that contains the change into the live
function object. The function object itself stays, so every reference to it (another
module's `from x import f`, a decorator's wrapper such as `@transaction.atomic`) runs the
mutated code: decorated functions are mutated like any other, unlike runners that rewrite
the module and skip them. Module-level `NAME = <constant>` assignments are mutated by
rebinding the module attribute.
"""

from __future__ import annotations

import ast
import inspect
import types
from collections.abc import Iterator
from dataclasses import dataclass

COMPARE_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
BINOP_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}


@dataclass(frozen=True)
class Mutant:
    """One change: where it is (`index` in the module's walk order), what it does."""

    index: int
    kind: str
    variant: int
    line: int
    end_line: int
    owner: str  # qualname of the top-level function/method, or "<module>:NAME"
    description: str


def _children(node: ast.AST) -> Iterator[tuple[str, int | None, ast.AST]]:
    for field, value in ast.iter_fields(node):
        if isinstance(value, list):
            for position, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield field, position, item
        elif isinstance(value, ast.AST):
            yield field, None, value


def _walk(tree: ast.Module) -> Iterator[tuple[int, ast.AST, ast.AST | None, str, int | None, str]]:
    """Every node in a fixed order with its parent, the parent's field, and its owner."""
    counter = 0

    def visit(node, parent, field, position, owner, skip):
        nonlocal counter
        index = counter
        counter += 1
        if not skip:
            yield index, node, parent, field, position, owner
        for child_field, child_position, child in _children(node):
            child_owner = owner
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                child_owner = f"{owner}.{child.name}" if owner else child.name
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    child_owner = owner  # a nested function goes with its outer function
            child_skip = skip or child_field in ("annotation", "returns", "decorator_list")
            yield from visit(child, node, child_field, child_position, child_owner, child_skip)

    yield from visit(tree, None, None, None, "", False)


def _is_docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _variants(node: ast.AST, parent: ast.AST | None, field: str | None) -> list[tuple[str, str]]:
    """The (kind, description) of each mutation that applies to this node."""
    found: list[tuple[str, str]] = []
    if isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            if type(op) in COMPARE_SWAPS:
                new = COMPARE_SWAPS[type(op)].__name__
                found.append(("compare", f"{type(op).__name__} -> {new} (operator {position})"))
    elif isinstance(node, ast.BoolOp):
        found.append(("boolop", "and <-> or"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        found.append(("drop_not", "not x -> x"))
    elif isinstance(node, ast.BinOp) and type(node.op) in BINOP_SWAPS:
        found.append(
            ("binop", f"{type(node.op).__name__} -> {BINOP_SWAPS[type(node.op)].__name__}")
        )
    elif isinstance(node, ast.AugAssign) and type(node.op) in BINOP_SWAPS:
        found.append(
            ("augop", f"{type(node.op).__name__}= -> {BINOP_SWAPS[type(node.op)].__name__}=")
        )
    elif isinstance(node, ast.Constant) and not _is_docstring(parent, None):
        value = node.value
        if isinstance(value, bool):
            found.append(("constant", f"{value} -> {not value}"))
        elif isinstance(value, int | float):
            found.append(("constant", f"{value!r} -> {value + 1!r}"))
        elif isinstance(value, str) and value and field != "format_spec":
            found.append(("constant", f"{value[:30]!r} -> 'XX…XX'"))
    elif isinstance(node, ast.Call):
        for position, keyword in enumerate(node.keywords):
            if keyword.arg is not None:
                found.append(("drop_kwarg", f"drop {keyword.arg}= (keyword {position})"))
    elif isinstance(node, ast.Dict):
        for position, key in enumerate(node.keys):
            if key is not None and len(node.keys) > 1:
                label = ast.unparse(key)[:30]
                found.append(("drop_item", f"drop dict item {label} (item {position})"))
    if isinstance(node, ast.If | ast.While | ast.IfExp) and not isinstance(node.test, ast.UnaryOp):
        found.append(("negate", "condition -> not condition"))
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call | ast.Await):
        found.append(("delete", f"delete call {ast.unparse(node.value)[:40]}"))
    if isinstance(node, ast.Raise):
        found.append(("delete", "delete raise"))
    returns_value = isinstance(node, ast.Return) and node.value is not None
    if returns_value and not (isinstance(node.value, ast.Constant) and node.value.value is None):
        found.append(("return_none", "return x -> return None"))
    return found


def _module_constant(node: ast.AST, parent: ast.AST | None) -> str | None:
    """NAME for a module-level `NAME = <number/str/bool>` assignment's value node."""
    if (
        isinstance(parent, ast.Assign)
        and isinstance(node, ast.Constant)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
    ):
        return parent.targets[0].id
    return None


def generate(source: str) -> list[Mutant]:
    """Every mutant of a module's source, in a stable order."""
    tree = ast.parse(source)
    docstrings = {
        id(body[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and (body := node.body)
        and _is_docstring(body[0], node)
    }
    module_level = set()
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            module_level.add(id(statement))
    mutants: list[Mutant] = []
    for index, node, parent, field, _position, owner in _walk(tree):
        if id(node) in docstrings or (parent is not None and id(parent) in docstrings):
            continue
        if "." not in owner and owner and _owner_is_class(tree, owner):
            continue  # class body statements (field definitions) run at import
        if not owner:
            name = _module_constant(node, parent)
            if name is None or id(parent) not in module_level:
                continue
            if isinstance(node.value, str) and name == "__all__":
                continue
            owner = f"<module>:{name}"
        for variant, (kind, description) in enumerate(_variants(node, parent, field)):
            if owner.startswith("<module>") and kind != "constant":
                continue
            mutants.append(
                Mutant(
                    index=index,
                    kind=kind,
                    variant=variant,
                    line=getattr(node, "lineno", 0),
                    end_line=getattr(node, "end_lineno", 0) or getattr(node, "lineno", 0),
                    owner=owner,
                    description=description,
                )
            )
    return mutants


def _owner_is_class(tree: ast.Module, owner: str) -> bool:
    return any(isinstance(n, ast.ClassDef) and n.name == owner for n in tree.body)


def _mutate_node(node: ast.AST, parent: ast.AST, field: str, position: int | None, mutant: Mutant):
    kind = mutant.kind
    same_kind = [k for k, _ in _variants(node, parent, field)]
    # the variant index counts all variants of this node; find which of this kind it is
    nth = same_kind[: mutant.variant].count(kind)
    if kind == "compare":
        positions = [i for i, op in enumerate(node.ops) if type(op) in COMPARE_SWAPS]
        i = positions[nth]
        node.ops[i] = COMPARE_SWAPS[type(node.ops[i])]()
        return node
    if kind == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        return node
    if kind == "drop_not":
        return node.operand
    if kind in ("binop", "augop"):
        node.op = BINOP_SWAPS[type(node.op)]()
        return node
    if kind == "constant":
        value = node.value
        if isinstance(value, bool):
            node.value = not value
        elif isinstance(value, int | float):
            node.value = value + 1
        else:
            node.value = f"XX{value}XX"
        return node
    if kind == "drop_kwarg":
        named = [k for k in node.keywords if k.arg is not None]
        node.keywords.remove(named[nth])
        return node
    if kind == "drop_item":
        items = [i for i, k in enumerate(node.keys) if k is not None]
        i = items[nth]
        del node.keys[i]
        del node.values[i]
        return node
    if kind == "negate":
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
        return node
    if kind == "delete":
        return ast.Pass()
    if kind == "return_none":
        node.value = ast.Constant(value=None)
        return node
    raise ValueError(f"unknown mutant kind {kind}")


def mutated_tree(source: str, mutant: Mutant) -> ast.Module:
    """The module's tree with this one mutant applied."""
    tree = ast.parse(source)
    for index, node, parent, field, position, _owner in _walk(tree):
        if index != mutant.index:
            continue
        replacement = _mutate_node(node, parent, field, position, mutant)
        if replacement is not node:
            if position is None:
                setattr(parent, field, replacement)
            else:
                getattr(parent, field)[position] = replacement
        ast.fix_missing_locations(tree)
        return tree
    raise LookupError(f"no node {mutant.index} in the module")


def _find_code(code: types.CodeType, qualname: str) -> types.CodeType | None:
    if code.co_qualname == qualname:
        return code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found = _find_code(const, qualname)
            if found is not None:
                return found
    return None


def live_function(module: types.ModuleType, qualname: str) -> types.FunctionType:
    """The function object behind a qualname, through decorators' `__wrapped__`."""
    target: object = module
    for part in qualname.split("."):
        container = target
        target = inspect.getattr_static(container, part)
        if isinstance(target, staticmethod | classmethod):
            target = target.__func__
        elif isinstance(target, property):
            target = target.fget
    while not (isinstance(target, types.FunctionType) and target.__code__.co_qualname == qualname):
        wrapped = getattr(target, "__wrapped__", None) or getattr(target, "func", None)
        if wrapped is None:
            raise LookupError(f"{qualname} is not a plain function here")
        target = wrapped
    return target


def apply(module: types.ModuleType, source: str, mutant: Mutant) -> None:
    """Make the live module run the mutant (in this process, for good)."""
    tree = mutated_tree(source, mutant)
    if mutant.owner.startswith("<module>:"):
        name = mutant.owner.split(":", 1)[1]
        namespace: dict = {}
        for statement in tree.body:
            if (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and statement.targets[0].id == name
            ):
                exec(compile(ast.Module([statement], []), module.__file__, "exec"), namespace)  # noqa: S102
        setattr(module, name, namespace[name])
        return
    code = compile(tree, module.__file__, "exec")
    new_code = _find_code(code, mutant.owner)
    if new_code is None:
        raise LookupError(f"no code for {mutant.owner}")
    function = live_function(module, mutant.owner)
    function.__code__ = new_code


def all_code_objects(module: types.ModuleType, source: str) -> list[types.CodeType]:
    """The live code objects of every function and method of the module (for coverage)."""
    found: list[types.CodeType] = []
    tree = ast.parse(source)
    owners: set[str] = set()
    for _index, _node, _parent, _field, _position, owner in _walk(tree):
        if owner and not _owner_is_class(tree, owner):
            owners.add(owner)

    def collect(code: types.CodeType) -> None:
        found.append(code)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                collect(const)

    for owner in sorted(owners):
        try:
            collect(live_function(module, owner).__code__)
        except (LookupError, AttributeError):
            continue
    return found
