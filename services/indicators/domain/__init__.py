"""Pure domain logic of the indicators service (指标): schemes, checks, splits, diffs, values, bulk files.

No I/O beyond the streams handed in, no database: the service layer stores what these functions return.
"""

from services.indicators.errors import IndicatorsErrorCode

from .bulk import AssessedUnit, CopyRow, ImportContext, ImportReport, RowProblem, copy_lines, parse_upload
from .bulk_template import department_context, template_rows, unit_context, write_csv, write_xlsx
from .decompose import Decomposition, check_decomposition, split_by_base, split_even
from .diff import DiffEntry, FieldChange, diff_schemes, render_diff
from .errors import Problem
from .inherit import validate_inheritance
from .validate import validate_scheme
from .values import (
    FieldSpec,
    Plausibility,
    Reported,
    ValueCheck,
    ValueIssue,
    submission_fields,
    validate_submission,
)

__all__ = [
    "AssessedUnit",
    "CopyRow",
    "Decomposition",
    "DiffEntry",
    "FieldChange",
    "FieldSpec",
    "ImportContext",
    "ImportReport",
    "IndicatorsErrorCode",
    "Plausibility",
    "Problem",
    "Reported",
    "RowProblem",
    "ValueCheck",
    "ValueIssue",
    "check_decomposition",
    "copy_lines",
    "department_context",
    "diff_schemes",
    "parse_upload",
    "render_diff",
    "split_by_base",
    "split_even",
    "submission_fields",
    "template_rows",
    "unit_context",
    "validate_inheritance",
    "validate_scheme",
    "validate_submission",
    "write_csv",
    "write_xlsx",
]
