"""Demo data (演示数据): a 晋城-like city, its "1+4" scheme and a quarter of reviewed data, via public APIs.

`seed()` goes through the gateway only, GraphQL and REST as the city's people and systems would: units,
categories, scheme validate → save → publish, one REST bulk import (JSON rows) per unit and period and per
responsible department and period, evidence uploaded to presigned URLs and confirmed, then 批量审核 by the
responsible departments and, for the two-level scheme, the 考核办. Everything it creates comes from
`build_plan` (parameters and a seed), so two runs with the same seed store the same values.

Re-running on a database already seeded with the same seed resumes: existing units are kept, imports
replay by client key, and only submissions still waiting are uploaded for and reviewed.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from demo.city import CITY, OFFICE_UNIT
from demo.client import ERR, Api, ApiError, DemoError, Who
from demo.scheme import YEAR
from demo.upload import Uploader, evidence_pdf, http_uploader
from demo.values import REJECT_REASON, Plan, PlannedValue, build_plan
from kaohe.contracts.scheme import Scheme

BATCH = 200  # submissions per 批量审核 call
CORRECTED = "已按统计部门口径核实更正"
OFFICE = Who("jincheng-kaoheban", "assessment_office", "/")  # the 考核办

UNIT_CREATE = f"mutation($i: UnitCreateInput!) {{ unitCreate(input: $i) {{ unit {{ id }} {ERR} }} }}"
CATEGORIES_SET = f"""mutation($i: CategoriesSetInput!) {{
  categoriesSet(input: $i) {{ categorySet {{ members }} {ERR} }} }}"""
VALIDATE = """query($a: String!, $y: Int!, $s: JSON!) {
  schemeValidate(assessingUnit: $a, year: $y, scheme: $s) { ok problems { path code message } } }"""
SCHEME = "query($a: String!, $y: Int!) { scheme(assessingUnit: $a, year: $y) { id status version scheme } }"
SAVE = f"mutation($i: SchemeSaveInput!) {{ schemeSave(input: $i) {{ scheme {{ id }} problems {ERR} }} }}"
PUBLISH = f"mutation($id: String!) {{ schemePublish(schemeId: $id) {{ scheme {{ id }} {ERR} }} }}"
SUBMISSIONS = """query($u: String!, $after: String) {
  submissions(unitId: $u, first: 200, after: $after) {
    nodes { id unitId code period status version } pageInfo { hasNextPage endCursor } } }"""
EVIDENCE = "query($ids: [ID!]!) { units(ids: $ids) { evidence { submissionId status locked } } }"
UPLOAD = f"""mutation($i: EvidenceUploadInput!) {{
  evidenceUploadRequest(input: $i) {{ evidenceId uploadUrl uploadHeaders {ERR} }} }}"""
CONFIRM = f"mutation($id: String!) {{ evidenceConfirm(evidenceId: $id) {{ evidence {{ id }} {ERR} }} }}"
REJECT = f"""mutation($id: String!, $r: String!) {{
  submissionReject(submissionId: $id, reason: $r) {{ submission {ERR} }} }}"""
UPDATE = f"""mutation($id: String!, $v: Int!, $x: Float, $n: String) {{
  submissionUpdate(submissionId: $id, expectedVersion: $v, value: $x, narrative: $n) {{
    submission {ERR} }} }}"""
APPROVE = f"""mutation($ids: [ID!]!) {{
  submissionBulkApprove(ids: $ids) {{
    items {{ id ok submission {{ final }} error {{ code message }} }} {ERR} }} }}"""


async def evidence_of(api: Api, units: list[str]) -> list[dict[str, Any]]:
    """The 佐证材料 of the units' submissions (submissionId, status, locked), 50 units a request."""
    found = await _limited(
        (api.gql(OFFICE, EVIDENCE, {"ids": units[i : i + 50]}) for i in range(0, len(units), 50)), 4
    )
    return [e for page in found for u in page["units"] if u for e in u["evidence"]]


async def _limited(coros: Iterable[Awaitable[Any]], limit: int) -> list[Any]:
    """Run awaitables at most `limit` at a time (the service and the machine are shared)."""
    sem = asyncio.Semaphore(limit)

    async def one(c: Awaitable[Any]) -> Any:
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


class _Seeder:
    def __init__(self, api: Api, plan: Plan, upload: Uploader, *, second_review: bool) -> None:
        self.api, self.plan, self.upload = api, plan, upload
        self.second_review = second_review
        self.city_path = plan.city.path(CITY)
        self.counts: Counter[str] = Counter()
        self.dept_codes: dict[str, set[str]] = {}  # 责任部门 → the indicators it provides or reviews
        for v in plan.values:
            self.dept_codes.setdefault(v.department, set()).add(v.code)

    def reporter(self, unit_id: str) -> Who:
        """The unit's own 填报员, scoped to its subtree."""
        return Who(f"tb-{unit_id}", "reporter", self.plan.city.path(unit_id))

    def department(self, dept: str) -> Who:
        """A 责任部门 over the city, limited to its own indicators (those it provides or reviews)."""
        if dept == OFFICE_UNIT:
            return OFFICE
        return Who(f"sh-{dept}", "department", self.city_path, frozenset(self.dept_codes.get(dept, ())))

    # --- units, categories, scheme -----------------------------------------------------------------

    async def units(self) -> None:
        depth: dict[str, int] = {}
        for u in self.plan.city.units:
            depth[u.id] = 0 if u.parent_id is None else depth[u.parent_id] + 1

        async def create(u: Any) -> None:
            unit = {"id": u.id, "name": u.name, "kind": u.kind, "validFrom": f"{YEAR - 1}-01-01"}
            if u.parent_id is not None:
                unit["parentId"] = u.parent_id
            try:
                await self.api.mutate(OFFICE, "unitCreate", UNIT_CREATE, {"i": unit})
                self.counts["units_created"] += 1
            except ApiError as e:
                if e.code != "unit_exists":
                    raise

        for level in range(max(depth.values()) + 1):  # parents before children
            await _limited((create(u) for u in self.plan.city.units if depth[u.id] == level), 8)

    async def scheme(self) -> str:
        body = self.plan.scheme.body
        categories = [
            {"name": "市直", "description": "市直单位：8项一级指标，领题攻坚"},
            {"name": "县区", "description": "县（市、区）：对照8项一级指标差异化赋分"},
            {"name": "乡镇", "description": "乡镇：3项一级指标"},
            {"name": "街道", "description": "街道：4项一级指标"},
        ]
        members = [{"unitId": u, "category": c} for u, c in self.plan.city.roster.items()]
        inp = {"assessingUnit": CITY, "year": YEAR, "categories": categories, "members": members}
        await self.api.mutate(OFFICE, "categoriesSet", CATEGORIES_SET, {"i": inp})
        checked = (await self.api.gql(OFFICE, VALIDATE, {"a": CITY, "y": YEAR, "s": body}))["schemeValidate"]
        if not checked["ok"]:
            raise DemoError(f"demo scheme invalid: {checked['problems'][:5]}")
        existing = await self._current_scheme()
        if existing is not None and existing["status"] == "published":
            mine = Scheme.model_validate({**body, "version": existing["version"]})
            if Scheme.model_validate(existing["scheme"]) != mine:
                raise DemoError("晋城市 2026 already has a different published scheme (another seed?)")
            return str(existing["id"])
        save = {"assessingUnit": CITY, "year": YEAR, "scheme": body, "secondReview": self.second_review}
        if existing is not None:
            save["schemeId"] = existing["id"]
        saved = await self.api.mutate(OFFICE, "schemeSave", SAVE, {"i": save})
        published = await self.api.mutate(OFFICE, "schemePublish", PUBLISH, {"id": saved["scheme"]["id"]})
        return str(published["scheme"]["id"])

    async def _current_scheme(self) -> dict[str, Any] | None:
        try:
            return dict((await self.api.gql(OFFICE, SCHEME, {"a": CITY, "y": YEAR}))["scheme"])
        except DemoError as e:
            if "not_found" in str(e) or "no scheme" in str(e):
                return None
            raise

    # --- submissions ---------------------------------------------------------------------------------

    async def imports(self, scheme_id: str) -> None:
        """One REST bulk import (JSON rows) per (unit, period) for unit reports, per (department, period)."""
        groups: dict[tuple[str, str, str], list[PlannedValue]] = {}
        for v in self.plan.values:
            who = v.unit_id if v.source == "unit_report" else v.department
            groups.setdefault((v.source, who, v.period), []).append(v)

        async def one(source: str, who: str, period: str, values: list[PlannedValue]) -> None:
            rows = [
                {
                    "unit_id": v.unit_id,
                    "indicator_code": v.code,
                    "period": period,
                    "value": v.grade if v.grade is not None else (v.first_value or v.value),
                    "note": "",
                }
                for v in values
            ]
            scope = {"unit_id": who} if source == "unit_report" else {"department": who}
            person = self.reporter(who) if source == "unit_report" else self.department(who)
            body = {
                "scheme_id": scheme_id,
                "period": period,
                "filename": f"{who}_{period}.json",
                "rows": rows,
                "dry_run": False,
                "client_key": f"demo-{self.plan.seed}-{source}-{who}-{period}",
                **scope,
            }
            res = await self.api.rest(person, "POST", "/submissions/bulk", body)
            if not res["ok"]:
                raise DemoError(f"import {who} {period}: {res['problems'][:3]}")
            self.counts["imports_replayed" if res.get("replayed") else "imports"] += 1

        await _limited((one(*k, vs) for k, vs in sorted(groups.items())), 4)

    async def stored(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """Every submission in the city, by (unit, code, period)."""
        out: dict[tuple[str, str, str], dict[str, Any]] = {}
        after = None
        while True:
            page = (await self.api.gql(OFFICE, SUBMISSIONS, {"u": CITY, "after": after}))["submissions"]
            for s in page["nodes"]:
                out[(s["unitId"], s["code"], s["period"])] = s
            if not page["pageInfo"]["hasNextPage"]:
                return out
            after = page["pageInfo"]["endCursor"]

    def _uploader_for(self, v: PlannedValue) -> Who:
        return self.reporter(v.unit_id) if v.source == "unit_report" else self.department(v.department)

    async def evidence(self, subs: dict[tuple[str, str, str], dict[str, Any]]) -> None:
        """佐证材料: presigned PUT straight to the object store, then confirm (SHA-256 re-read)."""

        async def one(v: PlannedValue, sub: dict[str, Any]) -> None:
            body = evidence_pdf(
                f"Jincheng {YEAR} {v.unit_id} {v.code} {v.period} evidence seed {self.plan.seed}"
            )
            who = self._uploader_for(v)
            inp = {
                "submissionId": sub["id"],
                "filename": f"{v.unit_id}_{v.code}_{v.period}_佐证材料.pdf",
                "contentType": "application/pdf",
                "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            }
            up = await self.api.mutate(who, "evidenceUploadRequest", UPLOAD, {"i": inp})
            await self.upload(up["uploadUrl"], body, up["uploadHeaders"] or {})
            await self.api.mutate(who, "evidenceConfirm", CONFIRM, {"id": up["evidenceId"]})
            self.counts["evidence"] += 1

        units = sorted({v.unit_id for v in self.plan.values if v.evidence})
        have = {e["submissionId"] for e in await evidence_of(self.api, units)}  # a resumed run skips them
        todo = [
            (v, subs[v.key])
            for v in self.plan.values
            if v.evidence and subs[v.key]["status"] == "submitted" and subs[v.key]["id"] not in have
        ]
        await _limited((one(v, s) for v, s in todo), 8)

    async def reviews(self, subs: dict[tuple[str, str, str], dict[str, Any]]) -> None:
        """责任部门 approve in pages (批量审核), a few rejected and corrected first; 考核办: second level."""
        todo = [
            v
            for v in self.plan.values
            if v.review != "pending" and subs[v.key]["status"] in ("submitted", "rejected", "reviewed")
        ]

        def reviewer(v: PlannedValue) -> Who:
            # department-provided statistics are checked by the 考核办 itself; unit reports by the 责任部门
            if v.source == "department":
                return OFFICE
            return self.department(v.department)

        async def reject(v: PlannedValue) -> None:
            sid = subs[v.key]["id"]
            rej = await self.api.mutate(
                reviewer(v), "submissionReject", REJECT, {"id": sid, "r": REJECT_REASON}
            )
            self.counts["rejected"] += 1
            fix = {
                "id": sid,
                "v": rej["submission"]["version"],
                "x": v.value,
                "n": "已按统计部门口径核实更正",
            }
            await self.api.mutate(self._uploader_for(v), "submissionUpdate", UPDATE, fix)

        await _limited(
            (reject(v) for v in todo if v.review == "reject" and subs[v.key]["status"] == "submitted"), 8
        )
        by_reviewer: dict[str, tuple[Who, list[str]]] = {}
        for v in todo:
            who = reviewer(v)
            by_reviewer.setdefault(who.user_id, (who, []))[1].append(subs[v.key]["id"])
        batches = [
            (who, ids[i : i + BATCH]) for who, ids in by_reviewer.values() for i in range(0, len(ids), BATCH)
        ]
        level2 = [
            x for chunk in await _limited((self.approve(w, ids) for w, ids in batches), 4) for x in chunk
        ]
        self.counts["reviewed_level1"] += len(level2)
        for i in range(0, len(level2), BATCH):
            left = await self.approve(OFFICE, level2[i : i + BATCH])
            if left:
                raise DemoError(f"{len(left)} submission(s) still not final after the 考核办's approval")

    async def approve(self, who: Who, ids: list[str]) -> list[str]:
        """One 批量审核 call; returns the ids now waiting for the second level (reviewed, not final)."""
        res = await self.api.mutate(who, "submissionBulkApprove", APPROVE, {"ids": ids})
        failed = [x for x in res["items"] if not x["ok"]]
        if failed:
            raise DemoError(f"{len(failed)} approval(s) refused, first: {failed[0]['error']}")
        self.counts["approved"] += sum(bool(x["submission"]["final"]) for x in res["items"])
        return [x["id"] for x in res["items"] if not x["submission"]["final"]]


async def seed(
    api: Api,
    *,
    seed: int = 1,
    progress: Callable[[str], None] = print,
    evidence: Uploader | None = None,
    departments: int = 30,
    towns_per_county: int = 8,
    villages_per_town: int = 4,
    second_review: bool = True,
) -> dict[str, Any]:
    """Create the demo city, scheme and 2026-Q1 data through GraphQL and REST as its people would."""
    plan = build_plan(
        seed, departments=departments, towns_per_county=towns_per_county, villages_per_town=villages_per_town
    )
    upload = evidence if evidence is not None else http_uploader(api.http)
    return await _run(_Seeder(api, plan, upload, second_review=second_review), progress)


async def _run(s: _Seeder, progress: Callable[[str], None]) -> dict[str, Any]:
    t0 = time.monotonic()
    plan, second_review = s.plan, s.second_review
    kinds = Counter(u.kind for u in plan.city.units)

    def step(n: int, msg: str) -> None:
        progress(f"[demo {n}/6 {time.monotonic() - t0:5.1f}s] {msg}")

    k = kinds
    step(1, f"units: 山西省 → 晋城市 → {k['county']} 县(市、区), {k['township']} 乡镇, {k['street']} 街道, "
         f"{k['village']} 村, {k['community']} 社区, {k['department']} 部门")  # fmt: skip
    await s.units()
    leaves = len(plan.scheme.leaves)
    step(
        2, f"categories 市直/县区/乡镇/街道 and the “1+4” scheme ({leaves} scored leaves): validate, publish"
    )
    scheme_id = await s.scheme()
    step(3, f"bulk import of {len(plan.values)} values for {YEAR}-Q1 (units and responsible departments)")
    await s.imports(scheme_id)
    subs = await s.stored()
    step(4, f"evidence: {sum(v.evidence for v in plan.values)} PDFs to presigned URLs, SHA-256 confirmed")
    await s.evidence(subs)
    step(5, "reviews by the responsible departments" + (" and the 考核办" if second_review else ""))
    await s.reviews(subs)
    final = await s.stored()
    statuses = Counter(x["status"] for x in final.values())
    summary = _summary(plan, scheme_id, kinds, statuses, s.counts)
    step(6, f"done: {summary['submissions']} submissions, {summary['approved']} approved, "
         f"{summary['evidence']} with evidence, {summary['pending']} pending")  # fmt: skip
    summary["seconds"] = round(time.monotonic() - t0, 1)
    return summary


def _summary(
    plan: Plan, scheme_id: str, kinds: Counter[str], statuses: Counter[str], counts: Counter[str]
) -> dict[str, Any]:
    perf = plan.performance
    roster = plan.city.roster
    by_cat: dict[str, list[str]] = {}
    for u, cat in roster.items():
        by_cat.setdefault(cat, []).append(u)
    return {
        "seed": plan.seed,
        "scheme_id": scheme_id,
        "assessing_unit": CITY,
        "year": YEAR,
        "units": len(plan.city.units),
        "units_by_kind": dict(sorted(kinds.items())),
        "assessed_by_category": {c: len(us) for c, us in sorted(by_cat.items())},
        "indicators": len(plan.scheme.leaves),
        "submissions": sum(statuses.values()),
        "by_status": dict(sorted(statuses.items())),
        "evidence": sum(v.evidence for v in plan.values),
        "approved": statuses["approved"],
        "rejected_then_corrected": sum(v.review == "reject" for v in plan.values),
        "pending": statuses["submitted"],
        "calls": dict(sorted(counts.items())),
        "units_of_interest": {
            "城区": "140502",
            "泽州县": "140525",
            "lagging": {c: min(us, key=lambda u: perf[u]) for c, us in sorted(by_cat.items())},
            "leading": {c: max(us, key=lambda u: perf[u]) for c, us in sorted(by_cat.items())},
            "vetoed": plan.vetoed,
        },
    }
