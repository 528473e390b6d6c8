"""The caller's identity and scope, passed with every RPC and checked again by each service."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from kaohe.contracts import paths
from kaohe.errors import Forbidden


class Role(StrEnum):
    assessment_office = "assessment_office"  # 考核办
    department = "department"  # 责任部门
    reporter = "reporter"  # 被考核单位填报员
    supervisor = "supervisor"  # 督查室
    leader = "leader"  # 领导
    organisation = "organisation"  # 组织部
    integration = "integration"  # 第三方系统 (13710, 统计局, payroll)
    system = "system"  # the platform's own processes (event handlers, demo seeding)


class Caller(BaseModel):
    """Who asks, with which roles, over which org subtree (a materialized path like `/14/1405/`)."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    roles: frozenset[Role]
    org_path: str = Field(
        pattern=r"^/(?:[^/]+/)*$",  # a materialised path: `/`, `/14/`, `/14/1405/` …
        description="root of the caller's subtree; every read and write stays under it",
    )
    indicator_codes: frozenset[str] = Field(default_factory=frozenset, description="a 责任部门's indicators")
    scopes: frozenset[str] = Field(default_factory=frozenset, description="API-key scopes for integrations")
    trace_id: str | None = None

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def covers(self, path: str) -> bool:
        """True when the unit at `path` lies in the caller's subtree (kaohe.contracts.paths, the one rule)."""
        return paths.within(path, self.org_path)

    def require(self, *roles: Role) -> None:
        if not self.has(*roles):
            wanted = ", ".join(r.value for r in roles)
            raise Forbidden(f"this operation needs one of the roles: {wanted}", code="forbidden_role")

    def require_covers(self, path: str, *, field: str = "unit_id") -> None:
        if not self.covers(path):
            raise Forbidden(
                "the unit is outside your organisation subtree", field=field, code="forbidden_scope"
            )

    @classmethod
    def system(cls, trace_id: str | None = None) -> Caller:
        return cls(user_id="system", roles=frozenset({Role.system}), org_path="/", trace_id=trace_id)
