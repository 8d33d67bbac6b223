"""The `ngobrief` console script: starts what can start before the command line's imports, then runs it.

`ngobrief brief` needs WeasyPrint, whose import takes about as long as the rest of the command's
imports and queries: its PDF worker (ngobrief.pdf_worker) starts here, first, so that both happen at
once. `ngobrief run` validates its build with Great Expectations (~3 s to import): that process
starts here too, and imports while the run pulls, copies and loads (pipeline.start_validator). Only
the standard library is imported before that."""

from __future__ import annotations

import sys


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 and not {"--help", "-h"} & set(sys.argv[2:]) else None
    if command == "brief":
        from . import pdf_worker

        pdf_worker.start_early()
    elif command == "run" and "--plan" not in sys.argv:
        from . import early   # a run's build is validated there (pipeline.start_validator)

        early.start(*early.VALIDATE)
    from .cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
