"""Query cost: an upper bound of the objects a GraphQL operation can fetch, checked before execution.

The model follows GitHub's and Shopify's (graphql-cost-analysis): every object costs 1, and the cost of
what is selected below a list is multiplied by the list's size, down through nested lists. Sizes:

- a connection (a field taking `first`/`last`/`limit`): the argument's value (variables included), else
  the default page; capped at `max_page`, since a larger page is refused by the resolver before any fetch;
- the `edges`/`nodes` of a connection: the connection's page, already counted (size 1);
- a list with a list argument (`units(ids: …)`): that list's length, capped at `max_list`;
- any other list (`ancestors`, `evidence`, `level1`): `default_list`, an assumed typical size.

Cost is linear in its multiplier, so each fragment is costed once per type (no fragment-spread blow-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_composite_type,
)
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from kaohe.errors import KaoheError

PAGE_ARGS = ("first", "last", "limit")
# Scalar fields that cost a call or a signature each (a presigned URL per evidence item).
FIELD_WEIGHTS: dict[tuple[str, str], int] = {("Evidence", "downloadUrl"): 1}


class QueryTooCostly(KaoheError):
    code, status = "query_too_costly", 400


@dataclass(frozen=True)
class CostModel:
    limit: int
    default_page: int
    max_page: int
    max_list: int
    default_list: int


class _Estimator:
    def __init__(
        self, schema: GraphQLSchema, doc: DocumentNode, variables: dict[str, Any], model: CostModel
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.model = model
        self.fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
        self._memo: dict[tuple[str, str], int] = {}

    def selection(self, sel: SelectionSetNode | None, parent: GraphQLNamedType) -> int:
        total = 0
        for node in sel.selections if sel else ():
            if isinstance(node, FieldNode):
                total += self._field(node, parent)
            elif isinstance(node, InlineFragmentNode):
                cond = node.type_condition
                target = (self.schema.get_type(cond.name.value) if cond else None) or parent
                total += self.selection(node.selection_set, target)
            elif isinstance(node, FragmentSpreadNode):
                total += self._fragment(node.name.value, parent)
        return total

    def _fragment(self, name: str, parent: GraphQLNamedType) -> int:
        frag = self.fragments.get(name)
        if frag is None:
            return 0
        target = self.schema.get_type(frag.type_condition.name.value) or parent
        key = (name, target.name)
        if key not in self._memo:
            self._memo[key] = 0  # a cycle (refused by validation anyway) adds nothing
            self._memo[key] = self.selection(frag.selection_set, target)
        return self._memo[key]

    def _field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        name = node.name.value
        fields = getattr(parent, "fields", None)
        if fields is None or name not in fields:
            return 0  # __typename and meta fields; unknown fields were refused by validation
        definition = fields[name]
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return FIELD_WEIGHTS.get((parent.name, name), 0)
        child = self.selection(node.selection_set, named)
        args = {a.name.value: a.value for a in node.arguments or ()}
        page = [p for p in PAGE_ARGS if p in definition.args]
        if _is_list(definition.type):
            if parent.name.endswith("Connection"):
                size = 1  # edges/nodes: the connection's page is already counted
            else:
                size = self._list_arg_size(args, definition) or self.model.default_list
            return size * (1 + child)
        if page:
            return 1 + self._page(args, definition, page) * child
        return 1 + child

    def _value(self, node: Any) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, ListValueNode):
            return node.values
        return None

    def _page(self, args: dict[str, Any], definition: Any, names: list[str]) -> int:
        for n in names:
            v = self._value(args[n]) if n in args else definition.args[n].default_value
            if isinstance(v, int) and not isinstance(v, bool):
                return max(1, min(v, self.model.max_page))
        return self.model.default_page

    def _list_arg_size(self, args: dict[str, Any], definition: Any) -> int:
        sizes = [
            len(v)
            for n, a in args.items()
            if n in definition.args
            and isinstance(_strip(definition.args[n].type), GraphQLList)
            and isinstance(v := self._value(a), list | tuple)
        ]
        return min(max(sizes), self.model.max_list) if sizes else 0


def _strip(tp: Any) -> Any:
    return tp.of_type if isinstance(tp, GraphQLNonNull) else tp


def _is_list(tp: Any) -> bool:
    return isinstance(_strip(tp), GraphQLList)


def estimate(
    schema: GraphQLSchema,
    doc: DocumentNode,
    model: CostModel,
    *,
    operation_name: str | None = None,
    variables: dict[str, Any] | None = None,
) -> int:
    """The estimated cost of the operation to run (0 when there is none to pick)."""
    op: OperationDefinitionNode | None = get_operation_ast(doc, operation_name)
    if op is None:
        return 0
    root = schema.get_root_type(op.operation)
    if not isinstance(root, GraphQLObjectType):
        return 0
    return _Estimator(schema, doc, variables or {}, model).selection(op.selection_set, root)


class QueryCost(SchemaExtension):
    """Refuse an operation whose estimated cost exceeds the limit, before anything is executed."""

    def __init__(self, model: CostModel) -> None:
        super().__init__()
        self.model = model

    def on_execute(self):  # type: ignore[no-untyped-def]
        ctx = self.execution_context
        if ctx.graphql_document is not None and not ctx.result:
            cost = estimate(
                ctx.schema._schema,
                ctx.graphql_document,
                self.model,
                operation_name=ctx.operation_name,
                variables=ctx.variables,
            )
            if cost > self.model.limit:
                err = QueryTooCostly(
                    f"query too costly: estimated cost {cost} exceeds the limit {self.model.limit}; "
                    "ask for smaller pages (first) or fewer nested lists",
                    field="query",
                )
                ext = {"code": err.code, "field": err.field, "cost": cost, "limit": self.model.limit}
                ctx.result = GraphQLExecutionResult(
                    data=None, errors=[GraphQLError(err.message, original_error=err, extensions=ext)]
                )
        yield
