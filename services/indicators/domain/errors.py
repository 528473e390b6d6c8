"""Problem model and the one error-code enum of the indicators domain (指标域错误码)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ErrorCode(StrEnum):
    """Every code a scheme check, decomposition check, value check or bulk import can report."""

    # scheme structure (方案结构)
    DUPLICATE_CODE = "duplicate_code"
    DUPLICATE_ELEMENT = "duplicate_element"
    LEVEL_MISMATCH = "level_mismatch"
    LEAF_WITHOUT_STANDARD = "leaf_without_standard"
    LEAF_WITHOUT_WEIGHT = "leaf_without_weight"
    PARENT_WITH_STANDARD = "parent_with_standard"
    PARENT_WEIGHT_MISMATCH = "parent_weight_mismatch"
    WEIGHT_SUM = "weight_sum"
    UNKNOWN_CATEGORY = "unknown_category"
    UNKNOWN_UNIT = "unknown_unit"
    UNKNOWN_CODE = "unknown_code"
    GRAFT_PARENT_MISSING = "graft_parent_missing"
    GRAFT_ONTO_LEAF = "graft_onto_leaf"
    OVERRIDE_UNSCALABLE = "override_unscalable"
    DUPLICATE_COEFFICIENT = "duplicate_coefficient"
    DEPARTMENT_MISSING = "department_missing"
    VALUE_SPEC_INVALID = "value_spec_invalid"
    SOURCE_MISMATCH = "source_mismatch"
    # formulas (公式)
    FORMULA_SYNTAX = "formula_syntax"
    FORMULA_UNKNOWN_ELEMENT = "formula_unknown_element"
    FORMULA_CYCLE = "formula_cycle"
    # targets (目标值)
    TARGET_MISSING = "target_missing"
    TARGET_NOT_POSITIVE = "target_not_positive"
    # inheritance (承接)
    PARENT_SCHEME_MISMATCH = "parent_scheme_mismatch"
    INHERIT_UNKNOWN = "inherit_unknown"
    INHERIT_MISMATCH = "inherit_mismatch"
    INHERIT_MISSING = "inherit_missing"
    # decomposition (指标分解)
    SPLIT_SUM = "split_sum"
    SPLIT_AVERAGE = "split_average"
    SPLIT_EACH = "split_each"
    SPLIT_MISSING_CHILD = "split_missing_child"
    SPLIT_UNKNOWN_CHILD = "split_unknown_child"
    # submitted values (填报数值)
    VALUE_MISSING = "value_missing"
    NOT_A_NUMBER = "not_a_number"
    NOT_AN_INTEGER = "not_an_integer"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_GRADE = "unknown_grade"
    EVIDENCE_MISSING = "evidence_missing"
    UNKNOWN_FIELD = "unknown_field"
    OUTLIER_CHANGE = "outlier_change"
    OUTLIER_ZSCORE = "outlier_zscore"
    # bulk files (批量填报)
    BAD_FILE = "bad_file"
    MISSING_COLUMN = "missing_column"
    FIELD_MISSING = "field_missing"
    UNKNOWN_INDICATOR = "unknown_indicator"
    NOT_APPLICABLE = "not_applicable"
    DUPLICATE_ROW = "duplicate_row"
    BAD_PERIOD = "bad_period"
    WRONG_PERIOD = "wrong_period"
    KEY_MISMATCH = "key_mismatch"
    SUBMISSION_LOCKED = "submission_locked"
    FORBIDDEN_INDICATOR = "forbidden_indicator"  # not the uploader's to write (责任部门 or 数据来源)


class Problem(BaseModel):
    """One thing wrong with a scheme or a decomposition; `message` names the exact place in Chinese."""

    model_config = ConfigDict(frozen=True)

    path: str
    code: ErrorCode
    message: str


def problem(path: str, code: ErrorCode, detail: str) -> Problem:
    """Build a Problem whose message starts with its path, e.g. `方案 2026 / 类别 乡镇: …`."""
    return Problem(path=path, code=code, message=f"{path}: {detail}")


def fmt(x: float) -> str:
    """Format a number for a Chinese message: no trailing zeros, at most 4 decimals."""
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
