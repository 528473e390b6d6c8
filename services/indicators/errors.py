"""Every error code the indicators service raises (指标服务错误码): its RPC errors and its domain problems."""

from __future__ import annotations

from enum import StrEnum


class IndicatorsErrorCode(StrEnum):
    """Codes of RPC errors (`{code, field, message}`) and of scheme, value and bulk problems."""

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
    # units (组织)
    UNIT_EXISTS = "unit_exists"
    UNIT_CLOSED = "unit_closed"
    UNIT_HAS_CHILDREN = "unit_has_children"
    MOVE_INTO_OWN_SUBTREE = "move_into_own_subtree"
    # categories and schemes (分类, 方案)
    DUPLICATE_CATEGORY = "duplicate_category"
    SCHEME_PUBLISHED = "scheme_published"
    SCHEME_DRAFT_EXISTS = "scheme_draft_exists"
    REVISION_CONFLICT = "revision_conflict"
    # submissions and reviews (填报, 审核)
    SUBMISSION_EXISTS = "submission_exists"
    REVIEW_CONFLICT = "review_conflict"
    INVALID_TRANSITION = "invalid_transition"  # the decision does not apply to the current status
    FORBIDDEN_SOURCE = "forbidden_source"  # a department's value (数据来源 部门提供) written by the unit
    # evidence (佐证材料)
    EVIDENCE_UNVERIFIED = "evidence_unverified"
    EVIDENCE_DIGEST_MISMATCH = "evidence_digest_mismatch"
    EVIDENCE_TOO_LARGE = "evidence_too_large"
    EVIDENCE_SIZE_MISMATCH = "evidence_size_mismatch"
    EVIDENCE_TYPE_MISMATCH = "evidence_type_mismatch"
    # bulk imports (批量导入)
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    # kernel codes the service raises too (kaohe.errors)
    VALIDATION_FAILED = "validation_failed"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
