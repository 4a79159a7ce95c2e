"""Peyvand: an integration hub for customer data.

The public surface for code that embeds the hub; the ``peyvand`` command uses the same.
``Hub`` is the entry point: ``Hub.from_config(path).run()``.
"""

from __future__ import annotations

__version__ = "0.5.0"

from hub.adapter import Adapter, Features, PayloadKind, SourceContext
from hub.app import Hub, RunObserver
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
    StoreRefused,
    StoreUnavailable,
    TransientError,
)
from hub.events import EventType, NewEvent
from hub.pipeline import RunStats
from hub.records import CanonicalRecord, Checkpoint, RawRecord, Target, Value
from hub.store.outbox import Event
from hub.store.quarantine import QuarantineEntry
from hub.store.queries import MasterSummary, MasterView

__all__ = [
    "Adapter",
    "BusUnavailable",
    "CanonicalRecord",
    "Checkpoint",
    "Config",
    "ConfigError",
    "Event",
    "EventType",
    "FatalSourceError",
    "Features",
    "Hub",
    "MappingError",
    "MappingFailed",
    "MasterSummary",
    "MasterView",
    "NewEvent",
    "PayloadKind",
    "PeyvandError",
    "PipelineConfig",
    "QuarantineEntry",
    "RawRecord",
    "RecordRejected",
    "RunObserver",
    "RunStats",
    "SchemaViolation",
    "SourceContext",
    "SourceUnavailable",
    "StandardizationFailed",
    "StoreRefused",
    "StoreUnavailable",
    "Target",
    "TransientError",
    "Value",
    "__version__",
    "load_config",
]
