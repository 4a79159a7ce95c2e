"""Peyvand: an integration hub for customer data.

The public surface for code that embeds the hub; the ``peyvand`` command uses the same.
"""

from __future__ import annotations

__version__ = "0.1.0"

from hub.config import Config, PipelineConfig, load_config
from hub.errors import (
    BusUnavailable,
    ConfigError,
    FatalSourceError,
    MappingError,
    MappingFailed,
    PeyvandError,
    RecordRejected,
    SchemaViolation,
    SourceUnavailable,
    StandardizationFailed,
    StoreUnavailable,
    TransientError,
)
from hub.records import CanonicalRecord, Checkpoint, RawRecord, Value

__all__ = [
    "BusUnavailable",
    "CanonicalRecord",
    "Checkpoint",
    "Config",
    "ConfigError",
    "FatalSourceError",
    "MappingError",
    "MappingFailed",
    "PeyvandError",
    "PipelineConfig",
    "RawRecord",
    "RecordRejected",
    "SchemaViolation",
    "SourceUnavailable",
    "StandardizationFailed",
    "StoreUnavailable",
    "TransientError",
    "Value",
    "__version__",
    "load_config",
]
