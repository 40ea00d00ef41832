"""What the profile needs from a source file's syntax tree.

For every line: the narrowest enclosing loop or function (the "region" the
viewer's optimisation proposals work on), the outermost enclosing loop and
the enclosing function; and for every function, its qualified name keyed by
(first line, code name) as the interpreter reports them, which is how
3.9 and 3.10 (whose code objects have no ``co_qualname``) get qualified
function names.
"""

from __future__ import annotations

import ast

# A region is (start_region, end_region, start_outermost_loop,
# end_outermost_loop, start_function, end_function, is_coroutine).

_LOOPS = (ast.For, ast.While, ast.AsyncFor)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _end(node: ast.AST) -> int:
    return getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]


def _first_line(node: ast.AST) -> int:
    """The line the interpreter reports as co_firstlineno."""
    decorators = getattr(node, "decorator_list", None)
    if decorators:
        return min(d.lineno for d in decorators)
    return node.lineno  # type: ignore[attr-defined]


class _Visitor(ast.NodeVisitor):
    def __init__(self, nlines: int) -> None:
        self.nlines = nlines
        # per line: [start_region, end_region, start_outer, end_outer, start_func, end_func, is_coroutine]
        self.regions: List[List[int]] = [[i, i, i, i, 0, 0, 0] for i in range(1, nlines + 1)]
        self.qualnames: List[Tuple[int, str, str]] = []
        self.scope: List[Tuple[str, str]] = []  # (kind, name)

    def _qualify(self, name: str) -> str:
        parts: List[str] = []
        for kind, scope_name in self.scope:
            parts.append(scope_name)
            if kind == "function":
                parts.append("<locals>")
        parts.append(name)
        return ".".join(parts)

    def _mark(self, node: ast.AST, loop: bool, func: bool) -> None:
        first, last = _first_line(node), _end(node)
        coroutine = 1 if isinstance(node, ast.AsyncFunctionDef) else 0
        for ln in range(first, min(last, self.nlines) + 1):
            r = self.regions[ln - 1]
            # narrowest wins for the region: nodes are visited outside-in
            r[0], r[1] = first, last
            if func:
                r[4], r[5], r[6] = first, last, coroutine
            if loop and (r[2] == ln and r[3] == ln):
                r[2], r[3] = first, last

    def _function(self, node: ast.AST, name: str) -> None:
        self.qualnames.append((_first_line(node), name, self._qualify(name)))
        self._mark(node, loop=False, func=True)
        self.scope.append(("function", name))
        self.generic_visit(node)
        self.scope.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node, node.name)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.qualnames.append((node.lineno, "<lambda>", self._qualify("<lambda>")))
        self.scope.append(("function", "<lambda>"))
        self.generic_visit(node)
        self.scope.pop()

    def _comprehension(self, node: ast.AST, name: str) -> None:
        self.qualnames.append((node.lineno, name, self._qualify(name)))  # type: ignore[attr-defined]
        self.scope.append(("function", name))
        self.generic_visit(node)
        self.scope.pop()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, "<listcomp>")

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._comprehension(node, "<setcomp>")

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, "<dictcomp>")

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._comprehension(node, "<genexpr>")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.qualnames.append((_first_line(node), node.name, self._qualify(node.name)))
        self.scope.append(("class", node.name))
        self.generic_visit(node)
        self.scope.pop()

    def _loop(self, node: ast.AST) -> None:
        self._mark(node, loop=True, func=False)
        self.generic_visit(node)

    visit_For = _loop
    visit_While = _loop
    visit_AsyncFor = _loop


def analyse(source: str, nlines: int) -> Tuple[Optional[List[Tuple[int, ...]]], List[Tuple[int, str, str]]]:
    """(regions per line or None if the source does not parse, qualnames)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, []
    visitor = _Visitor(nlines)
    try:
        visitor.visit(tree)
    except RecursionError:
        return None, []
    return [tuple(r) for r in visitor.regions], visitor.qualnames  # type: ignore[misc]


def function_spans(source: str) -> Dict[str, Tuple[int, int]]:
    """qualname -> (first line, last line) of every function (for @profile)."""
    _, quals = analyse(source, source.count("\n") + 1)
    spans: Dict[str, Tuple[int, int]] = {}
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return spans
    for node in ast.walk(tree):
        if isinstance(node, _FUNCS):
            spans.setdefault(node.name, (_first_line(node), _end(node)))
    return spans
