"""Loading the example tables in ``tests/cases/<stage>.yaml`` as pytest parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

CASES_DIR = Path(__file__).parent / "cases"


def load_cases(stage: str) -> list[dict[str, Any]]:
    return yaml.safe_load((CASES_DIR / f"{stage}.yaml").read_text(encoding="utf-8"))


def case_params(stage: str) -> list[Any]:
    """One ``pytest.param`` per case, with its ``id``; ``xfail: reason`` marks a known failure."""
    out = []
    for case in load_cases(stage):
        marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if "xfail" in case else []
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out
