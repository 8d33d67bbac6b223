"""The `ngobrief` console script: starts what can start before the command line's imports, then runs it.

`ngobrief brief` needs WeasyPrint, whose import takes about as long as the rest of the command's
imports and queries: its PDF worker (ngobrief.pdf_worker) starts here, first, so that both happen at
once. Only the standard library is imported before that."""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "brief" and not {"--help", "-h"} & set(sys.argv[2:]):
        from . import pdf_worker

        pdf_worker.start_early()
    from .cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
