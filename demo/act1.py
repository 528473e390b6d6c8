"""The walking-skeleton scenario, driven through the gateway's GraphQL API like a real client would."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from gateway.auth import issue_dev_token
from kaohe.settings import GatewaySettings

UNIT_QUERY = """
query Unit($id: ID!) {
  unit(id: $id) {
    id name kind path
    score { period total leaves version updatedAt }
    evidence { id filename sha256 size status locked downloadUrl }
    supervisionSignals { period total receivedAt }
    resultRecords { period total scoreVersion recordedAt }
  }
}"""


class DemoError(RuntimeError):
    pass


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


UNIT_CREATE = """mutation($i: UnitCreateInput!) {
  unitCreate(input: $i) { unit { id path } errors { code field message } }
}"""


def run(
    gateway_url: str, *, progress: Callable[[str], None] = print, timeout_s: float = 30
) -> dict[str, Any]:
    """Create a unit and an indicator, submit with evidence, approve, and read the score back via GraphQL."""
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
            "2/6 creating indicator 固定资产投资增速 (weight 10, target 8%, completion ratio capped at 120%)"
        )
        gql.mutate(
            "indicatorCreate",
            """mutation($i: IndicatorCreateInput!) { indicatorCreate(input: $i) {
            indicator errors { code field message } } }""",
            {
                "i": {
                    "code": f"FAI-{tag}",
                    "name": "固定资产投资增速",
                    "weight": 10,
                    "target": 8.0,
                    "unitOfMeasure": "%",
                    "standard": {"type": "completion_ratio", "cap": 1.2},
                }
            },
        )
        reporter = issue_dev_token(
            settings, user_id="chengqu-tianbao", roles=["reporter"], org_path=county["unit"]["path"]
        )
        rep = GraphQLClient(gateway_url, reporter, http)
        progress("3/6 城区 reporter submits 7.2% for 2026-Q3 with a PDF as evidence (佐证材料)")
        sub = rep.mutate(
            "submissionCreate",
            """mutation($i: SubmissionCreateInput!) { submissionCreate(input: $i) {
            submission errors { code field message } } }""",
            {
                "i": {
                    "unitId": unit_id,
                    "indicatorCode": f"FAI-{tag}",
                    "period": "2026-Q3",
                    "value": 7.2,
                    "narrative": "前三季度固定资产投资同比增长7.2%",
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
            if unit["score"] and unit["supervisionSignals"] and unit["resultRecords"]:
                break
            if time.monotonic() > deadline:
                raise DemoError(f"score not visible through the gateway after {timeout_s}s: {unit}")
            time.sleep(0.05)
        ms = (time.monotonic() - t0) * 1000
        progress(
            f"6/6 score {unit['score']['total']} visible through GraphQL {ms:.0f} ms after approval; "
            "supervision and rewards recorded it"
        )
        return unit
