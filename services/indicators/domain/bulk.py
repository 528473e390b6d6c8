"""Bulk submission (批量填报): uploads (CSV/XLSX/JSON) read into a dry-run report; templates: bulk_template.

A file is accepted whole or not at all: the report lists every problem with its row (as Excel numbers it,
header = row 1; for JSON the 1-based item index), the Chinese column name, a code and a message, and only a
clean file yields rows ready for COPY. Parsing streams: rows are read and checked one at a time.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

import openpyxl
from pydantic import BaseModel, ConfigDict

from kaohe.contracts.periods import Period, normalize
from services.indicators.errors import IndicatorsErrorCode as ErrorCode

from .values import FieldSpec, InvalidValue, Plausibility, coerce_value, plausibility_flags

UNIT, UNIT_NAME, CODE, NAME, MEASURE, RULE, PERIOD, VALUE, NOTE, KEY = (
    "单位代码", "单位名称", "指标代码", "指标名称", "计量单位", "取值要求", "期间", "数值", "说明", "校验键"
)  # fmt: skip
HEADERS: tuple[str, ...] = (UNIT, UNIT_NAME, CODE, NAME, MEASURE, RULE, PERIOD, VALUE, NOTE)
REQUIRED: tuple[str, ...] = (UNIT, CODE, PERIOD, VALUE)
# English names accepted in JSON and API uploads, mapped to the Chinese headers
ALIASES: dict[str, str] = {
    "unit_id": UNIT, "unit_name": UNIT_NAME, "indicator_code": CODE, "indicator_name": NAME,
    "unit_of_measure": MEASURE, "period": PERIOD, "value": VALUE, "note": NOTE, "key": KEY,
}  # fmt: skip


class AssessedUnit(BaseModel):  # 被考核单位
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    category: str | None = None


class RowProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    row: int
    column: str  # the Chinese header name
    code: ErrorCode
    message: str


class TemplateRow(NamedTuple):
    unit_id: str
    unit_name: str
    indicator_code: str
    indicator_name: str
    unit_of_measure: str
    requirement: str
    period: str  # Chinese label, which Excel does not turn into a date
    value: str
    note: str


class CopyRow(NamedTuple):
    """A normalized row for `COPY … (unit_id, indicator_code, period, value, note)`; grades stay text."""

    unit_id: str
    indicator_code: str
    period: str
    value: float | str
    note: str


ChunkSink = Callable[[list[CopyRow]], None]  # receives clean rows while parsing goes on
CHUNK = 10_000
FIRST_CHUNK = 2_000  # small, so the database starts writing while the rest is still being parsed


@dataclass(frozen=True)
class ImportContext:
    """What an upload may contain: one period, and the (unit, indicator) pairs expected with their specs."""

    period: str
    expected: dict[tuple[str, str], FieldSpec]
    unit_names: dict[str, str]
    known_codes: frozenset[str]  # every code of the scheme, to tell "unknown" from "not yours"
    locked: frozenset[tuple[str, str]] = frozenset()  # (unit, code) already approved for this period
    denied: Mapping[str, str] = field(default_factory=dict)  # code → why the uploader may not write it


@dataclass
class ImportReport:  # 试导入报告
    rows: list[CopyRow] = field(default_factory=list)  # empty unless the whole file is clean
    problems: list[RowProblem] = field(default_factory=list)  # reject
    flags: list[RowProblem] = field(default_factory=list)  # accept, but review (outliers)
    rows_read: int = 0
    problem_count: int = 0  # may exceed len(problems) when the list was capped

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def truncated(self) -> bool:
        return self.problem_count > len(self.problems)


# --- parsing ----------------------------------------------------------------------------------------


class _Sink:
    """Collects problems, keeping the first `cap` but counting them all."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.items: list[RowProblem] = []
        self.count = 0

    def add(self, row: int, column: str, code: ErrorCode, detail: str) -> None:
        self.count += 1
        if len(self.items) < self.cap:
            self.items.append(
                RowProblem(row=row, column=column, code=code, message=f"第 {row} 行「{column}」：{detail}")
            )


_UNSET = object()


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # a code typed into Excel as a number comes back as 12.0
    return str(v).strip()


def _check(
    header: Sequence[object],
    rows: Iterable[tuple[int, Sequence[object]]],
    ctx: ImportContext,
    *,
    previous: Mapping[tuple[str, str], float] | None,
    rule: Plausibility | None,
    max_problems: int,
    on_chunk: ChunkSink | None = None,
) -> ImportReport:
    sink = _Sink(max_problems)
    names = [ALIASES.get(h, h) for h in (_text(h).lstrip("\ufeff") for h in header)]
    cols = {name: i for i, name in reversed(list(enumerate(names)))}  # first occurrence wins
    absent = [h for h in REQUIRED if h not in cols]
    for h in absent:
        sink.add(1, h, ErrorCode.MISSING_COLUMN, f"缺少必需的列「{h}」")
    if absent:
        return ImportReport(problems=sink.items, problem_count=sink.count)
    iu, ic, ip, iv = cols[UNIT], cols[CODE], cols[PERIOD], cols[VALUE]
    inote, ikey = cols.get(NOTE), cols.get(KEY)
    width = max(cols.values()) + 1
    expected, units, known, want, locked, denied = (
        ctx.expected,
        ctx.unit_names,
        ctx.known_codes,
        ctx.period,
        ctx.locked,
        ctx.denied,
    )
    previous, rule = previous or {}, rule or Plausibility()
    periods: dict[object, tuple[ErrorCode, str] | None] = {}  # per raw spelling: its problem, if any
    seen: dict[tuple[str, str], int] = {}
    out: list[CopyRow] = []
    new_row = tuple.__new__  # CopyRow(...) without the generated __new__'s extra Python frame
    streamed = 0
    next_chunk = min(CHUNK, FIRST_CHUNK)
    flags: list[RowProblem] = []
    read = 0
    # 100k-row files must stay well under a second: the usual clean row costs one `expected` lookup for its
    # unit and code, one cached period check and one `seen` insert; the checks behind a missing spec only run
    # for rows that have a problem there.
    for rowno, raw in rows:
        cells = raw if len(raw) >= width else [*raw, *([None] * (width - len(raw)))]
        unit, code, rp, rv = cells[iu], cells[ic], cells[ip], cells[iv]
        unit = unit.strip() if type(unit) is str else _text(unit)
        code = code.strip() if type(code) is str else _text(code)
        pair = (unit, code)
        spec = expected.get(pair)
        if spec is None and not unit and not code and all(c is None or c == "" for c in cells):
            continue  # trailing blank lines of a spreadsheet
        read += 1
        before = sink.count
        if spec is None:
            if not unit:
                sink.add(rowno, UNIT, ErrorCode.FIELD_MISSING, "未填写单位代码")
            elif unit not in units:
                sink.add(rowno, UNIT, ErrorCode.UNKNOWN_UNIT, f"单位代码「{unit}」不在本次填报范围内")
            if not code:
                sink.add(rowno, CODE, ErrorCode.FIELD_MISSING, "未填写指标代码")
            elif code in denied:
                sink.add(rowno, CODE, ErrorCode.FORBIDDEN_INDICATOR, denied[code])
            elif code not in known:
                sink.add(rowno, CODE, ErrorCode.UNKNOWN_INDICATOR, f"指标代码「{code}」在考核方案中不存在")
            elif unit in units:
                sink.add(
                    rowno, CODE, ErrorCode.NOT_APPLICABLE, f"指标「{code}」不是单位「{unit}」本次应填报的项目"
                )
        bad_period = periods.get(rp, _UNSET)  # a file holds one or two distinct period spellings
        if bad_period is _UNSET:
            bad_period = periods[rp] = _period_problem(rp, want)
        if bad_period is not None:
            sink.add(rowno, PERIOD, *bad_period)
        if ikey is not None and (k := _text(cells[ikey])) and k != f"{unit}|{code}|{want}":
            sink.add(
                rowno,
                KEY,
                ErrorCode.KEY_MISMATCH,
                "单位代码、指标代码或期间被改动，与模板不符，请重新下载模板",
            )
        if locked and pair in locked:
            sink.add(
                rowno, VALUE, ErrorCode.SUBMISSION_LOCKED, "该项本期数据已审核通过并锁定，如需修改请申请退回"
            )
        if (first := seen.setdefault(pair, rowno)) != rowno:
            sink.add(rowno, CODE, ErrorCode.DUPLICATE_ROW, f"与第 {first} 行重复（同一单位、指标、期间）")
        if spec is None:
            continue
        try:
            value = coerce_value(spec.value, rv)
        except InvalidValue as exc:
            sink.add(rowno, VALUE, exc.code, exc.detail)
            continue
        if sink.count == before:
            note = "" if inote is None else (n.strip() if type(n := cells[inote]) is str else _text(n))
            out.append(new_row(CopyRow, (unit, code, want, value, note)))
            if on_chunk is not None and len(out) - streamed >= next_chunk and sink.count == 0:
                on_chunk(out[streamed:])  # a clean prefix: the caller may start writing it
                streamed, next_chunk = len(out), CHUNK
            if previous and isinstance(value, float) and (prev := previous.get(pair)) is not None:
                for f in plausibility_flags(
                    code, f"{unit} {code}", value, previous=prev, history=(), rule=rule
                ):
                    flags.append(
                        RowProblem(
                            row=rowno, column=VALUE, code=f.code, message=f"第 {rowno} 行：{f.message}"
                        )
                    )
    return ImportReport(
        rows=out if sink.count == 0 else [],
        problems=sink.items,
        flags=flags,
        rows_read=read,
        problem_count=sink.count,
    )


def _period_problem(raw: object, want: str) -> tuple[ErrorCode, str] | None:
    if raw is None or raw == "":
        return ErrorCode.FIELD_MISSING, "未填写期间"
    period = normalize(raw)
    if period is None:
        return ErrorCode.BAD_PERIOD, f"「{_text(raw)}」不是有效的期间"
    if period != want:
        return (
            ErrorCode.WRONG_PERIOD,
            f"期间为 {Period.parse(period).label}，本次应为 {Period.parse(want).label}",
        )
    return None


class _Replay(io.RawIOBase):
    """A stream that first replays the bytes already read for sniffing, then continues the original."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(b))
        b[: len(data)] = data
        return len(data)


def _sniff(head: bytes) -> tuple[str, str]:
    """(encoding, delimiter): Excel saves 'CSV UTF-8' with a BOM, plain 'CSV' as GB18030 in Chinese locales,
    and 'Unicode text' as tab-separated UTF-16."""
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "gb18030"
    first = head.decode(encoding, errors="ignore").split("\n", 1)[0]
    return encoding, "\t" if first.count("\t") > first.count(",") else ","


def parse_csv(
    stream: IO[bytes],
    ctx: ImportContext,
    *,
    previous: Mapping[tuple[str, str], float] | None = None,
    rule: Plausibility | None = None,
    max_problems: int = 1000,
    on_chunk: ChunkSink | None = None,
) -> ImportReport:
    """Dry-run an uploaded CSV (UTF-8 with or without BOM, GB18030, or UTF-16 tab-separated)."""
    head = stream.read(1 << 16)
    encoding, delimiter = _sniff(head)
    text = io.TextIOWrapper(io.BufferedReader(_Replay(head, stream)), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            return _bad_file(1, "文件为空")
        rows = enumerate(reader, start=2)
        return _check(
            header, rows, ctx, previous=previous, rule=rule, max_problems=max_problems, on_chunk=on_chunk
        )
    except (UnicodeDecodeError, csv.Error) as exc:
        # line_num counts physical lines: equal to the row unless a quoted cell spans lines
        return _bad_file(reader.line_num + 1, f"文件无法按 CSV（{encoding}）读取：{exc}")
    finally:
        text.detach()


def parse_xlsx(
    stream: IO[bytes],
    ctx: ImportContext,
    *,
    previous: Mapping[tuple[str, str], float] | None = None,
    rule: Plausibility | None = None,
    max_problems: int = 1000,
    on_chunk: ChunkSink | None = None,
) -> ImportReport:
    """Dry-run an uploaded XLSX: the sheet named 填报, else the first sheet; read-only, row by row."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # openpyxl warns about Excel extensions it skips
            wb = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and XML errors alike for a broken file
        return _bad_file(1, f"文件不是有效的 XLSX：{type(exc).__name__}")
    try:
        ws = wb["填报"] if "填报" in wb.sheetnames else wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = next(it, None)
        if header is None:
            return _bad_file(1, "工作表为空")
        rows = ((n, row) for n, row in enumerate(it, start=2))
        return _check(
            header, rows, ctx, previous=previous, rule=rule, max_problems=max_problems, on_chunk=on_chunk
        )
    finally:
        wb.close()


def parse_json(
    stream: IO[bytes],
    ctx: ImportContext,
    *,
    previous: Mapping[tuple[str, str], float] | None = None,
    rule: Plausibility | None = None,
    max_problems: int = 1000,
    on_chunk: ChunkSink | None = None,
) -> ImportReport:
    """Dry-run a JSON upload: a list of objects (or {"rows": [...]}) keyed by Chinese or English names."""
    try:
        data = json.load(stream)  # not streamed: API payloads are capped upstream, files go as CSV/XLSX
    except (ValueError, UnicodeDecodeError) as exc:
        return _bad_file(1, f"文件不是有效的 JSON：{exc}")
    items = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return _bad_file(1, "JSON 应为对象数组，或含 rows 数组的对象")
    keys = list(dict.fromkeys(k for item in items for k in item))
    rows = ((n, [item.get(k) for k in keys]) for n, item in enumerate(items, start=1))
    return _check(keys, rows, ctx, previous=previous, rule=rule, max_problems=max_problems, on_chunk=on_chunk)


def parse_upload(stream: IO[bytes], filename: str, ctx: ImportContext, **kwargs: Any) -> ImportReport:
    """Dispatch on the file extension (.csv/.txt, .xlsx, .json)."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    parsers = {"csv": parse_csv, "txt": parse_csv, "xlsx": parse_xlsx, "json": parse_json}
    if ext not in parsers:
        return _bad_file(1, f"不支持的文件类型「{ext or filename}」，请上传 CSV、XLSX 或 JSON")
    return parsers[ext](stream, ctx, **kwargs)


def _bad_file(row: int, detail: str) -> ImportReport:
    sink = _Sink(1)
    sink.add(row, "文件", ErrorCode.BAD_FILE, detail)
    return ImportReport(problems=sink.items, problem_count=1)


def copy_lines(rows: Iterable[CopyRow]) -> Iterator[str]:
    """PostgreSQL COPY text-format lines (tab-separated, escaped) for the normalized rows."""
    table = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
    for r in rows:
        value = repr(r.value) if isinstance(r.value, float) else r.value
        yield (
            "\t".join(s.translate(table) for s in (r.unit_id, r.indicator_code, r.period, value, r.note))
            + "\n"
        )
