"""The hub between `--workers N`'s supervisor and its workers, over its real Unix socket, in one process:
what a worker thread sends comes back as its own answer, waiting messages share a transaction, a slow call
holds up no judgement, errors arrive as themselves, and a hub that is gone means nothing was kept."""
from __future__ import annotations

import json
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from simulator.core.envelope import Envelope
from simulator.core.errors import StoreError
from simulator.hub import Hub, HubClient, RemoteIntake
from simulator.runtime import Runtime

from tests.conftest import casino_event, two_callers_while_the_fsync_is_held


@pytest.fixture
def hub_pair(make_settings):
    """A supervisor's Runtime with its hub, and a worker's Runtime talking to it."""
    settings = make_settings(severity=["latency.budget=off"])
    supervisor = Runtime(settings)
    hub = Hub(supervisor)
    client = HubClient(**hub.for_workers())
    worker = Runtime(settings, hub=client)
    yield supervisor, hub, worker
    worker.close()
    hub.close()
    supervisor.close()


def envelope(event) -> Envelope:
    return Envelope("rest", json.dumps(event).encode(), "CASINO")


def test_each_thread_gets_its_own_verdict_and_waiting_messages_share_transactions(hub_pair):
    supervisor, _, worker = hub_pair
    assert isinstance(worker.intake, RemoteIntake)
    sizes, commit = [], supervisor.intake.commit

    def counting(envelopes, stateless=None):
        envelopes = list(envelopes)
        sizes.append(len(envelopes))
        return commit(envelopes, stateless)

    supervisor.intake.commit = counting
    events = [casino_event(user_id=f"u{i % 5}") for i in range(200)]
    events[7] = {**events[7], "amount": "twenty"}  # one invalid: its own verdict, nobody else's
    answers: dict[str, object] = {}

    def send(chunk):
        for e in chunk:
            answers[e["activity_id"]] = worker.intake.one(envelope(e))

    threads = [threading.Thread(target=send, args=(events[i::16],)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e["activity_id"] for e in events if not answers[e["activity_id"]].valid] == [events[7]["activity_id"]]
    assert {v.id for v in answers.values()} == set(range(1, 201))  # one stored message each
    assert sum(sizes) == 200 and max(sizes) > 1  # some waited together for one commit
    assert supervisor.store.counts()["received"] == 200


def test_a_retry_sent_through_another_worker_is_recognised(hub_pair, make_settings):
    supervisor, hub, worker = hub_pair
    other = Runtime(make_settings(severity=["latency.budget=off"]), hub=HubClient(**hub.for_workers()))
    try:
        event = casino_event()
        first, again = worker.intake.one(envelope(event)), other.intake.one(envelope(event))
        assert first.valid and not first.duplicate
        assert again.duplicate and [v.rule for v in again.violations] == ["activity.retry"]
    finally:
        other.close()


def test_a_slow_call_holds_up_no_judgement(hub_pair):
    supervisor, _, worker = hub_pair
    release = threading.Event()

    def slow_summary():
        release.wait(10)
        return {"slow": True}

    supervisor.pipeline.summary = slow_summary
    got = {}
    caller = threading.Thread(target=lambda: got.setdefault("summary", worker.pipeline.summary()))
    caller.start()
    time.sleep(0.1)  # the call is in the hub now
    assert worker.intake.one(envelope(casino_event())).valid  # answered while the call waits
    assert caller.is_alive()
    release.set()
    caller.join(5)
    assert got["summary"] == {"slow": True}


def test_errors_come_back_as_themselves(hub_pair):
    _, _, worker = hub_pair
    with pytest.raises(ValueError, match=r"inputs\[0\]\.source"):  # the pairing's words: the API's 400
        worker.pipeline.register([{"id": "x"}])
    with pytest.raises(ValueError, match="not served"):
        worker.hub.call("runtime", "close")  # only what a worker may ask is served
    assert worker.channel_states() == {}


def test_a_store_failure_in_the_supervisor_reaches_the_worker_as_nothing_kept(hub_pair, tmp_path):
    supervisor, _, worker = hub_pair
    assert worker.intake.one(envelope(casino_event())).valid
    (tmp_path / "ftsim.db").unlink()
    with pytest.raises(StoreError):
        worker.intake.one(envelope(casino_event()))


def test_a_closed_hub_means_nothing_was_kept(hub_pair):
    _, hub, worker = hub_pair
    assert worker.intake.one(envelope(casino_event())).valid  # this thread's connection is open
    hub.close()  # as when the supervisor stops: its connections end, and no new one is taken
    with pytest.raises(StoreError, match="not kept|send it again"):
        worker.intake.one(envelope(casino_event()))
    with pytest.raises(StoreError, match="not kept|send it again"):  # and the next one, on a new connection
        worker.intake.one(envelope(casino_event()))


def test_a_client_without_the_key_is_turned_away_and_the_workers_go_on(hub_pair):
    import socket as sockets

    from multiprocessing.connection import Client
    from multiprocessing import AuthenticationError

    _, hub, worker = hub_pair
    with pytest.raises(AuthenticationError):
        Client(hub.address, "AF_UNIX", authkey=b"wrong")
    with sockets.socket(sockets.AF_UNIX) as s:  # and one that leaves in the middle of the handshake
        s.connect(hub.address)
    late = HubClient(**hub.for_workers())  # a worker started after them still gets in
    assert late.call("runtime", "channel_states") == {}
    assert worker.intake.one(envelope(casino_event())).valid


def test_what_cannot_be_read_closes_only_its_own_connection(hub_pair):
    from multiprocessing.connection import Client

    _, hub, worker = hub_pair
    for message in (b"not a pickle", pickle.dumps(("judge", 1)), pickle.dumps(("nothing", 1, 2)),
                    pickle.dumps(("call", "runtime"))):
        bad = Client(hub.address, "AF_UNIX", authkey=hub.authkey)
        bad.send_bytes(message)  # the hub's judge thread reads it, and must go on reading the others
        with pytest.raises(EOFError):
            bad.recv()
    assert worker.intake.one(envelope(casino_event())).valid


def test_a_worker_thread_that_ends_takes_its_connection_with_it(hub_pair):
    import gc

    _, hub, worker = hub_pair
    before = len(hub._selector.get_map())
    verdicts = []
    threads = [threading.Thread(target=lambda: verdicts.append(worker.intake.one(envelope(casino_event()))))
               for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(verdicts) == 5 and all(v.valid for v in verdicts)  # each was judged over a connection of its own
    gc.collect()
    deadline = time.monotonic() + 5
    while len(hub._selector.get_map()) > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(hub._selector.get_map()) == before  # the five threads' connections closed, the hub let them go


def test_an_answer_waits_for_the_disk_while_the_judge_goes_on(hub_pair, monkeypatch):
    """With the fsync held, a worker's message is committed but not answered, and the next one, from another
    worker thread, is judged and committed meanwhile; once the disk has them both get their verdicts."""
    supervisor, _, worker = hub_pair
    answers, _ = two_callers_while_the_fsync_is_held(
        monkeypatch, lambda name: worker.intake.one(envelope(casino_event(activity_id=name))), supervisor.store)
    assert answers["first"].valid and answers["second"].valid


def test_a_failed_fsync_reaches_the_worker_as_nothing_kept(hub_pair, monkeypatch):
    """The one fake: a disk error cannot be made to happen here."""
    from simulator.store import walsync

    supervisor, _, worker = hub_pair
    assert worker.intake.one(envelope(casino_event())).valid

    def broken(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(walsync.os, "fdatasync", broken)
    with pytest.raises(StoreError, match="could not be flushed"):
        worker.intake.one(envelope(casino_event()))
    monkeypatch.undo()
    with pytest.raises(StoreError, match="could not be flushed"):  # and nothing after it, until a restart
        worker.intake.one(envelope(casino_event()))


def test_a_store_durable_at_commit_is_answered_by_the_judge_thread_itself(make_settings):
    """At --durability normal (and on PostgreSQL) there is nothing to wait for after the commit, so the hub
    answers from the judge thread, without handing the batch to its answering thread."""
    settings = make_settings(severity=["latency.budget=off"], durability="normal")
    supervisor = Runtime(settings)
    hub = Hub(supervisor)
    worker = Runtime(settings, hub=HubClient(**hub.for_workers()))
    answered_by = set()
    real = hub._answer_all

    def spying(*args):
        answered_by.add(threading.current_thread().name)
        return real(*args)

    hub._answer_all = spying
    try:
        assert supervisor.store.health()["durability"] == "normal"
        verdicts = []
        threads = [threading.Thread(target=lambda i=i: verdicts.append(
            worker.intake.one(envelope(casino_event(activity_id=f"n{i}"))))) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(verdicts) == 8 and all(v.valid for v in verdicts)
        assert answered_by == {"ftsim-hub-judge"}
    finally:
        worker.close()
        hub.close()
        supervisor.close()


_OUT_OF_FILES = r"""
import json, os, resource, sys, threading, time
from simulator.hub import Hub, HubClient
from simulator.runtime import Runtime
from simulator.settings import load_settings

runtime = Runtime(load_settings(None, env={}, db=sys.argv[1], port=0))
hub = Hub(runtime)
calls = [0]
accept = hub._listener.accept

def counted():
    calls[0] += 1
    return accept()

hub._listener.accept = counted  # taken from the accept thread's next try on
resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
spent = []
while True:  # every file this process may open, taken
    try:
        spent.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        break
os.close(spent.pop())  # one for the worker's socket; the hub's accept then has none
worker = {}
threading.Thread(target=lambda: worker.setdefault("client", HubClient(**hub.for_workers())), daemon=True).start()
time.sleep(1.0)
out_of_files = calls[0]
for fd in spent[:16]:
    os.close(fd)
deadline = time.monotonic() + 30
while "client" not in worker and time.monotonic() < deadline:
    time.sleep(0.01)
answer = worker["client"].call("runtime", "channel_states") if "client" in worker else None
print(json.dumps({"tries": out_of_files, "answer": answer}))
"""


def test_a_hub_out_of_files_tries_again_without_spinning_and_serves_the_waiting_worker(tmp_path):
    """The supervisor out of open files (stalled bodies can start many worker threads, each with a connection
    of its own to the hub) fails every accept at once: the hub tries again every ACCEPT_BACKOFF rather than
    in a loop that takes a core, and the worker thread waiting in the backlog is served once a file is free.
    In a process of its own, whose open-file limit it lowers."""
    done = subprocess.run([sys.executable, "-c", _OUT_OF_FILES, str(tmp_path / "hub.db")], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["answer"] == {}  # the waiting worker got in and was answered
    assert 1 <= result["tries"] <= 100  # one a 50 ms for the second out of files; a spinning loop makes thousands
