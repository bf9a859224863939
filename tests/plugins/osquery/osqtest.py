"""osqtest - the osquery side of vigil.ext's tests.

osquery itself is not packaged for Debian, so its extension manager is played by a
real Thrift peer nobody here wrote: Debian's python3-thrift serving code that Debian's
thrift-compiler generates, at test time, from osquery.thrift (same names, field ids and
types as osquery's interface). It checks a registration the way osquery does, answers
extensions(), and records what the extension sends; the tests then call the extension
back as osquery would, one short connection per call, and load the rows into SQLite the
way osquery's virtual tables do.

Debian's Thrift packages install for Debian's interpreter, so the tests run under
/usr/bin/python3 (CMake says so), whatever python3 comes first on PATH.
"""
import atexit
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "host"))
import vigilhost as vh  # noqa: E402

BUILD = vh.BUILD
EXT = os.environ.get("VIGIL_OSQ_EXT") or os.path.join(BUILD, "plugins", "osquery", "vigil.ext")
FAKE_AGENT = os.environ.get("VIGIL_OSQ_FAKE_AGENT") or os.path.join(BUILD, "tests", "plugins", "osquery",
                                                                     "osq_fake_agent")
IDL = os.path.join(HERE, "osquery.thrift")

# osquery's ConstraintOperator values
EQUALS, GT, LE, LT, GE = 2, 4, 8, 16, 32


def cannot_run(why):
    """A test that cannot run says why: a skip on a developer's machine, a failure in CI."""
    if os.environ.get("CI"):
        raise RuntimeError("cannot run in CI: " + why)
    raise unittest.SkipTest(why)


def require(root=False, thriftpy=False, msgpack=False, fake_agent=False):
    if shutil.which("thrift") is None:
        cannot_run("thrift-compiler is not installed (scripts/deps.d/osquery.txt)")
    for mod, wanted in (("thrift", True), ("thriftpy", thriftpy), ("msgpack", msgpack)):
        if not wanted:
            continue
        try:
            __import__(mod)
        except ImportError:
            cannot_run("python module %s is missing for %s (scripts/deps.d/osquery.txt)" % (mod, sys.executable))
    if not os.access(EXT, os.X_OK):
        cannot_run("%s is not built" % EXT)
    if fake_agent and not os.access(FAKE_AGENT, os.X_OK):
        cannot_run("%s is not built" % FAKE_AGENT)
    if root and os.geteuid() != 0:
        cannot_run("a real agent needs root to load BPF programs")


_gen = None


def gen():
    """The Python that thrift-compiler makes of osquery.thrift, generated once a process."""
    global _gen
    if _gen is None:
        out = tempfile.mkdtemp(prefix="osq-gen-")
        atexit.register(shutil.rmtree, out, True)
        subprocess.run(["thrift", "--gen", "py", "-out", out, IDL], check=True)
        sys.path.insert(0, out)
        from osquery.extensions import Extension, ExtensionManager, ttypes
        _gen = types.SimpleNamespace(Extension=Extension, ExtensionManager=ExtensionManager, ttypes=ttypes)
    return _gen


def thrift_libs():
    from thrift.protocol import TBinaryProtocol
    from thrift.server import TServer
    from thrift.transport import TSocket, TTransport
    return TBinaryProtocol, TServer, TSocket, TTransport


# --- the extension manager ---------------------------------------------------------------

# osquery's registries: a registration naming another is refused ("Unknown registry").
REGISTRIES = {"config", "logger", "distributed", "table", "sql", "database", "enroll", "killswitch",
              "numeric_monitoring", "event_publisher", "event_subscriber", "config_parser"}
COLUMN_TYPES = {"TEXT", "INTEGER", "BIGINT", "UNSIGNED BIGINT", "DOUBLE", "BLOB"}


def version_at_least(have, need):
    def parts(v):
        return [int(p) if p.isdigit() else 0 for p in v.split(".")]
    return parts(have) >= parts(need)


class FakeManager:
    """osquery's ExtensionManager service on a UNIX socket, as far as an extension sees it."""

    def __init__(self, path):
        g = gen()
        TBinaryProtocol, TServer, TSocket, TTransport = thrift_libs()
        self.g = g
        self.path = path
        self.lock = threading.Lock()
        self.extensions_ = {}        # uuid -> InternalExtensionInfo
        self.registrations = []      # (info, registry, status), every attempt
        self.deregistered = []
        self.refuse = None           # a message to refuse every registration with
        self.registered = threading.Event()
        manager = self

        class Server(TServer.TThreadedServer):
            stopping = False

            def serve(self):
                self.serverTransport.listen()
                while not self.stopping:
                    try:
                        client = self.serverTransport.accept()
                    except Exception:
                        if self.stopping:
                            break
                        raise
                    threading.Thread(target=self.handle, args=(client,), daemon=True).start()

        self.server = Server(g.ExtensionManager.Processor(manager), TSocket.TServerSocket(unix_socket=path),
                             TTransport.TBufferedTransportFactory(), TBinaryProtocol.TBinaryProtocolFactory(),
                             daemon=True)
        self.thread = threading.Thread(target=self.server.serve, daemon=True)

    def start(self):
        self.thread.start()
        deadline = time.time() + 5
        while not os.path.exists(self.path):
            if time.time() > deadline:
                raise RuntimeError("fake manager did not listen on " + self.path)
            time.sleep(0.01)
        return self

    def stop(self, unlink=True):
        self.server.stopping = True
        h = self.server.serverTransport.handle
        if h:
            try:
                h.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            h.close()
        self.thread.join(5)
        if unlink and os.path.exists(self.path):
            os.unlink(self.path)

    # what osquery's core checks on registerExtension (extensions.cpp, registry)
    def registerExtension(self, info, registry):
        t = self.g.ttypes
        with self.lock:
            status = self._check(info, registry)
            if status is None:
                uuid = random.randint(1, 65535) + 1
                while uuid in self.extensions_:
                    uuid = random.randint(1, 65535) + 1
                self.extensions_[uuid] = info
                status = t.ExtensionStatus(code=0, message="OK", uuid=uuid)
            self.registrations.append((info, registry, status))
        if status.code == 0:
            self.registered.set()
        return status

    def _check(self, info, registry):
        t = self.g.ttypes
        if self.refuse:
            return t.ExtensionStatus(code=1, message=self.refuse)
        if any(i.name == info.name for i in self.extensions_.values()):
            return t.ExtensionStatus(code=1, message="Duplicate extension registered")
        if not version_at_least(info.sdk_version, "1.7.7"):
            return t.ExtensionStatus(code=1, message="Incompatible extension SDK version")
        for name, items in registry.items():
            if name not in REGISTRIES:
                return t.ExtensionStatus(code=1, message="Unknown registry")
            for item, routes in items.items():
                if not routes:
                    return t.ExtensionStatus(code=1, message="Invalid route info")
        return None

    def deregisterExtension(self, uuid):
        t = self.g.ttypes
        with self.lock:
            self.deregistered.append(uuid)
            if self.extensions_.pop(uuid, None) is None:
                return t.ExtensionStatus(code=1, message="No extension UUID found")
        return t.ExtensionStatus(code=0, message="OK", uuid=uuid)

    def extensions(self):
        with self.lock:
            return dict(self.extensions_)

    def forget(self, uuid):
        """What osquery does after two failed pings: the uuid leaves extensions()."""
        with self.lock:
            self.extensions_.pop(uuid, None)

    def options(self):
        return {}

    def ping(self):
        return self.g.ttypes.ExtensionStatus(code=0, message="pong", uuid=0)

    def call(self, registry, item, request):
        t = self.g.ttypes
        return t.ExtensionResponse(status=t.ExtensionStatus(code=1, message="Unknown registry"), response=[])

    def shutdown(self):
        pass

    def query(self, sql):
        t = self.g.ttypes
        return t.ExtensionResponse(status=t.ExtensionStatus(code=1, message="no SQL here"), response=[])

    def getQueryColumns(self, sql):
        return self.query(sql)

    def last_success(self):
        with self.lock:
            ok = [r for r in self.registrations if r[2].code == 0]
        return ok[-1] if ok else None


# --- the extension under test --------------------------------------------------------------

class Extension:
    """A vigil.ext process, started as osquery starts extensions (plus our own options)."""

    def __init__(self, em, *args, timeout=10, interval=1, env=None):
        self.em = em
        self.args = [EXT, "--socket", em, "--timeout", str(timeout), "--interval", str(interval),
                     "--verbose"] + list(args)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.logpath = em + ".ext.log"
        self.proc = None

    def start(self):
        self.logf = open(self.logpath, "w")
        self.proc = subprocess.Popen(self.args, stdout=self.logf, stderr=subprocess.STDOUT, env=self.env)
        return self

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def log(self):
        if not self.logf.closed:
            self.logf.flush()
        with open(self.logpath) as f:
            return f.read()

    def stop(self):
        """SIGTERM it if it still runs; return its exit code. A sanitizer report in its
        output fails the test that stops it, whatever the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(15) is None:
                self.proc.kill()
                self.proc.wait()
        log = self.log()
        self.logf.close()
        if "Sanitizer" in log or "runtime error:" in log:
            raise AssertionError("vigil.ext reported a sanitizer error:\n" + log)
        return self.proc.returncode


def wait_path(path, timeout=10):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise AssertionError("%s did not appear" % path)
        time.sleep(0.01)


def start_registered(tmp, *args, env=None, interval=1):
    """A fake manager and an extension registered with it: (manager, extension, uuid, path)."""
    em = os.path.join(tmp, "osquery.em")
    manager = FakeManager(em).start()
    ext = Extension(em, *args, env=env, interval=interval).start()
    if not manager.registered.wait(15):
        raise AssertionError("no registration:\n" + ext.log())
    uuid = manager.last_success()[2].uuid
    path = "%s.%d" % (em, uuid)
    wait_path(path)
    return manager, ext, uuid, path


# --- calling the extension as osquery does ---------------------------------------------------

class Client:
    """One connection to an extension with python3-thrift (osquery opens one per call)."""

    def __init__(self, path, timeout_s=10):
        TBinaryProtocol, _, TSocket, TTransport = thrift_libs()
        sock = TSocket.TSocket(unix_socket=path)
        sock.setTimeout(timeout_s * 1000)
        self.transport = TTransport.TBufferedTransport(sock)
        self.client = gen().Extension.Client(TBinaryProtocol.TBinaryProtocol(self.transport))
        self.transport.open()

    def __enter__(self):
        return self.client

    def __exit__(self, *exc):
        self.transport.close()
        return False


def context(*constraints):
    """A generate context as osquery's TablePlugin::setRequestFromContext writes it;
    each constraint is (column, op, expr)."""
    by_name = {}
    for name, op, expr in constraints:
        by_name.setdefault(name, []).append({"op": op, "expr": str(expr)})
    return json.dumps({"constraints": [{"name": n, "list": l, "affinity": "BIGINT"} for n, l in by_name.items()],
                       "colsUsed": [], "colsUsedBitset": 0})


def call(path, table, action, ctx=None, registry="table"):
    request = {"action": action}
    if ctx is not None:
        request["context"] = ctx
    with Client(path) as c:
        return c.call(registry, table, request)


def generate(path, table, *constraints):
    r = call(path, table, "generate", context(*constraints))
    if r.status.code != 0:
        raise AssertionError("generate %s failed: %s" % (table, r.status.message))
    return r.response


def create_table_sql(name, routes):
    """The CREATE TABLE osquery's columnDefinition() builds from an extension's routes."""
    cols = []
    for r in routes:
        if r.get("id") != "column":
            continue
        opts = int(r["op"])
        cols.append("`%s` %s%s" % (r["name"], r["type"], " HIDDEN" if opts & 16 else ""))
    return "CREATE TABLE %s(%s)" % (name, ", ".join(cols))


def database(tables):
    """SQLite holding each table's generate rows under its declared columns, as osquery's
    virtual tables show them (integer columns read as integers), plus osquery's `time`
    table; tables maps a name to (routes, rows)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE time(unix_time INTEGER)")
    db.execute("INSERT INTO time VALUES (?)", (int(time.time()),))
    for table, (routes, rows) in tables.items():
        db.execute(create_table_sql(table, routes))
        types_ = {r["name"]: r["type"] for r in routes if r.get("id") == "column"}
        names = list(types_)
        for row in rows:
            vals = []
            for n in names:
                v = row.get(n)
                if v is not None and types_[n] in ("INTEGER", "BIGINT", "UNSIGNED BIGINT"):
                    try:
                        v = int(v)
                    except ValueError:
                        v = None
                vals.append(v)
            db.execute("INSERT INTO %s VALUES (%s)" % (table, ",".join("?" * len(names))), vals)
    return db


def sql(routes, table, rows, query, *params):
    """Query one table's rows with SQL (see database())."""
    return database({table: (routes, rows)}).execute(query, params).fetchall()
