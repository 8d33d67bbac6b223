"""One rule names a brief's file (ngobrief.brief.brief_path), in `ngobrief brief` as in the flows: a
brief on some org types only carries their names, so it never replaces the full brief of its year."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from ngobrief import brief, pipeline


def _brief(*args, outputs, warehouse):
    return subprocess.run([sys.executable, "-m", "ngobrief.cli", "brief", *map(str, args), "--warehouse", warehouse],
                          capture_output=True, text=True, env={**os.environ, "NGOBRIEF_OUTPUTS": str(outputs)},
                          timeout=300)


def test_a_brief_on_some_types_gets_their_names_and_leaves_the_full_brief_alone(built_warehouse, tmp_path):
    outputs = tmp_path / "outputs"
    full = outputs / "briefs" / "ngobrief-2013-en.pdf"
    assert _brief("--year", 2013, outputs=outputs, warehouse=built_warehouse).returncode == 0
    before = hashlib.sha256(full.read_bytes()).hexdigest()
    res = _brief("--year", 2013, "--types", "foundation", outputs=outputs, warehouse=built_warehouse)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(str(outputs / "briefs" / "ngobrief-2013-en-foundation.pdf"))
    assert (outputs / "briefs" / "ngobrief-2013-en-foundation.pdf").is_file()
    assert hashlib.sha256(full.read_bytes()).hexdigest() == before


def test_the_command_line_and_the_flows_use_the_same_rule():
    assert pipeline.brief_path is brief.brief_path
    assert brief.brief_path(2012, "zh", ["social_association", "foundation"]).name == (
        "ngobrief-2012-zh-foundation-social_association.pdf")
