"""The HTTP server that carries the Flask app inside one process: `ftsim serve --workers 1`, the in-process
server of the tests and the pytest plugin (`--workers N` runs granian's public multi-process server
instead, simulator/group.py, with `one_piece` and `connection_cap` from here).

It lives in the same process as the listeners and intake, starts on a given or free port, and stops on
request. The interface `serve.Server` relies on: `server_port`,
`serve_forever()` (blocking, run in a thread), `shutdown()` (from another thread), `server_close()`.

Chosen on measurements (2 cores shared with wrk, keep-alive, 16 connections, a bare Flask app answering
a casino POST, median of 3 runs on a quiet machine): granian's Rust HTTP/1.1 worker run from our own
thread 5,900-6,600 req/s (9,300 with the server's threads on one CPU, see _app_cpu), waitress 3,100,
cheroot 2,200, werkzeug's threaded server 1,100; with ftsim's real intake on a SQLite file: 1,600-1,700
(2,600 on one CPU), 1,100, 1,150 and 760.

For one process granian's own servers don't fit: its embedded server refuses WSGI, its thread server needs a
free-threaded Python, and its default starts worker processes. A granian worker process runs one
`WSGIWorker`, whose Rust runtime does the HTTP off the GIL and calls the app on a pool of Python threads; we
run exactly that in our process, on a socket we bind ourselves (plain SO_REUSEADDR, so a second `ftsim
serve` on a busy port fails as it should, where granian's own sockets set SO_REUSEPORT and would silently
share it). Our WSGI runner hands granian a buffered body in one piece, which about doubled granian's rate
over its own runner (one GIL round trip per response).

`WSGIWorker` is granian's internal API, so it is used only on the versions it was measured on; on any
other version, or without granian, ftsim falls back to werkzeug (always installed with Flask), and logs
why. (waitress, measured above, is not kept as a middle step: it is not a dependency, so it would be a
path no installation takes.)
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import threading
import time

log = logging.getLogger("ftsim.http")

BACKLOG = 1024
GRANIAN_VERSIONS = ("2.8.",)  # the versions whose internal WSGIWorker signature this module was written against
STOP_TIMEOUT = 15.0  # seconds shutdown() waits for requests in flight
HEADER_TIMEOUT = 10.0  # seconds a client has for a request's headers, and an idle keep-alive connection for its next
BODY_TIMEOUT = 10.0  # seconds from the first read of a body to its end (granian; werkzeug: HEADER_TIMEOUT per read)
CONNECTION_CAP = 4096  # open connections granian takes at once (never more than the open-file limit allows)
RUNTIME_THREADS = 1  # granian's Rust I/O threads; Python runs on `settings.threads` threads of its own
PIN_APP_THREADS = True  # run the app's threads on one CPU (see _OneCpu); False leaves them to the scheduler


class Unavailable(RuntimeError):
    """The requested HTTP stack cannot run here (not installed, or an untested version)."""


def make_http_server(app, settings, kind: str = "auto"):
    """Bind `settings.host:settings.port` (0 picks a free port) and return a stopped server for `app`.

    kind: "auto" (granian, else werkzeug), or one of those names to insist on it; the
    benchmark measures the raw ceiling of the same stack by passing a bare app here.
    """
    threads = max(1, int(getattr(settings, "threads", 16) or 16))
    order = {"auto": ("granian", "werkzeug")}.get(kind, (kind,))
    unknown = [k for k in order if k not in STACKS]
    if unknown:
        raise ValueError(f"http server: expected one of auto, {', '.join(STACKS)}, got {kind!r}")
    cpu = _app_cpu() if PIN_APP_THREADS else None
    sock = listen(settings.host, settings.port)  # an address in use fails here, whatever the stack
    try:
        for name in order:
            try:
                server = STACKS[name](app, sock, threads, cpu)
            except Unavailable as exc:
                if kind != "auto":
                    raise
                log.warning("HTTP server %s unavailable (%s); trying the next one", name, exc)
                continue
            log.debug("HTTP server: %s with %d threads on port %d", name, threads, server.server_port)
            return server
        raise Unavailable("no HTTP server stack could start")
    except BaseException:
        sock.close()
        raise


def _app_cpu() -> int | None:
    """The one CPU the server's threads share: the highest this process may use; None with only one.

    Every request holds the GIL for most of its work (Flask, then the one intake), so only one Python
    thread of the server runs at a time anyway; on one CPU the GIL passes between them without waking a
    thread on another core each time. Measured on 2 cores, wrk unpinned: the bare Flask ceiling 6,600 ->
    9,300 req/s (p99 21 -> 9 ms), ftsim's REST intake 1,700 -> 2,600 msg/s. Only threads the server
    starts are moved (Linux affinity is per thread and inherited); the caller's threads, the broker
    listeners and the rest of the machine keep every CPU. PIN_APP_THREADS = False turns it off."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    allowed = os.sched_getaffinity(0)
    return max(allowed) if len(allowed) > 1 else None


class _on_cpu:
    """Run the calling thread on `cpu` inside the block (threads it starts meanwhile keep that), then
    give it back the CPUs it had."""

    def __init__(self, cpu: int | None):
        self.cpu = cpu
        self.before = None

    def __enter__(self):
        if self.cpu is not None:
            try:
                self.before = os.sched_getaffinity(0)
                os.sched_setaffinity(0, {self.cpu})
            except OSError:
                self.before = None

    def __exit__(self, *exc):
        if self.before is not None:
            os.sched_setaffinity(0, self.before)


class _OneCpu:
    """For the fallback servers, whose threads are not ours to start: WSGI middleware that moves each
    thread running the app onto the CPU the first time it runs it."""

    def __init__(self, app, cpu: int):
        self.app = app
        self.cpu = cpu
        self._moved = threading.local()

    def __call__(self, environ, start_response):
        if not getattr(self._moved, "done", False):
            self._moved.done = True
            try:
                os.sched_setaffinity(0, {self.cpu})
            except OSError:  # the CPU was taken away (cgroup change): leave the thread where it is
                pass
        return self.app(environ, start_response)


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (0: a free port), SO_REUSEADDR only: a port in use raises."""
    family, kind, proto, _, addr = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                      flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # rebind over TIME_WAIT, as werkzeug does
        sock.bind(addr)
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


class _Base:
    """What serve.Server needs, on a bound socket; subclasses fill in _start, _run, _stop and _close."""

    name = "?"

    def __init__(self, sock: socket.socket, threads: int, cpu: int | None):
        self._sock = sock
        self.cpu = cpu
        self.server_port = sock.getsockname()[1]
        self.threads = threads
        self._lock = threading.Lock()
        self._serving = False
        self._closing = False
        self._done = threading.Event()

    def serve_forever(self) -> None:
        with self._lock:
            if self._closing or self._serving:
                return
            self._serving = True
            try:
                self._start()
            except BaseException:
                self._done.set()
                raise
        try:
            self._run()
        finally:
            self._done.set()

    def shutdown(self) -> None:
        """Stop taking requests, let those in flight finish, and return once serve_forever has."""
        with self._lock:
            self._closing = True
            serving = self._serving
        if serving:
            self._stop()
            if not self._done.wait(STOP_TIMEOUT):
                log.warning("HTTP server %s: requests still in flight after %ss", self.name, STOP_TIMEOUT)

    def server_close(self) -> None:
        self.shutdown()
        self._close()
        self._sock.close()

    def _start(self) -> None:  # under the lock: begin serving without blocking
        pass

    def _run(self) -> None:  # block until stopped
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        pass


class GranianServer(_Base):
    """granian's Rust WSGI worker in this process: HTTP parsing off the GIL, the app on `threads` threads."""

    name = "granian"

    def __init__(self, app, sock, threads, cpu=None):
        try:
            import granian
            from granian._futures import _new_cbscheduler
            from granian._granian import MetricsAggregator, SocketHolder, WorkerSignal, WSGIWorker
            from granian.http import HTTP1Settings
        except ImportError as exc:
            raise Unavailable(f"granian not importable: {exc}") from None
        version = getattr(granian, "__version__", "?")
        if not version.startswith(GRANIAN_VERSIONS):
            raise Unavailable(f"granian {version} is untested here (tested: {', '.join(GRANIAN_VERSIONS)}x)")
        super().__init__(sock, threads, cpu)
        self._new_scheduler = _new_cbscheduler
        self._signal = WorkerSignal()
        self._drained = threading.Event()
        self._signal.add_cb(self._drained.set)  # granian calls it once the worker has stopped
        holder = SocketHolder(os.dup(sock.fileno()), False, BACKLOG)  # granian owns (and closes) the dup
        # Headers are parsed in Rust, so a connection that idles or drips header bytes costs no Python thread
        # and is cut off after HEADER_TIMEOUT (hyper applies it to a keep-alive connection's wait for its next
        # request too); `backpressure` caps open connections, so it must be far above the thread count, or a
        # few dozen idle sockets hold every slot and new clients wait in the listen backlog.
        http1 = HTTP1Settings(header_read_timeout=int(HEADER_TIMEOUT * 1000), keep_alive=True)
        try:
            # (worker_id, sock, ipc, runtime_threads, runtime_blocking_threads, py_threads,
            #  py_threads_idle_timeout, backpressure, http_mode, http1, http2, static_files, ssl x8, metrics)
            self._worker = WSGIWorker(1, (None, holder), None, RUNTIME_THREADS, 512, threads, 30,
                                      connection_cap(threads), "1", http1, None, None, False, None, None, None,
                                      "tls1.3", None, [], False, (None, MetricsAggregator(1)))
        except TypeError as exc:
            raise Unavailable(f"granian {version}: WSGIWorker signature changed ({exc})") from None
        self._loop = None
        self._runner = _wsgi_runner(app)

    def _start(self):
        self._loop = asyncio.new_event_loop()  # granian wants one; WSGI calls never run on it
        scheduler = self._new_scheduler(self._loop, self._runner, impl_asyncio=True)
        with _on_cpu(self.cpu):  # the threads granian starts now, and the ones they start, inherit the CPU
            self._worker.serve_mtr(scheduler, self._loop, self._signal)  # starts the Rust runtime, returns

    def _run(self):
        try:
            self._drained.wait()
        finally:
            self._loop.close()

    def _stop(self):
        self._signal.set()

    def _close(self):
        self._worker = None  # drops the runtime and the dup'd listening socket


def one_piece(app):
    """WSGI middleware for granian's public runner, which sends a list body in one call and any other
    iterable a chunk at a time (a GIL round trip each): an answer that states its Content-Length (all of
    Flask's but streams) is joined into one piece first, as this module's own runner does."""
    def call(environ, start_response):
        length = []

        def start(status, headers, exc_info=None):
            length[:] = [any(k.lower() == "content-length" for k, _ in headers)]
            return start_response(status, headers, exc_info) if exc_info is not None else start_response(
                status, headers)

        body = app(environ, start)
        if isinstance(body, list) or not (length and length[0]):
            return body
        try:
            return [b"".join(body)]
        finally:
            _close(body)

    return call


def _no_write(data):
    raise NotImplementedError("ftsim's HTTP server does not support the WSGI write() callable")


def connection_cap(threads: int, workers: int = 1) -> int:
    """CONNECTION_CAP, within the open-file limit: the soft limit is raised towards the hard one first (a
    server's connections are files; 1,024, a common default, is too few to outlast an idle-socket flood),
    with room for the hub's connections of a `--workers N` group too, one per worker thread (`workers` x
    `threads` of them in the supervisor, whose limit its workers inherit)."""
    try:
        import resource
    except ImportError:
        return 768  # not Unix: no limit to read, so a modest cap
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = CONNECTION_CAP + workers * threads + 1024
    if soft != resource.RLIM_INFINITY and soft < want:
        raised = want if hard == resource.RLIM_INFINITY else min(hard, want)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (OSError, ValueError):
            log.warning("HTTP server: cannot raise the open-file limit above %d", soft)
    if soft == resource.RLIM_INFINITY:
        return CONNECTION_CAP
    return max(64, min(CONNECTION_CAP, soft - 256))  # leave files for the store, logs and brokers


BODY_TIMEOUT_ANSWER = "ftsim.body_timeout_answer"
"""environ key: the app may put a callable here returning (status, headers, body) for the answer to a body
that did not arrive within BODY_TIMEOUT; it runs on the watchdog's thread, outside any request context."""


class _Call:
    """One request in the granian runner: answered once, by the app or by the body watchdog."""

    __slots__ = ("proto", "environ", "deadline", "answered", "expired")

    def __init__(self, proto, environ):
        self.proto, self.environ = proto, environ
        self.deadline = None
        self.answered = self.expired = False


class _BodyWatchdog:
    """Answers a request whose body read outlasts BODY_TIMEOUT, because granian cannot: hyper has no body
    timeout, and granian's WSGI read blocks its Python thread until the body ends or the client goes.

    The thread stays blocked until then (nothing in granian 2.8 lets Python close the connection), but
    the client has its 408 and the read, when it returns, raises TimeoutError. One thread, started when a
    read is in progress and gone when none is, so a server at rest runs no timer."""

    def __init__(self):
        self.reading: dict[int, _Call] = {}
        self._lock = threading.Lock()
        self._running = False

    def watch(self, call: _Call) -> None:
        self.reading[id(call)] = call  # before the check: _run leaves only once it saw no read in progress
        if not self._running:
            with self._lock:
                if not self._running:
                    self._running = True
                    threading.Thread(target=self._run, name="ftsim-http-bodies", daemon=True).start()

    def done(self, call: _Call) -> bool:
        """The read of `call` returned: False if the watchdog answered it meanwhile. Under the lock, so
        that a read ending at its deadline is either used or answered 408, never both."""
        with self._lock:
            self.reading.pop(id(call), None)
            return not call.expired

    def claim(self, call: _Call) -> bool:
        """True for the one caller that gets to answer `call`."""
        with self._lock:
            if call.answered:
                return False
            call.answered = True
            return True

    def _run(self):
        while True:
            time.sleep(min(0.5, BODY_TIMEOUT / 4))
            with self._lock:
                if not self.reading:
                    self._running = False
                    return
                now, late = time.monotonic(), []
                for call in [c for c in self.reading.values() if now >= c.deadline]:
                    del self.reading[id(call)]
                    if not call.answered:
                        call.answered = call.expired = True
                        late.append(call)
            for call in late:
                self._answer(call)

    @staticmethod
    def _answer(call: _Call) -> None:
        status, headers, body = 408, [("Content-Type", "application/json")], (
            b'{"error": "Request Timeout", "message": "body: not complete within %g s"}\n' % BODY_TIMEOUT)
        answer = call.environ.get(BODY_TIMEOUT_ANSWER)
        if answer is not None:
            try:
                status, headers, body = answer()
            except Exception:  # the answer must still go out; the app's hook is logged, not fatal
                log.exception("HTTP server: the body-timeout answer failed")
        headers = [(k, v) for k, v in headers if k.lower() not in ("connection", "content-length")]
        call.proto.response_bytes(status, headers + [("Content-Length", str(len(body))), ("Connection", "close")],
                                  body)


class _TimedBody:
    """wsgi.input with a deadline: the first read starts BODY_TIMEOUT; the watchdog sees reads in progress."""

    __slots__ = ("_raw", "_call", "_dog")

    def __init__(self, raw, call: _Call, dog: _BodyWatchdog):
        self._raw, self._call, self._dog = raw, call, dog

    def _timed(self, read, *args):
        call = self._call
        if call.expired:
            raise TimeoutError(f"body: not complete within {BODY_TIMEOUT:g} s")
        if call.deadline is None:
            call.deadline = time.monotonic() + BODY_TIMEOUT
        self._dog.watch(call)
        try:
            data = read(*args)
        finally:
            in_time = self._dog.done(call)
        if not in_time:
            raise TimeoutError(f"body: not complete within {BODY_TIMEOUT:g} s")
        return data

    def read(self, size=None):
        return self._timed(self._raw.read, size)

    def readline(self, size=None):
        return self._timed(self._raw.readline, size)

    def readlines(self, hint=None):
        return self._timed(self._raw.readlines, hint)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


def _wsgi_runner(app):
    """Call the WSGI app for granian: the environ without os.environ in it, a fully buffered body sent in
    one piece (one GIL round trip), streaming kept for responses without a Content-Length; the request
    body under a deadline (_BodyWatchdog)."""
    base = {"GATEWAY_INTERFACE": "CGI/1.1", "SCRIPT_NAME": "", "SERVER_SOFTWARE": "ftsim (granian)",
            "wsgi.errors": sys.stderr, "wsgi.input_terminated": True, "wsgi.multiprocess": False,
            "wsgi.multithread": True, "wsgi.run_once": False, "wsgi.version": (1, 0)}
    dog = _BodyWatchdog()

    def run(proto, scope):
        environ = base | scope
        call = _Call(proto, environ)
        environ["wsgi.input"] = _TimedBody(scope["wsgi.input"], call, dog)
        started = []

        def start_response(status, headers, exc_info=None):
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = (int(status.split(" ", 1)[0]), headers)
            return _no_write

        body = app(environ, start_response)
        if not isinstance(body, list) and started and any(k.lower() == "content-length" for k, _ in started[1]):
            whole = body
            try:
                body = [b"".join(whole)]
            finally:
                _close(whole)
        if not dog.claim(call):  # the watchdog answered while the app waited for the body
            _close(body)
            return 408
        if isinstance(body, list):
            status, headers = started
            proto.response_bytes(status, headers, b"".join(body))
        else:
            chunks = iter(body)
            try:
                first = next(chunks, b"")  # a generator may call start_response with its first chunk
                status, headers = started
            except BaseException:
                _close(body)
                raise
            proto.response_iter(status, headers, _Chunks(body, first, chunks))
        return started[0]

    return run


class _Chunks:
    __slots__ = ("_inner", "_first", "_rest")

    def __init__(self, inner, first, rest):
        self._inner, self._first, self._rest = inner, first, rest

    def __iter__(self):
        return self

    def __next__(self):
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return next(self._rest)

    def close(self):
        _close(self._inner)


def _close(body) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()


class WerkzeugServer(_Base):
    """The last resort: werkzeug's threaded server, without its line per request in the log."""

    name = "werkzeug"

    def __init__(self, app, sock, threads, cpu=None):
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            timeout = HEADER_TIMEOUT  # every read of a connection: headers, body, the wait for the next request

            def log_request(self, code="-", size="-"):
                if str(code).isdigit() and int(code) >= 500:
                    super().log_request(code, size)

        super().__init__(sock, threads, cpu)
        host, port = sock.getsockname()[:2]
        app = _OneCpu(app, cpu) if cpu is not None else app
        self._server = make_server(host, port, app, threaded=True, request_handler=QuietHandler, fd=sock.fileno())

    def _run(self):
        self._server.serve_forever()

    def _stop(self):
        self._server.shutdown()

    def _close(self):
        self._server.server_close()


STACKS = {"granian": GranianServer, "werkzeug": WerkzeugServer}
