"""hub's public surface: __all__ is complete, sorted, and every name imports."""

from __future__ import annotations

import hub


def test_all_is_sorted_and_importable() -> None:
    assert hub.__all__ == sorted(hub.__all__)
    for name in hub.__all__:
        assert getattr(hub, name) is not None
    public = {n for n in vars(hub) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if type(getattr(hub, n)).__name__ == "module"}
    assert public - modules == set(hub.__all__) - {"__version__"}
