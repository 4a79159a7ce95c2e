"""``python -m hub`` is ``peyvand``."""

from hub.cli import main

main()
