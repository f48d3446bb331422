"""The connector's container image, built from the project's own Dockerfile and run as `docker run` would.

The session fixture runs integration_tests/container/build_image.sh (podman + runc and a local Debian base: this
machine kind has no Docker engine and no Docker Hub), then each test runs the image against a FakePeriskope served
in-process on 127.0.0.1, reached through the host network namespace, with its config and catalog mounted
read-only at /data. Most tests call the `docker` shim the script writes (`.tmp/container/bin/docker`, podman with
the project's private settings) with plain `docker run` arguments; the docker SDK tests drive the same image
through `podman system service`, as tools built on the Docker API would. The launcher tests run the image as the
Airbyte platform's launcher does: files under /source and /config, `sh -c 'cd /tmp && eval "$AIRBYTE_ENTRYPOINT
..."'` as uid/gid 1000 with every capability dropped.

Needs root (podman with runc, debootstrap). Off CI, without root or without podman and apt-get, the tests are
skipped with a message; with CI=true they fail instead. Run them alone with:

    sudo .venv/bin/python -m pytest integration_tests/test_image.py -m image_tests
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

import pytest

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.support.connector import configured_catalog
from integration_tests.support.connector import run as run_cli
from integration_tests.support.servers import connector_config
from unit_tests.stream_table import NAMES as STREAMS

pytestmark = pytest.mark.image_tests

from integration_tests.container.image import DOCKER, RUN_TIMEOUT_SECONDS  # the `image` fixture is in conftest.py

# Smaller than the fake's defaults (the read runs twice, in the image and on the host), with a page size that
# still makes every stream read several pages.
FAKE_SIZES = {"chats": 10, "messages": 80, "notifications": 15, "notes": 12, "reactions": 25, "tickets": 30, "contacts": 45}
PAGE_SIZE = 10


# ------------------------------------------------------------------------------------------------ fake server
@pytest.fixture(scope="module")
def fake() -> Iterator[FakePeriskope]:
    server = FakePeriskope(sizes=FAKE_SIZES).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def config(fake: FakePeriskope) -> Dict[str, Any]:
    return connector_config(fake, page_size=PAGE_SIZE)


class DataDir:
    """A folder mounted read-only at /data; readable by the image's USER airbyte (uid 1000), not only root."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="periskope-image-data-"))
        os.chmod(self.path, 0o755)

    def write(self, name: str, content: Any) -> str:
        path = self.path / name
        path.write_text(json.dumps(content))
        os.chmod(path, 0o644)
        return f"/data/{name}"

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


@pytest.fixture
def data_dir() -> Iterator[DataDir]:
    directory = DataDir()
    try:
        yield directory
    finally:
        directory.cleanup()


# ------------------------------------------------------------------------------------------------ running
class ImageRun:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout
        # By "\n" only: str.splitlines also splits at U+2028, which record text may hold (valid in JSON).
        self.messages = [json.loads(line) for line in stdout.split("\n") if line.strip()]

    def of_type(self, kind: str) -> List[Dict[str, Any]]:
        return [message for message in self.messages if message["type"] == kind]

    def records(self, stream: Optional[str] = None) -> List[Dict[str, Any]]:
        return [m["record"]["data"] for m in self.of_type("RECORD") if stream is None or m["record"]["stream"] == stream]

    def connection_status(self) -> Dict[str, Any]:
        statuses = self.of_type("CONNECTION_STATUS")
        assert len(statuses) == 1, f"expected one CONNECTION_STATUS message:\n{self.describe()}"
        return statuses[0]["connectionStatus"]

    def describe(self) -> str:
        return f"exit {self.returncode}\nstdout (tail):\n{self.stdout[-3000:]}\nstderr (tail):\n{self.stderr[-3000:]}"


def docker_run(image: str, args: List[str], data: Optional[DataDir] = None) -> ImageRun:
    """`docker run --rm --network host [-v DIR:/data:ro] IMAGE ARGS...` through the shim (podman underneath)."""
    name = f"periskope-test-{uuid.uuid4().hex[:12]}"
    command = [str(DOCKER), "run", "--rm", "--name", name, "--network", "host"]
    if data is not None:
        command += ["-v", f"{data.path}:/data:ro"]
    command += [image, *args]
    try:
        process = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        subprocess.run([str(DOCKER), "rm", "-f", name], capture_output=True)
        raise
    return ImageRun(process.returncode, process.stdout, process.stderr)


def primary_keys(catalog: Mapping[str, Any]) -> Dict[str, List[List[str]]]:
    return {stream["name"]: stream.get("source_defined_primary_key") or [] for stream in catalog["streams"]}


def key_of(record: Mapping[str, Any], key_paths: List[List[str]]) -> tuple:
    values = []
    for path in key_paths:
        value: Any = record
        for part in path:
            value = value[part]
        values.append(value)
    return tuple(values)


def canonical(record: Mapping[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


# ------------------------------------------------------------------------------------------------ tests: docker run
def test_spec(image: str) -> None:
    result = docker_run(image, ["spec"])
    assert result.returncode == 0, result.describe()
    specs = result.of_type("SPEC")
    assert len(specs) == 1, result.describe()
    spec = specs[0]["spec"]["connectionSpecification"]
    assert {"api_key", "phone_number", "base_url"} <= set(spec["properties"])
    assert spec == run_cli("spec", {}).of_type("SPEC")[0]["spec"]["connectionSpecification"]


def test_check_succeeds_with_the_servers_key(image: str, config: Dict[str, Any], data_dir: DataDir) -> None:
    config_path = data_dir.write("config.json", config)
    result = docker_run(image, ["check", "--config", config_path], data_dir)
    assert result.returncode == 0, result.describe()
    status = result.connection_status()
    assert status["status"] == "SUCCEEDED", f"{status}\n{result.describe()}"


def test_check_fails_with_a_wrong_key(image: str, config: Dict[str, Any], data_dir: DataDir) -> None:
    config_path = data_dir.write("config.json", {**config, "api_key": "not-the-key"})
    result = docker_run(image, ["check", "--config", config_path], data_dir)
    status = result.connection_status()
    assert status["status"] == "FAILED", f"{status}\n{result.describe()}"
    assert status.get("message"), "a failed check should say why"


def test_discover_lists_all_streams(image: str, config: Dict[str, Any], data_dir: DataDir) -> None:
    config_path = data_dir.write("config.json", config)
    result = docker_run(image, ["discover", "--config", config_path], data_dir)
    assert result.returncode == 0, result.describe()
    catalogs = result.of_type("CATALOG")
    assert len(catalogs) == 1, result.describe()
    names = [stream["name"] for stream in catalogs[0]["catalog"]["streams"]]
    assert len(names) == 8 and set(names) == set(STREAMS), names


@pytest.fixture(scope="module")
def cli_full_refresh(config: Dict[str, Any]) -> Dict[str, Any]:
    """The discovered catalog, a full-refresh catalog of every stream, and the CLI's read of it on the host."""
    discovered = run_cli("discover", config)
    assert discovered.returncode == 0, discovered.output[-3000:]
    catalog = discovered.of_type("CATALOG")[0]["catalog"]
    configured = configured_catalog(catalog, "full_refresh")
    on_host = run_cli("read", config, catalog=configured)
    assert on_host.returncode == 0, on_host.output[-3000:]
    return {"catalog": catalog, "configured": configured, "on_host": on_host}


def assert_same_records_as_the_cli(in_image: ImageRun, cli: Mapping[str, Any]) -> None:
    assert not [m for m in in_image.of_type("TRACE") if m["trace"]["type"] == "ERROR"], in_image.describe()
    keys = primary_keys(cli["catalog"])
    for stream in STREAMS:
        image_records, host_records = in_image.records(stream), cli["on_host"].records(stream)
        assert image_records, f"the image read no {stream} records"
        assert keys[stream], f"{stream} has no primary key in the catalog"
        image_keys = Counter(key_of(record, keys[stream]) for record in image_records)
        host_keys = Counter(key_of(record, keys[stream]) for record in host_records)
        assert image_keys == host_keys, f"{stream}: primary keys differ between the image and the CLI"
        assert sorted(map(canonical, image_records)) == sorted(map(canonical, host_records)), (
            f"{stream}: records differ between the image and the CLI"
        )


def test_full_refresh_read_matches_the_cli(image: str, config: Dict[str, Any], data_dir: DataDir, cli_full_refresh: Dict[str, Any]) -> None:
    config_path = data_dir.write("config.json", config)
    catalog_path = data_dir.write("catalog.json", cli_full_refresh["configured"])
    in_image = docker_run(image, ["read", "--config", config_path, "--catalog", catalog_path], data_dir)
    assert in_image.returncode == 0, in_image.describe()
    assert_same_records_as_the_cli(in_image, cli_full_refresh)


# ------------------------------------------------------------------------------------------------ tests: as the platform runs it
# Airbyte's launcher overrides the entrypoint with a shell command that evals $AIRBYTE_ENTRYPOINT from another
# working directory, as uid/gid 1000 with every capability dropped; the sync's files are under /source, those of
# spec/check/discover under /config, where the output of spec/check/discover goes too (/config/jobOutput.json).
PLATFORM_USER = "1000:1000"
PLATFORM_UID = 1000
JOB_OUTPUT = "jobOutput.json"
TRACEBACK = "Traceback (most recent call last)"


class LauncherDirs:
    """The pod's /source (read-only here) and /config (writable by uid 1000, for jobOutput.json) folders."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="periskope-image-launcher-"))
        os.chmod(self.root, 0o755)
        self.source = self.root / "source"
        self.config = self.root / "config"
        for folder in (self.source, self.config):
            folder.mkdir(mode=0o755)
            os.chmod(folder, 0o755)
        os.chown(self.config, PLATFORM_UID, PLATFORM_UID)

    def write(self, folder: str, name: str, content: Any, mode: int = 0o644) -> str:
        """Writes a file (owned by root, as the test runs) into /source or /config; returns its path in the container."""
        path = getattr(self, folder) / name
        path.write_text(json.dumps(content))
        os.chmod(path, mode)
        return f"/{folder}/{name}"

    def job_output(self) -> str:
        path = self.config / JOB_OUTPUT
        return path.read_text() if path.exists() else ""

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def launcher_dirs() -> Iterator[LauncherDirs]:
    dirs = LauncherDirs()
    try:
        yield dirs
    finally:
        dirs.cleanup()


def launcher_command(image: str, script: str, dirs: Optional[LauncherDirs] = None) -> List[str]:
    """`docker run` as the platform's launcher runs a connector: uid/gid 1000, no capabilities, `sh -c SCRIPT`."""
    command = [str(DOCKER), "run", "--rm", "--network", "host", "--user", PLATFORM_USER, "--cap-drop", "ALL"]
    if dirs is not None:
        command += ["-v", f"{dirs.source}:/source:ro", "-v", f"{dirs.config}:/config"]
    return command + ["--entrypoint", "sh", image, "-c", script]


def launcher_run(image: str, script: str, dirs: Optional[LauncherDirs] = None) -> subprocess.CompletedProcess:
    name = f"periskope-test-{uuid.uuid4().hex[:12]}"
    command = launcher_command(image, script, dirs)
    command[2:2] = ["--name", name]  # after `docker run`
    try:
        return subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        subprocess.run([str(DOCKER), "rm", "-f", name], capture_output=True)
        raise


def platform_script(arguments: str, to_job_output: bool = False) -> str:
    """The launcher's shell command: another working directory, then eval of $AIRBYTE_ENTRYPOINT with ARGUMENTS."""
    script = f'cd /tmp && eval "$AIRBYTE_ENTRYPOINT {arguments}"'
    return script + f" > /config/{JOB_OUTPUT}" if to_job_output else script


def not_messages(stdout: str) -> List[str]:
    """The output lines that are not JSON objects (Airbyte messages). Split on "\n" only: record text may hold
    U+2028, which str.splitlines would split on."""
    others = []
    for line in stdout.split("\n"):
        if not line.strip():
            continue
        try:
            parsed = json.loads(line)
        except ValueError:
            others.append(line)
            continue
        if not isinstance(parsed, dict) or "type" not in parsed:
            others.append(line)
    return others


def platform_output(image: str, arguments: str, dirs: LauncherDirs, to_job_output: bool = False) -> ImageRun:
    process = launcher_run(image, platform_script(arguments, to_job_output), dirs)
    stdout = dirs.job_output() if to_job_output else process.stdout
    described = f"exit {process.returncode}\nstdout (tail):\n{stdout[-3000:]}\nstderr (tail):\n{process.stderr[-3000:]}"
    assert not not_messages(stdout), f"output lines that are not Airbyte messages:\n{described}"
    if to_job_output:
        assert not process.stdout.strip(), f"spec/check/discover wrote past {JOB_OUTPUT}:\n{process.stdout[-3000:]}"
    return ImageRun(process.returncode, stdout, process.stderr)


def test_airbyte_entrypoint_is_the_absolute_path_of_the_entrypoint(image: str) -> None:
    process = launcher_run(
        image,
        'case "$AIRBYTE_ENTRYPOINT" in /*) ;; *) echo "not absolute: $AIRBYTE_ENTRYPOINT"; exit 3;; esac; '
        'test -x "$AIRBYTE_ENTRYPOINT" || { echo "not executable: $AIRBYTE_ENTRYPOINT"; exit 4; }; '
        'printf "%s\\n" "$AIRBYTE_ENTRYPOINT"; id -u; id -g',
    )
    assert process.returncode == 0, f"exit {process.returncode}\n{process.stdout}\n{process.stderr}"
    entrypoint, uid, gid = process.stdout.split("\n")[:3]
    assert entrypoint.startswith("/"), entrypoint
    assert (uid, gid) == ("1000", "1000")
    inspected = subprocess.run(
        [str(DOCKER), "image", "inspect", "--format", "{{json .Config.Entrypoint}}", image],
        capture_output=True, text=True, check=True,
    )
    assert json.loads(inspected.stdout) == [entrypoint], "ENTRYPOINT and AIRBYTE_ENTRYPOINT should name the same command"


def test_platform_spec_check_and_discover(image: str, config: Dict[str, Any], launcher_dirs: LauncherDirs) -> None:
    spec = platform_output(image, "spec", launcher_dirs, to_job_output=True)
    assert spec.returncode == 0, spec.describe()
    assert len(spec.of_type("SPEC")) == 1, spec.describe()

    config_path = launcher_dirs.write("config", "connectionConfiguration.json", config)
    check = platform_output(image, f"check --config {config_path}", launcher_dirs, to_job_output=True)
    assert check.returncode == 0, check.describe()
    assert check.connection_status()["status"] == "SUCCEEDED", check.describe()

    discover = platform_output(image, f"discover --config {config_path}", launcher_dirs, to_job_output=True)
    assert discover.returncode == 0, discover.describe()
    catalogs = discover.of_type("CATALOG")
    assert len(catalogs) == 1, discover.describe()
    assert {stream["name"] for stream in catalogs[0]["catalog"]["streams"]} == set(STREAMS)


def test_platform_full_refresh_read_matches_the_cli(image: str, config: Dict[str, Any], launcher_dirs: LauncherDirs, cli_full_refresh: Dict[str, Any]) -> None:
    launcher_dirs.write("source", "connectorConfig.json", config)
    launcher_dirs.write("source", "catalog.json", cli_full_refresh["configured"])
    launcher_dirs.write("source", "inputState.json", [])  # no state yet: a full refresh ignores it anyway
    in_image = platform_output(
        image,
        "read --config /source/connectorConfig.json --catalog /source/catalog.json --state /source/inputState.json",
        launcher_dirs,
    )
    assert in_image.returncode == 0, in_image.describe()
    assert_same_records_as_the_cli(in_image, cli_full_refresh)


@pytest.mark.parametrize(
    "folder, name, arguments, to_job_output",
    [
        ("source", "connectorConfig.json",
         "read --config /source/connectorConfig.json --catalog /source/catalog.json --state /source/inputState.json", False),
        ("config", "connectionConfiguration.json", "check --config /config/connectionConfiguration.json", True),
    ],
    ids=["read", "check"],
)
def test_platform_config_the_image_cannot_read(
    image: str, config: Dict[str, Any], launcher_dirs: LauncherDirs, cli_full_refresh: Dict[str, Any],
    folder: str, name: str, arguments: str, to_job_output: bool,
) -> None:
    path = launcher_dirs.write(folder, name, config, mode=0o600)  # owned by root: uid 1000 cannot read it
    assert (getattr(launcher_dirs, folder) / name).stat().st_uid == 0
    launcher_dirs.write("source", "catalog.json", cli_full_refresh["configured"])
    launcher_dirs.write("source", "inputState.json", [])
    result = platform_output(image, arguments, launcher_dirs, to_job_output)

    assert result.returncode != 0, result.describe()
    errors = [m["trace"]["error"] for m in result.of_type("TRACE") if m["trace"]["type"] == "ERROR"]
    assert len(errors) == 1, result.describe()
    message = errors[0]["message"]
    assert message.startswith(f"Could not start source-periskope: the config file {path} cannot be read"), message
    assert "uid 1000" in message and "The image runs as uid 1000" in message, message
    assert f"chmod a+r {path}" in message, message
    # A traceback only inside the TRACE message (its stack_trace), never as output of its own.
    outside = [m for m in result.messages if m["type"] != "TRACE"]
    assert not [m for m in outside if TRACEBACK in json.dumps(m)], result.describe()
    assert TRACEBACK not in message, message


# ------------------------------------------------------------------------------------------------ tests: docker SDK
@pytest.fixture(scope="module")
def docker_client(image: str) -> Iterator[Any]:
    """The docker SDK against `podman system service` on a private socket, stopped by its pid afterwards."""
    docker = pytest.importorskip("docker")
    socket_dir = Path(tempfile.mkdtemp(prefix="periskope-podman-"))  # short: unix socket paths are limited
    socket = socket_dir / "podman.sock"
    log = open(socket_dir / "service.log", "w")
    # The shim execs podman, so this pid is the service's own.
    service = subprocess.Popen(
        [str(DOCKER), "system", "service", "--time=0", f"unix://{socket}"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )
    client = None
    try:
        deadline = time.monotonic() + 60
        while True:
            if service.poll() is not None:
                log.flush()
                pytest.fail(f"podman system service exited {service.returncode}:\n{(socket_dir / 'service.log').read_text()}")
            if socket.exists():
                try:
                    client = docker.DockerClient(base_url=f"unix://{socket}", version="auto", timeout=RUN_TIMEOUT_SECONDS)
                    client.ping()
                    break
                except Exception:
                    if client is not None:
                        client.close()
                    client = None
            if time.monotonic() > deadline:
                pytest.fail("podman system service did not answer on its socket within 60s")
            time.sleep(0.2)
        yield client
    finally:
        if client is not None:
            client.close()
        service.terminate()
        try:
            service.wait(timeout=15)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait(timeout=15)
        log.close()
        shutil.rmtree(socket_dir, ignore_errors=True)


def sdk_run(client: Any, image: str, args: List[str], data: Optional[DataDir] = None) -> ImageRun:
    volumes = {str(data.path): {"bind": "/data", "mode": "ro"}} if data is not None else None
    # The compat API ignores containers.conf's netns = "host": ask for the host network explicitly.
    container = client.containers.run(image, args, volumes=volumes, network_mode="host", detach=True)
    try:
        returncode = container.wait(timeout=RUN_TIMEOUT_SECONDS)["StatusCode"]
        stdout = container.logs(stdout=True, stderr=False).decode()
        stderr = container.logs(stdout=False, stderr=True).decode()
    finally:
        container.remove(force=True)
    return ImageRun(returncode, stdout, stderr)


def test_docker_sdk_check_succeeds(docker_client: Any, image: str, config: Dict[str, Any], data_dir: DataDir) -> None:
    config_path = data_dir.write("config.json", config)
    result = sdk_run(docker_client, image, ["check", "--config", config_path], data_dir)
    assert result.returncode == 0, result.describe()
    assert result.connection_status()["status"] == "SUCCEEDED", result.describe()


def test_docker_sdk_discover_and_read_one_stream(docker_client: Any, image: str, config: Dict[str, Any], data_dir: DataDir, fake: FakePeriskope) -> None:
    config_path = data_dir.write("config.json", config)
    discovered = sdk_run(docker_client, image, ["discover", "--config", config_path], data_dir)
    assert discovered.returncode == 0, discovered.describe()
    catalog = discovered.of_type("CATALOG")[0]["catalog"]
    assert len(catalog["streams"]) == 8

    catalog_path = data_dir.write("catalog.json", configured_catalog(catalog, "full_refresh", streams=["tickets"]))
    result = sdk_run(docker_client, image, ["read", "--config", config_path, "--catalog", catalog_path], data_dir)
    assert result.returncode == 0, result.describe()
    expected = {record["ticket_id"] for record in fake.records("tickets")}
    assert {record["ticket_id"] for record in result.records("tickets")} == expected
