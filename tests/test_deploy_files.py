"""What can be checked of the container path without a docker daemon (none on the development
machine): the Dockerfile parses and carries what the library reads and the packages the briefs need;
deploy/prefect.docker.yaml parses as Prefect parses it, its job variables are the docker worker's,
and its deployments are prefect.yaml's apart from the pool and where the code is. Neither the image
nor a docker work pool was built or run here. Also: `make postgres` names a folder its user cannot enter."""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser
from prefect.cli.deploy._models import PrefectYamlModel
from prefect_docker.worker import DockerWorker

from ngobrief import config

ROOT = Path(__file__).resolve().parent.parent
VARIANT = ROOT / "deploy" / "prefect.docker.yaml"


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    parser = DockerfileParser(fileobj=open(ROOT / "Dockerfile", "rb"))
    assert parser.structure, "the Dockerfile has no instructions"
    return parser


def _instructions(dockerfile, name: str) -> list[str]:
    return [i["value"] for i in dockerfile.structure if i["instruction"] == name]


def _copied(dockerfile) -> set[str]:
    return {src.rstrip("/") for value in _instructions(dockerfile, "COPY") for src in shlex.split(value)[:-1]}


def _variant() -> dict:
    return yaml.safe_load(VARIANT.read_text(encoding="utf-8"))


def test_dockerfile_uses_only_known_instructions_and_one_debian_python_base(dockerfile):
    known = {"FROM", "RUN", "ENV", "WORKDIR", "COPY", "USER", "VOLUME", "CMD", "ARG", "LABEL", "EXPOSE", "ENTRYPOINT", "COMMENT"}
    assert {i["instruction"] for i in dockerfile.structure} <= known
    [base] = _instructions(dockerfile, "FROM")
    assert re.fullmatch(r"python:3\.\d+-slim-bookworm", base)
    minimum = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert tuple(map(int, base.split(":")[1].split("-")[0].split("."))) >= tuple(map(int, minimum.lstrip(">=").split(".")))


def test_image_installs_the_system_packages_and_fonts_the_briefs_need(dockerfile):
    makefile = (ROOT / "Makefile").read_text()
    needed = set(re.search(r"^APT_PACKAGES := (.+)$", makefile, re.M).group(1).split()) - {"poppler-utils"}
    installed = set(" ".join(_instructions(dockerfile, "RUN")).split())
    assert needed <= installed, f"missing from the image: {needed - installed}"


def test_image_copies_every_folder_the_library_reads_and_nothing_dockerignore_drops(dockerfile):
    copied = _copied(dockerfile)
    for folder in (config.SQL_DIR, config.EXPECTATIONS_DIR, config.TEMPLATES_DIR, config.DATA_DIR, ROOT / "flows"):
        assert str(folder.relative_to(ROOT)) in copied
    ignored = [line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for src in copied:
        assert (ROOT / src).exists(), f"COPY {src}: no such file in the project"
        assert not any(fnmatch.fnmatch(src, pattern) for pattern in ignored), f"COPY {src} is in .dockerignore"
    # An editable install: the library finds sql/, templates/ … beside its package (config.ROOT).
    assert any("pip install" in run and "-e ." in run and "constraints.txt" in run
               for run in _instructions(dockerfile, "RUN"))


def test_image_runs_as_its_own_user_with_outputs_on_the_shared_volume(dockerfile):
    [user] = _instructions(dockerfile, "USER")
    assert user not in ("root", "0")
    [volume] = _instructions(dockerfile, "VOLUME")
    assert dockerfile.envs["NGOBRIEF_OUTPUTS"].startswith("/data/") and '"/data"' in volume


def test_docker_variant_parses_as_prefect_deploy_reads_it(dockerfile):
    model = PrefectYamlModel.model_validate(_variant())
    assert [d.name for d in model.deployments] == ["annual-refresh", "brief-on-demand"]
    assert {d.work_pool.name for d in model.deployments} == {"ngobrief-docker"}
    # The image holds the code: the flow runs start in the Dockerfile's WORKDIR.
    [step] = model.pull
    workdir = _instructions(dockerfile, "WORKDIR")[-1]
    assert step == {"prefect.deployments.steps.set_working_directory": {"directory": workdir}}


def test_docker_variant_job_variables_are_the_docker_workers(dockerfile):
    accepted = set(DockerWorker.get_default_base_job_template()["variables"]["properties"])
    for deployment in _variant()["deployments"]:
        variables = deployment["work_pool"]["job_variables"]
        assert set(variables) <= accepted
        [volume] = variables["volumes"]
        assert volume.endswith(":/data")
        assert variables["env"]["NGOBRIEF_OUTPUTS"] == dockerfile.envs["NGOBRIEF_OUTPUTS"]


def test_docker_variant_deploys_the_same_flows_parameters_and_schedule_as_prefect_yaml():
    def comparable(spec: dict) -> list[dict]:
        return [{k: v for k, v in d.items() if k != "work_pool"} for d in spec["deployments"]]

    plain = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    assert comparable(_variant()) == comparable(plain)
    assert _variant()["prefect-version"] == plain["prefect-version"]


def test_local_postgres_names_a_folder_its_user_cannot_enter_and_creates_nothing():
    # Not under pytest's temp base: that one is closed to other users already, and would be named.
    base = Path(tempfile.mkdtemp(prefix="ngobrief-closed-"))
    base.chmod(0o755)
    closed = base / "closed"
    closed.mkdir(mode=0o600)  # no one may enter: not the cluster's own user, whoever that is
    try:
        res = subprocess.run([sys.executable, str(ROOT / "deploy" / "local_postgres.py"), "start",
                              "--dir", str(closed / "postgres"), "--port", "1"], capture_output=True, text=True,
                             timeout=60)
        assert res.returncode == 1
        [line] = res.stderr.strip().splitlines()
        assert f"cannot enter {closed} (mode drw-------)" in line
        closed.chmod(0o700)
        assert not any(closed.iterdir())
    finally:
        shutil.rmtree(base, ignore_errors=True)
