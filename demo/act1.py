"""Act 1, the walking skeleton on a one-leaf published scheme, through the gateway as a real client would."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from demo.client import DemoError
from gateway.settings import GatewaySettings
from kaohe.tokens import issue_dev_token

PERIOD = "2026-Q3"
UNIT_QUERY = """
query Unit($id: ID!) {
  unit(id: $id) {
    id name kind path
    evidence { id filename sha256 size status locked downloadUrl }
    supervisionSignals { period total receivedAt }
    resultRecords { period consequence amountFen recordedAt }
  }
}"""


class GraphQLClient:
    def __init__(self, base_url: str, token: str, http: httpx.Client) -> None:
        self.url = f"{base_url}/graphql"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.http = http

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.http.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=self.headers
        )
        body = r.json()
        if r.status_code != 200 or body.get("errors"):
            raise DemoError(f"GraphQL error ({r.status_code}): {body.get('errors')}")
        return body["data"]  # type: ignore[no-any-return]

    def mutate(self, name: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        payload = self(query, variables)[name]
        if payload["errors"]:
            raise DemoError(f"{name}: {payload['errors']}")
        return payload  # type: ignore[no-any-return]


def client(gateway_url: str, *, role: str = "assessment_office", org_path: str = "/") -> GraphQLClient:
    """A GraphQL client with a development token (the 考核办 at the root by default)."""
    token = issue_dev_token(GatewaySettings(), user_id="kaohe-ban", roles=[role], org_path=org_path)
    return GraphQLClient(gateway_url, token, httpx.Client(timeout=60))


def sample_pdf(text: str) -> bytes:
    """A small, valid one-page PDF used as evidence."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + o + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += f"trailer << /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


RANKING = """query Ranking($s: ID!, $p: String!) {
  ranking(schemeId: $s, period: $p, category: "县区") { nodes { unitId rank of total indicators } }
}"""
CATEGORIES_SET = """mutation($i: CategoriesSetInput!) {
  categoriesSet(input: $i) { categorySet { members } errors { code field message } }
}"""
SCHEME_SAVE = """mutation($i: SchemeSaveInput!) {
  schemeSave(input: $i) { scheme { id } problems errors { code field message } }
}"""
SCHEME_PUBLISH = """mutation($id: String!) {
  schemePublish(schemeId: $id) { scheme { id status } errors { code field message } }
}"""
UNIT_CREATE = """mutation($i: UnitCreateInput!) {
  unitCreate(input: $i) { unit { id path } errors { code field message } }
}"""


def publish_one_leaf(gql: GraphQLClient, *, city: str, member: str, code: str) -> str:
    """The smallest real book: one category with one member, one scored leaf, published (→ scoring)."""
    categories = {"name": "县区", "description": "县（市、区）"}
    members = [{"unitId": member, "category": "县区"}]
    gql.mutate(
        "categoriesSet",
        CATEGORIES_SET,
        {"i": {"assessingUnit": city, "year": 2026, "categories": [categories], "members": members}},
    )
    leaf = {
        "code": code,
        "name": "固定资产投资增速",
        "level": 2,
        "weight": 10,
        "target": 8.0,
        "unit_of_measure": "%",
        "standard": {"type": "completion_ratio", "cap": 1.2},
    }
    scheme = {
        "assessing_unit": city,
        "year": 2026,
        "name": "晋城市2026年度目标责任考核（演示：一项指标）",
        "total": 10,
        "categories": ["县区"],
        "trunk": [{"code": f"{code}-1", "name": "项目支撑", "level": 1, "weight": 10, "children": [leaf]}],
    }
    saved = gql.mutate(
        "schemeSave", SCHEME_SAVE, {"i": {"assessingUnit": city, "year": 2026, "scheme": scheme}}
    )
    if saved["problems"]:
        raise DemoError(f"schemeSave: {saved['problems']}")
    published = gql.mutate("schemePublish", SCHEME_PUBLISH, {"id": saved["scheme"]["id"]})
    return str(published["scheme"]["id"])


def run(
    gateway_url: str, *, progress: Callable[[str], None] = print, timeout_s: float = 30
) -> dict[str, Any]:
    """Units, a one-leaf published scheme, a submission with evidence, approval, the score read back."""
    settings = GatewaySettings()
    tag = uuid.uuid4().hex[:6]
    office = issue_dev_token(settings, user_id="kaohe-ban", roles=["assessment_office"], org_path="/")
    with httpx.Client(timeout=30) as http:
        gql = GraphQLClient(gateway_url, office, http)
        progress("1/6 creating units 山西省 → 晋城市 → 城区 (indicators service)")
        province = gql(UNIT_CREATE, {"i": {"id": f"14{tag}", "name": "山西省", "kind": "province"}})[
            "unitCreate"
        ]
        if province["errors"]:
            raise DemoError(str(province["errors"]))
        city = gql.mutate(
            "unitCreate",
            UNIT_CREATE,
            {"i": {"id": f"1405{tag}", "name": "晋城市", "kind": "city", "parentId": f"14{tag}"}},
        )
        county = gql.mutate(
            "unitCreate",
            UNIT_CREATE,
            {"i": {"id": f"140502{tag}", "name": "城区", "kind": "county", "parentId": f"1405{tag}"}},
        )
        unit_id = county["unit"]["id"]
        progress(
            "2/6 publishing a one-leaf scheme for 晋城市: 固定资产投资增速 "
            "(weight 10, target 8%, completion ratio capped at 120%), 城区 in category 县区"
        )
        scheme_id = publish_one_leaf(gql, city=f"1405{tag}", member=unit_id, code=f"FAI-{tag}")
        reporter = issue_dev_token(
            settings, user_id="chengqu-tianbao", roles=["reporter"], org_path=county["unit"]["path"]
        )
        rep = GraphQLClient(gateway_url, reporter, http)
        progress("3/6 城区 reporter submits 5.4% for 2026-Q3 (序时进度: ~¾ of 8% due) with a PDF (佐证材料)")
        sub = rep.mutate(
            "submissionCreate",
            """mutation($i: SubmissionCreateInput!) { submissionCreate(input: $i) {
            submission errors { code field message } } }""",
            {
                "i": {
                    "unitId": unit_id,
                    "indicatorCode": f"FAI-{tag}",
                    "period": PERIOD,
                    "value": 5.4,
                    "narrative": "前三季度固定资产投资同比增长5.4%",
                }
            },
        )["submission"]
        pdf = sample_pdf(f"Chengqu 2026-Q3 fixed-asset investment report {tag}")
        digest = hashlib.sha256(pdf).hexdigest()
        up = rep.mutate(
            "evidenceUploadRequest",
            """mutation($i: EvidenceUploadInput!) { evidenceUploadRequest(input: $i) {
            evidenceId uploadUrl uploadHeaders expiresInS errors { code field message } } }""",
            {
                "i": {
                    "submissionId": sub["id"],
                    "filename": "2026Q3-投资统计.pdf",
                    "contentType": "application/pdf",
                    "size": len(pdf),
                    "sha256": digest,
                }
            },
        )
        put = http.put(up["uploadUrl"], content=pdf, headers=up["uploadHeaders"] or {})
        if put.status_code != 200:
            raise DemoError(f"upload to the presigned URL failed: {put.status_code} {put.text[:200]}")
        ev = rep.mutate(
            "evidenceConfirm",
            """mutation($id: String!) { evidenceConfirm(evidenceId: $id) {
            evidence { sha256 status } errors { code field message } } }""",
            {"id": up["evidenceId"]},
        )
        progress(
            f"4/6 evidence uploaded straight to S3 and verified: sha256 {ev['evidence']['sha256'][:16]}…"
        )
        dept = issue_dev_token(
            settings,
            user_id="jincheng-fagai",
            roles=["department"],
            org_path=city["unit"]["path"],
            indicator_codes=[f"FAI-{tag}"],  # a 责任部门 reviews only its own indicators
        )
        progress("5/6 晋城市发改委 (responsible department) approves → outbox → JetStream → scoring")
        t0 = time.monotonic()
        GraphQLClient(gateway_url, dept, http).mutate(
            "submissionApprove",
            """mutation($id: String!) {
            submissionApprove(submissionId: $id) { submission errors { code field message } } }""",
            {"id": sub["id"]},
        )
        deadline = t0 + timeout_s
        while True:
            unit = gql(UNIT_QUERY, {"id": unit_id})["unit"]
            rows = gql(RANKING, {"s": scheme_id, "p": PERIOD})["ranking"]["nodes"]
            if rows and unit["supervisionSignals"]:  # rewards waits for published results
                unit["score"] = {"period": PERIOD, "scheme_id": scheme_id, **rows[0]}  # read from the ranking
                break
            if time.monotonic() > deadline:
                raise DemoError(f"score not visible through the gateway after {timeout_s}s: {unit}")
            time.sleep(0.05)
        ms = (time.monotonic() - t0) * 1000
        progress(
            f"6/6 score {unit['score']['total']} visible through GraphQL {ms:.0f} ms after approval; "
            "supervision recorded it (rewards acts on published results only)"
        )
        return unit
