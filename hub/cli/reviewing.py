"""peyvand commands: reviewing (issue 6/8)."""

from __future__ import annotations
