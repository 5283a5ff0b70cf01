"""Shared entry point for the stage scripts: bad input ends in one clear line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable


def run(main: Callable[[], None]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    from kosparse.errors import KosparseError

    try:
        main()
    except KosparseError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
