"""peyvand commands: mastering (issue 6/8)."""

from __future__ import annotations
