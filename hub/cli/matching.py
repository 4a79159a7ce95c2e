"""peyvand commands: matching (issue 6/8)."""

from __future__ import annotations
