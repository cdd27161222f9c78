"""What a check records must survive JSON and xdist's wire: datetimes, decimals, sets, dataclasses."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any


def jsonable(value: Any, depth: int = 0) -> Any:
    """`value` as plain JSON types (str, int, float, bool, None, list, dict with str keys)."""
    if depth > 20:
        return "…"
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, Enum):
        return jsonable(value.value, depth + 1)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value), depth + 1)
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v, depth + 1) for v in value), key=str)
    if isinstance(value, list | tuple):
        return [jsonable(v, depth + 1) for v in value]
    return repr(value)
