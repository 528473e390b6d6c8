"""批量填报: templates out, uploads back in as a dry-run report; round trips and error reporting."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest

from kaohe.contracts.periods import Period
from kaohe.contracts.periods import normalize as normalize_period
from kaohe.contracts.scheme import Indicator, Scheme, ValueSpec
from kaohe.contracts.standards import CompletionRatio, Qualitative
from services.indicators.domain.bulk import (
    HEADERS,
    AssessedUnit,
    CopyRow,
    ImportContext,
    copy_lines,
    parse_csv,
    parse_json,
    parse_upload,
    parse_xlsx,
)
from services.indicators.domain.bulk_template import (
    department_context,
    template_rows,
    unit_context,
    write_csv,
    write_xlsx,
)
from services.indicators.domain.values import FieldSpec
from services.indicators.errors import IndicatorsErrorCode as ErrorCode

CITY = AssessedUnit(id="140502", name="城区", category="县区")
ZEZHOU = AssessedUnit(id="140525", name="泽州县", category="县区")


def scheme() -> Scheme:
    def ind(code: str, name: str, **kw: object) -> Indicator:
        return Indicator(code=code, name=name, level=1, weight=25, **kw)  # type: ignore[arg-type]

    return Scheme(
        assessing_unit="晋城市",
        year=2026,
        trunk=[
            ind("A01", "固定资产投资", standard=CompletionRatio(), target=100, unit_of_measure="亿元"),
            ind("A02", "空气质量优良天数比例", standard=CompletionRatio(), target=80, unit_of_measure="%"),
            ind("A03", "领导评议", standard=Qualitative()),
            ind(
                "A04",
                "新增市场主体",
                standard=CompletionRatio(),
                target=500,
                source="department",
                department="市场监管局",
                value=ValueSpec(kind="count"),
            ),
        ],
    )


def csv_bytes(
    rows: list[list[object]], header: tuple[str, ...] = HEADERS, encoding: str = "utf-8-sig"
) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def test_unit_template_lists_its_own_indicators_with_chinese_headers() -> None:
    ctx = unit_context(scheme(), CITY, "2026-03")
    out = io.BytesIO()
    write_csv(ctx, out)
    raw = out.getvalue()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [
        "单位代码",
        "单位名称",
        "指标代码",
        "指标名称",
        "计量单位",
        "取值要求",
        "期间",
        "数值",
        "说明",
    ]
    # A04 is reported by 市场监管局, not by the unit
    assert [r[2] for r in rows[1:]] == ["A01", "A02", "A03"]
    assert rows[2] == [
        "140502",
        "城区",
        "A02",
        "空气质量优良天数比例",
        "%",
        "百分比 0~100",
        "2026年3月",
        "",
        "",
    ]
    assert rows[3][5] == "等级 好/较好/一般/差"


def test_csv_round_trip_template_fill_import() -> None:
    ctx = unit_context(scheme(), CITY, "2026-03")
    out = io.BytesIO()
    write_csv(ctx, out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    fills = {"A01": "23.5", "A02": "86.1", "A03": "较好"}
    for r in rows[1:]:
        r[7] = fills[r[2]]
    rows[1][8] = "含省级项目"
    report = parse_csv(io.BytesIO(csv_bytes(rows[1:])), ctx)
    assert report.ok, report.problems
    assert report.rows == [
        CopyRow("140502", "A01", "2026-03", 23.5, "含省级项目"),
        CopyRow("140502", "A02", "2026-03", 86.1, ""),
        CopyRow("140502", "A03", "2026-03", "较好", ""),
    ]
    assert report.rows_read == 3


def test_department_template_crosses_its_indicators_with_units() -> None:
    ctx = department_context(scheme(), "市场监管局", [CITY, ZEZHOU], "2026-Q1")
    rows = template_rows(ctx)
    assert [(r.unit_id, r.indicator_code, r.period) for r in rows] == [
        ("140502", "A04", "2026年第1季度"),
        ("140525", "A04", "2026年第1季度"),
    ]
    assert rows[0].requirement == "整数 0~"


def test_xlsx_round_trip_with_hidden_key_and_locked_cells() -> None:
    ctx = unit_context(scheme(), CITY, "2026-03")
    out = io.BytesIO()
    write_xlsx(ctx, out)
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    ws = wb["填报"]
    assert ws.protection.sheet is True
    assert ws.column_dimensions["J"].hidden is True
    assert ws["J1"].value == "校验键"
    assert ws["J2"].value == "140502|A01|2026-03"
    assert ws["H2"].protection.locked is False  # 数值 is editable
    assert ws["A2"].protection.locked is True
    for r, v in zip(range(2, 5), (23.5, 86.1, "好"), strict=True):
        ws.cell(r, 8, v)
    filled = io.BytesIO()
    wb.save(filled)
    filled.seek(0)
    report = parse_xlsx(filled, ctx)
    assert report.ok, report.problems
    assert [(r.indicator_code, r.value) for r in report.rows] == [("A01", 23.5), ("A02", 86.1), ("A03", "好")]


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("2026年3月", "2026-03"),
        ("2026-3", "2026-03"),
        ("2026/3/1", "2026-03"),  # what a CSV re-saved by Excel carries
        ("202603", "2026-03"),
        (dt.datetime(2026, 3, 1), "2026-03"),  # an XLSX cell Excel turned into a date
        ("２０２６年第一季度", "2026-Q1"),
        ("2026年上半年", "2026-H1"),
        ("2026年度", "2026"),
        (2026.0, "2026"),
        ("20263", None),
        ("2026-13", None),
        ("三月", None),
    ],
)
def test_periods_are_read_in_the_forms_people_type(raw: object, canonical: str | None) -> None:
    assert normalize_period(raw) == canonical


def test_period_labels_round_trip() -> None:
    for period in ("2026", "2026-H2", "2026-Q4", "2026-11"):
        assert normalize_period(Period.parse(period).label) == period


def test_a_date_typed_into_the_xlsx_period_cell_is_accepted() -> None:
    ctx = unit_context(scheme(), CITY, "2026-03")
    out = io.BytesIO()
    write_xlsx(ctx, out)
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    ws = wb["填报"]
    ws.delete_rows(3, 2)
    ws["G2"], ws["H2"] = dt.datetime(2026, 3, 15), 7
    filled = io.BytesIO()
    wb.save(filled)
    filled.seek(0)
    report = parse_xlsx(filled, ctx)
    assert report.rows == [CopyRow("140502", "A01", "2026-03", 7.0, "")]


def test_an_edited_key_cell_is_caught() -> None:
    ctx = unit_context(scheme(), CITY, "2026-03")
    out = io.BytesIO()
    write_xlsx(ctx, out)
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    ws = wb["填报"]
    ws["C2"], ws["C3"] = "A02", "A01"  # codes swapped after unlocking the sheet
    for r in (2, 3, 4):
        ws.cell(r, 8, "好" if r == 4 else 1)
    filled = io.BytesIO()
    wb.save(filled)
    filled.seek(0)
    report = parse_xlsx(filled, ctx)
    assert [(p.row, p.column, p.code) for p in report.problems] == [
        (2, "校验键", ErrorCode.KEY_MISMATCH),
        (3, "校验键", ErrorCode.KEY_MISMATCH),
    ]
    assert report.rows == []


def test_a_file_with_several_errors_reports_each_and_accepts_nothing() -> None:
    ctx = unit_context(scheme(), CITY, "2026-03")
    rows = [
        ["140502", "城区", "A01", "", "", "", "2026年3月", "23.5", ""],  # 2: fine on its own
        ["999999", "外县", "A01", "", "", "", "2026年3月", "1", ""],  # 3: unknown unit
        ["140502", "城区", "A99", "", "", "", "2026年3月", "1", ""],  # 4: unknown indicator
        ["140502", "城区", "A02", "", "", "", "2026年3月", "九十", ""],  # 5: not a number
        ["140502", "城区", "A02", "", "", "", "2026年3月", "120", ""],  # 6: duplicate of 5 and > 100
        ["140502", "城区", "A03", "", "", "", "2026年4月", "好", ""],  # 7: wrong period
        ["140502", "城区", "A04", "", "", "", "2026年3月", "3", ""],  # 8: the department's indicator
        ["", "城区", "A03", "", "", "", "2026年3月", "", ""],  # 9: no unit, no value
    ]
    report = parse_csv(io.BytesIO(csv_bytes(rows)), ctx)
    assert not report.ok
    assert report.rows == []
    assert [(p.row, p.column, p.code) for p in report.problems] == [
        (3, "单位代码", ErrorCode.UNKNOWN_UNIT),
        (4, "指标代码", ErrorCode.UNKNOWN_INDICATOR),
        (5, "数值", ErrorCode.NOT_A_NUMBER),
        (6, "指标代码", ErrorCode.DUPLICATE_ROW),
        (6, "数值", ErrorCode.OUT_OF_RANGE),
        (7, "期间", ErrorCode.WRONG_PERIOD),
        (8, "指标代码", ErrorCode.NOT_APPLICABLE),
        (9, "单位代码", ErrorCode.FIELD_MISSING),
    ]
    messages = {(p.row, p.column): p.message for p in report.problems}
    assert messages[(6, "指标代码")] == "第 6 行「指标代码」：与第 5 行重复（同一单位、指标、期间）"
    assert messages[(7, "期间")] == "第 7 行「期间」：期间为 2026年4月，本次应为 2026年3月"
    assert report.problem_count == 8


def test_a_missing_value_and_a_missing_column_are_reported() -> None:
    ctx = unit_context(scheme(), CITY, "2026-03")
    blank = parse_csv(io.BytesIO(csv_bytes([["140502", "", "A01", "", "", "", "2026-03", "", ""]])), ctx)
    assert [(p.row, p.column, p.code) for p in blank.problems] == [(2, "数值", ErrorCode.VALUE_MISSING)]
    no_period = csv_bytes([["140502", "A01", "1"]], header=("单位代码", "指标代码", "数值"))
    report = parse_csv(io.BytesIO(no_period), ctx)
    assert [(p.row, p.column, p.code) for p in report.problems] == [(1, "期间", ErrorCode.MISSING_COLUMN)]


def test_gb18030_csv_saved_by_excel_and_a_date_mangled_period_are_read() -> None:
    ctx = unit_context(scheme(), CITY, "2026-03")
    rows = [["140502", "城区", "A01", "固定资产投资", "亿元", "", "2026/3/1", "1,234.5", "备注"]]
    report = parse_csv(io.BytesIO(csv_bytes(rows, encoding="gb18030")), ctx, max_problems=10)
    # the other two indicators are simply not in this file; only what is present is checked
    assert report.ok, report.problems
    assert report.rows == [CopyRow("140502", "A01", "2026-03", 1234.5, "备注")]


def test_json_upload_with_english_keys() -> None:
    ctx = unit_context(scheme(), CITY, "2026-03")
    body = [
        {"unit_id": "140502", "indicator_code": "A01", "period": "2026-03", "value": 12},
        {"unit_id": "140502", "indicator_code": "A03", "period": "2026-03", "value": "差", "note": "整改中"},
        {"unit_id": "140502", "indicator_code": "A02", "period": "2026-03", "value": -1},
    ]
    report = parse_json(io.BytesIO(json.dumps(body).encode()), ctx)
    assert [(p.row, p.column, p.code) for p in report.problems] == [(3, "数值", ErrorCode.OUT_OF_RANGE)]
    report = parse_upload(io.BytesIO(json.dumps(body[:2]).encode()), "data.json", ctx)
    assert [r.value for r in report.rows] == [12.0, "差"]


def test_unsupported_or_broken_files_are_one_problem() -> None:
    ctx = unit_context(scheme(), CITY, "2026-03")
    assert parse_upload(io.BytesIO(b"x"), "data.pdf", ctx).problems[0].code == ErrorCode.BAD_FILE
    assert parse_upload(io.BytesIO(b"not a zip"), "data.xlsx", ctx).problems[0].code == ErrorCode.BAD_FILE
    assert parse_csv(io.BytesIO(b""), ctx).problems[0].code == ErrorCode.BAD_FILE


def test_outliers_against_last_period_are_flags_not_problems() -> None:
    ctx = unit_context(scheme(), CITY, "2026-03")
    rows = [["140502", "", "A01", "", "", "", "2026-03", "500", ""]]
    report = parse_csv(io.BytesIO(csv_bytes(rows)), ctx, previous={("140502", "A01"): 50})
    assert report.ok
    assert [(f.row, f.column, f.code) for f in report.flags] == [(2, "数值", ErrorCode.OUTLIER_CHANGE)]


def test_copy_lines_escape_tabs_and_newlines() -> None:
    lines = list(
        copy_lines(
            [
                CopyRow("u", "A01", "2026-03", 1.5, "第一行\n第二\t列"),
                CopyRow("u", "A03", "2026-03", "好", ""),
            ]
        )
    )
    assert lines == ["u\tA01\t2026-03\t1.5\t第一行\\n第二\\t列\n", "u\tA03\t2026-03\t好\t\n"]


def test_display_cells_cannot_smuggle_excel_formulas() -> None:
    ctx = unit_context(scheme(), AssessedUnit(id="x", name="=HYPERLINK(1)"), "2026")
    assert template_rows(ctx)[0].unit_name == "'=HYPERLINK(1)"


def test_100k_csv_rows_parse_completely_and_in_order() -> None:
    # Speed is bench/ingest.py's business (timed tests flake on a shared machine); this checks the result.
    spec = FieldSpec(code="c", name="n", value=ValueSpec(min_value=0))
    units = [f"U{i:04d}" for i in range(1000)]
    codes = [f"C{j:03d}" for j in range(100)]
    ctx = ImportContext(
        period="2026-03",
        expected={(u, c): spec for u in units for c in codes},
        unit_names=dict.fromkeys(units, "单位"),
        known_codes=frozenset(codes),
    )
    lines = ["单位代码,单位名称,指标代码,指标名称,计量单位,取值要求,期间,数值,说明"]
    lines += [f"{u},单位,{c},指标,亿元,数值,2026年3月,{i % 997}.25," for i, (u, c) in enumerate(ctx.expected)]
    data = ("\n".join(lines) + "\n").encode("utf-8-sig")
    report = parse_csv(io.BytesIO(data), ctx)
    assert report.ok
    assert len(report.rows) == 100_000
    assert report.rows[-1] == CopyRow("U0999", "C099", "2026-03", float(99_999 % 997) + 0.25, "")


def test_the_problem_list_is_capped_but_every_problem_is_counted() -> None:
    ctx = unit_context(scheme(), CITY, "2026-03")
    rows = [["140502", "", code, "", "", "", "2025年3月", "  ", ""] for code in ("A01", "A02", "A03")]
    report = parse_csv(io.BytesIO(csv_bytes(rows)), ctx, max_problems=2)
    # each row: wrong period + a whitespace-only value = 2 problems, 6 in all
    assert report.problem_count == 6
    assert len(report.problems) == 2
    assert report.truncated
    assert [p.code for p in report.problems] == [
        ErrorCode.WRONG_PERIOD,
        ErrorCode.VALUE_MISSING,
    ]


def test_every_problem_of_a_row_is_reported_in_column_order() -> None:
    spec = FieldSpec(code="A01", name="固定资产投资")
    ctx = ImportContext(
        period="2026-03",
        expected={("140502", "A01"): spec, ("140525", "A01"): spec},
        unit_names={"140502": "城区", "140525": "泽州县"},
        known_codes=frozenset({"A01"}),
        locked=frozenset({("140525", "A01")}),
    )
    rows = [
        {"unit_id": "999", "indicator_code": "A01", "period": "2026-04", "value": 1},
        {"unit_id": "140525", "indicator_code": "A01", "period": "2026年3月", "value": 1},
        {"unit_id": "140525", "indicator_code": "A01", "period": "", "value": "x"},
        {"unit_id": "140502", "indicator_code": "A01", "period": "2026-03", "value": 2},
    ]
    report = parse_json(io.BytesIO(json.dumps(rows).encode()), ctx)
    assert [(p.row, p.column, p.code) for p in report.problems] == [
        (1, "单位代码", ErrorCode.UNKNOWN_UNIT),
        (1, "期间", ErrorCode.WRONG_PERIOD),
        (2, "数值", ErrorCode.SUBMISSION_LOCKED),
        (3, "期间", ErrorCode.FIELD_MISSING),
        (3, "数值", ErrorCode.SUBMISSION_LOCKED),
        (3, "指标代码", ErrorCode.DUPLICATE_ROW),
        (3, "数值", ErrorCode.NOT_A_NUMBER),
    ]
    assert (report.rows_read, report.rows) == (4, [])
