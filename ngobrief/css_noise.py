"""Known-harmless WeasyPrint warnings, named one by one and dropped from the logs.

great_tables writes CSS for browsers (scrolling table wrappers, a `font-color()` helper); WeasyPrint
ignores those declarations and says so six times per brief, which hid real warnings. Only these exact
declarations are dropped: any other CSS warning (a typo in templates/brief.css) still shows."""

from __future__ import annotations

import logging
import re

# `Ignored `<declaration>` at L:C, <reason>.`: the declarations great_tables' table CSS is known to carry.
KNOWN_HARMLESS = re.compile(
    r"^Ignored `(overflow-x: ?(hidden|auto)|overflow-y: ?(hidden|auto)|color: font-color\(#[0-9A-Fa-f]{3,8}\)) ?` "
    r"at \d+:\d+, (unknown property|invalid value)\.$")


class KnownHarmlessCss(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not KNOWN_HARMLESS.match(record.getMessage())


def install() -> None:
    """Attach the filter to WeasyPrint's logger (once); its records are logged on it directly."""
    logger = logging.getLogger("weasyprint")
    if not any(isinstance(f, KnownHarmlessCss) for f in logger.filters):
        logger.addFilter(KnownHarmlessCss())
