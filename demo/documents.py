"""The demo's last step: the 考核办 issues the quarter's 考核结果通报 and one 预警单 (documents service) and
prints their 文号 and download links (presigned, valid a few minutes), as an office would send them out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from demo.act1 import client
from demo.act2 import PERIOD

OFFICE = {"office": "晋城市考核工作领导小组办公室", "officeCode": "晋城考办"}
BULLETIN = """mutation($i: DocumentIssueBulletinInput!) { documentIssueBulletin(input: $i) {
  document { documentId number title status pages files { format sha256 url } }
  errors { code field message } } }"""
SLIP = """mutation($i: DocumentIssueSlipInput!) { documentIssueSlip(input: $i) {
  document { documentId number title status pages files { format sha256 url } }
  errors { code field message } } }"""
BOARD = """query($s: ID!, $p: String!) { board(schemeId: $s, period: $p, first: 50) {
  nodes { unitId unitName colour worstLag } } }"""


def run(gateway_url: str, summary: dict[str, Any], progress: Callable[[str], None]) -> dict[str, Any]:
    """Issue the bulletin and a 预警单 for the unit furthest behind schedule; print where to fetch them."""
    gql = client(gateway_url, org_path="/")
    scheme_id = summary["scheme_id"]
    progress(f"— 公文: the {PERIOD} 考核结果通报 and a 预警单 —")
    bulletin = gql.mutate(
        "documentIssueBulletin",
        BULLETIN,
        {
            "i": {
                "schemeId": scheme_id,
                "period": PERIOD,
                **OFFICE,
                "recipients": "各县（市、区）、市直各单位",
            }
        },
    )["document"]
    _show(bulletin, progress)
    rows = gql(BOARD, {"s": scheme_id, "p": PERIOD})["board"]["nodes"]
    behind = [r for r in rows if r["worstLag"] is not None]
    unit = max(behind, key=lambda r: r["worstLag"]) if behind else None
    out = {"bulletin": bulletin}
    if unit is None:
        progress("   no unit is behind schedule this quarter: no 预警单 to issue")
        return out
    slip = gql.mutate(
        "documentIssueSlip",
        SLIP,
        {
            "i": {
                "schemeId": scheme_id,
                "period": PERIOD,
                "unitId": unit["unitId"],
                **OFFICE,
                "kind": "WARNING",
            }
        },
    )["document"]
    _show(slip, progress)
    out["slip"] = slip
    return out


def _show(doc: dict[str, Any], progress: Callable[[str], None]) -> None:
    status = "初步结果" if doc["status"] == "preliminary" else "已发布结果"
    progress(f"   {doc['number']} {doc['title']} ({doc['pages']} 页, {status})")
    for f in doc["files"]:
        progress(f"     {f['format'].upper()} sha256 {f['sha256'][:16]}…  {f['url']}")
