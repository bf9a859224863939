"""Plugins lane: vigil.ext against a real agent and a real Thrift peer.

A real vigild runs on this kernel with a real TracingPolicy (openat under a directory of
the test's); vigil.ext subscribes to its bus and registers with a fake osquery extension
manager (python3-thrift serving code thrift-compiler generated from osquery.thrift) that
comes up only after the extension started. Real programs run and open a watched file;
the tests then call the extension back as osquery does — columns, generate with
constraints, ping — with python3-thrift and, independently, with thriftpy, and query
the rows with SQL the way osquery's virtual tables do.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import osqtest as oq  # noqa: E402
from osqtest import vh  # noqa: E402

SH = os.path.realpath("/bin/sh")
TRUE = os.path.realpath("/bin/true")
CAT = os.path.realpath("/bin/cat")

# sys_enter_openat's field 6 is the file name (Tetragon's tracepoint argument index)
POLICY = """\
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "osq-opens"
spec:
  tracepoints:
  - subsystem: "syscalls"
    event: "sys_enter_openat"
    args:
    - index: 6
      type: "string"
    selectors:
    - matchArgs:
      - index: 6
        operator: "Prefix"
        values: ["%s/"]
"""

TABLES = ["vigil_process_events", "vigil_socket_events", "vigil_file_events", "vigil_policy_events",
          "vigil_alerts", "vigil_policies", "vigil_delivery"]

# bpf_process_events' columns and types (osquery's last spec of it), which this table keeps
BPF_PROCESS_COLUMNS = [
    ("tid", "BIGINT"), ("pid", "BIGINT"), ("parent", "BIGINT"), ("uid", "BIGINT"), ("gid", "BIGINT"),
    ("cid", "INTEGER"), ("exit_code", "TEXT"), ("probe_error", "INTEGER"), ("syscall", "TEXT"),
    ("path", "TEXT"), ("cwd", "TEXT"), ("cmdline", "TEXT"), ("duration", "INTEGER"),
    ("json_cmdline", "TEXT"), ("ntime", "TEXT"), ("time", "BIGINT"), ("eid", "INTEGER")]
BPF_SOCKET_COLUMNS = [
    ("tid", "BIGINT"), ("pid", "BIGINT"), ("parent", "BIGINT"), ("uid", "BIGINT"), ("gid", "BIGINT"),
    ("cid", "INTEGER"), ("exit_code", "TEXT"), ("probe_error", "INTEGER"), ("syscall", "TEXT"),
    ("path", "TEXT"), ("fd", "TEXT"), ("family", "INTEGER"), ("type", "INTEGER"), ("protocol", "INTEGER"),
    ("local_address", "TEXT"), ("remote_address", "TEXT"), ("local_port", "INTEGER"),
    ("remote_port", "INTEGER"), ("duration", "INTEGER"), ("ntime", "TEXT"), ("time", "BIGINT"),
    ("eid", "INTEGER")]


class ExtensionWithAgent(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        oq.require(root=True, thriftpy=True)
        cls.tmp = tempfile.mkdtemp(prefix="vigil-osq-")
        cls.em = os.path.join(cls.tmp, "osquery.em")
        cls.watched = os.path.join(cls.tmp, "watched")
        os.mkdir(cls.watched)
        cls.secret = os.path.join(cls.watched, "secret.txt")
        with open(cls.secret, "w") as f:
            f.write("osquery\n")
        policy = os.path.join(cls.tmp, "opens.yaml")
        with open(policy, "w") as f:
            f.write(POLICY % cls.watched)
        cls.agent = vh.Agent("--node-name", "osq-test", "--tracing-policy", policy, outputs=())
        cls.agent.__enter__()
        cls.ext = oq.Extension(cls.em, timeout=20, interval=1,
                               env={"VIGIL_BUS": cls.agent.bus, "VIGIL_CONTROL": cls.agent.control}).start()
        # osquery is not up yet: the extension must keep trying to register
        time.sleep(0.7)
        cls.alive_before_manager = cls.ext.proc.poll() is None
        cls.manager = oq.FakeManager(cls.em).start()
        if not cls.manager.registered.wait(15):
            raise AssertionError("no registration:\n" + cls.ext.log())
        cls.info, cls.registry, cls.status = cls.manager.last_success()
        cls.path = "%s.%d" % (cls.em, cls.status.uuid)
        oq.wait_path(cls.path)

        # real activity, after the extension subscribed
        cls.t0 = int(time.time())
        cls.sh = subprocess.Popen([SH, "-c", 'cd /tmp && exec %s vigil-osq "two words"' % TRUE])
        cls.sh.wait()
        cls.exit3 = subprocess.Popen([SH, "-c", "exit 3"])
        cls.exit3.wait()
        cls.cat = subprocess.Popen([CAT, cls.secret], stdout=subprocess.DEVNULL)
        cls.cat.wait()
        cls.rows = {}
        deadline = time.time() + 15
        while time.time() < deadline:
            mine = oq.generate(cls.path, "vigil_process_events", ("pid", oq.EQUALS, cls.sh.pid))
            other = oq.generate(cls.path, "vigil_process_events", ("pid", oq.EQUALS, cls.exit3.pid))
            cat = oq.generate(cls.path, "vigil_process_events", ("pid", oq.EQUALS, cls.cat.pid))
            if all(sum(r["syscall"] == "exit" for r in rows) for rows in (mine, other, cat)):
                cls.rows["sh"], cls.rows["exit3"] = mine, other
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the agent's events never reached the tables:\n" + cls.ext.log())

    @classmethod
    def tearDownClass(cls):
        ext = getattr(cls, "ext", None)
        rc = ext.stop() if ext else None
        if getattr(cls, "manager", None):
            cls.manager.stop()
        if getattr(cls, "agent", None):
            cls.agent.__exit__(None, None, None)
        shutil.rmtree(getattr(cls, "tmp", "/nonexistent"), ignore_errors=True)
        # SIGTERM after all the calls: a clean exit (leak-free under ASan)
        if rc not in (None, 0):
            raise AssertionError("vigil.ext exited %s:\n%s" % (rc, ext.log()))

    def routes(self, table):
        return self.registry["table"][table]

    def the_one(self, rows, pred, what):
        found = [r for r in rows if pred(r)]
        self.assertEqual(len(found), 1, "expected one %s in %s" % (what, rows))
        return found[0]

    # --- registration ---------------------------------------------------------------------

    def test_registration_is_retried_until_the_manager_is_up(self):
        self.assertTrue(self.alive_before_manager, self.ext.log())
        self.assertIn("registration not done yet", self.ext.log())

    def test_registration_names_the_extension_and_an_sdk_osquery_accepts(self):
        self.assertEqual(self.info.name, "vigil")
        self.assertTrue(oq.version_at_least(self.info.sdk_version, "1.7.7"), self.info.sdk_version)
        self.assertRegex(self.info.version, r"^\d+\.\d+\.\d+$")
        self.assertEqual(self.status.code, 0)

    def test_registration_carries_every_table_with_column_routes(self):
        self.assertEqual(set(self.registry), {"table"})
        self.assertEqual(sorted(self.registry["table"]), sorted(TABLES))
        for table, routes in self.registry["table"].items():
            cols = [r for r in routes if r.get("id") == "column"]
            self.assertTrue(cols, table)
            for r in cols:
                self.assertEqual(set(r), {"id", "name", "type", "op"}, r)
                self.assertIn(r["type"], oq.COLUMN_TYPES, r)
                self.assertRegex(r["op"], r"^\d+$")
            attrs = [r for r in routes if r.get("id") == "attributes"]
            self.assertEqual(attrs, [{"id": "attributes", "attributes": "0"}], table)

    def test_process_table_keeps_bpf_process_events_columns_and_types(self):
        cols = [(r["name"], r["type"]) for r in self.routes("vigil_process_events") if r["id"] == "column"]
        self.assertEqual(cols[:len(BPF_PROCESS_COLUMNS)], BPF_PROCESS_COLUMNS)
        self.assertTrue({"exec_id", "parent_exec_id", "binary", "container_id"} <= {c for c, _ in cols})
        hidden = {r["name"] for r in self.routes("vigil_process_events") if int(r.get("op", 0)) & 16}
        self.assertEqual(hidden, {"json_cmdline", "time", "eid"})

    def test_socket_table_keeps_bpf_socket_events_columns_and_types(self):
        cols = [(r["name"], r["type"]) for r in self.routes("vigil_socket_events") if r["id"] == "column"]
        self.assertEqual(cols[:len(BPF_SOCKET_COLUMNS)], BPF_SOCKET_COLUMNS)

    def test_routes_make_a_create_table_sqlite_accepts(self):
        for table in TABLES:
            oq.sql(self.routes(table), table, [], "SELECT count(*) FROM %s" % table)

    # --- columns and generate -------------------------------------------------------------

    def test_columns_answers_the_registered_routes(self):
        for table in TABLES:
            r = oq.call(self.path, table, "columns")
            self.assertEqual(r.status.code, 0, r.status.message)
            self.assertEqual(r.response, self.routes(table), table)

    def test_generate_answers_every_table(self):
        for table in TABLES:
            r = oq.call(self.path, table, "generate", oq.context())
            self.assertEqual(r.status.code, 0, "%s: %s" % (table, r.status.message))
            self.assertIsInstance(r.response, list)

    def test_exec_row_has_path_cmdline_cwd_and_identity(self):
        row = self.the_one(self.rows["sh"], lambda r: r["syscall"] == "exec" and r["path"] == TRUE, "exec of true")
        self.assertEqual(row["pid"], str(self.sh.pid))
        self.assertEqual(row["cwd"], "/tmp")
        self.assertEqual(row["cmdline"], '%s vigil-osq "two words"' % TRUE)
        self.assertEqual(row["json_cmdline"], '["%s","vigil-osq","two words"]' % TRUE)
        self.assertEqual(row["uid"], "0")
        self.assertEqual(row["gid"], "0")
        self.assertEqual(row["exit_code"], "0")
        self.assertEqual(row["probe_error"], "0")
        self.assertEqual(row["binary"], TRUE)
        self.assertEqual(row["parent"], str(os.getpid()))
        self.assertTrue(row["exec_id"] and row["parent_exec_id"])
        self.assertGreaterEqual(int(row["time"]), self.t0 - 1)
        self.assertLessEqual(int(row["time"]), int(time.time()) + 1)
        self.assertGreater(int(row["ntime"]), 0)
        self.assertNotIn("cid", row)            # the event has no cgroup id: NULL, not a guess
        self.assertNotIn("duration", row)

    def test_exec_of_shell_and_true_chain_by_exec_id(self):
        sh = self.the_one(self.rows["sh"], lambda r: r["syscall"] == "exec" and r["path"] == SH, "exec of sh")
        true = self.the_one(self.rows["sh"], lambda r: r["syscall"] == "exec" and r["path"] == TRUE, "exec of true")
        self.assertEqual(true["parent_exec_id"], sh["parent_exec_id"])  # exec keeps the parent
        self.assertNotEqual(true["exec_id"], sh["exec_id"])

    def test_exit_row_reports_the_exit_code(self):
        row = self.the_one(self.rows["exit3"], lambda r: r["syscall"] == "exit", "exit of sh -c 'exit 3'")
        self.assertEqual(row["exit_code"], "3")
        self.assertEqual(row["signal"], "")
        self.assertEqual(row["path"], SH)

    def test_pid_constraint_returns_only_that_process(self):
        self.assertTrue(self.rows["sh"])
        self.assertEqual({r["pid"] for r in self.rows["sh"]}, {str(self.sh.pid)})
        everything = oq.generate(self.path, "vigil_process_events")
        self.assertGreater(len({r["pid"] for r in everything}), 1)

    def test_time_constraint_filters_rows(self):
        future = oq.generate(self.path, "vigil_process_events", ("time", oq.GT, int(time.time()) + 3600))
        self.assertEqual(future, [])
        since = oq.generate(self.path, "vigil_process_events", ("time", oq.GE, self.t0 - 1),
                            ("pid", oq.EQUALS, self.exit3.pid))
        self.assertEqual(sorted(r["syscall"] for r in since), ["exec", "exit"])

    def test_eids_increase_in_arrival_order(self):
        eids = [int(r["eid"]) for r in oq.generate(self.path, "vigil_process_events")]
        self.assertEqual(eids, sorted(eids))
        self.assertEqual(len(eids), len(set(eids)))

    def test_sql_over_generated_rows_finds_the_command(self):
        rows = oq.generate(self.path, "vigil_process_events", ("pid", oq.EQUALS, self.sh.pid))
        got = oq.sql(self.routes("vigil_process_events"), "vigil_process_events", rows,
                     "SELECT path, cwd FROM vigil_process_events WHERE pid = ? AND syscall = 'exec' "
                     "AND cmdline LIKE '% vigil-osq \"two words\"'", self.sh.pid)
        self.assertEqual(got, [(TRUE, "/tmp")])

    def test_policy_event_row_from_the_real_policy(self):
        import json
        rows = oq.generate(self.path, "vigil_policy_events", ("pid", oq.EQUALS, self.cat.pid))
        row = self.the_one(rows, lambda r: json.loads(r["args"]) == [{"string_arg": self.secret}], "open")
        self.assertEqual((row["event"], row["function"], row["policy"], row["action"], row["binary"]),
                         ("process_tracepoint", "syscalls/sys_enter_openat", "osq-opens", "KPROBE_ACTION_POST",
                          CAT))
        self.assertEqual(row["parent"], str(os.getpid()))
        # the policy matched nothing else: every row of the table is cat's open
        self.assertEqual([r["pid"] for r in oq.generate(self.path, "vigil_policy_events")], [str(self.cat.pid)])

    def test_file_event_row_from_the_real_policy(self):
        rows = oq.generate(self.path, "vigil_file_events", ("pid", oq.EQUALS, self.cat.pid))
        row = self.the_one(rows, lambda r: True, "file event of cat")
        self.assertEqual((row["file_path"], row["syscall"], row["path"], row["policy"], row["uid"]),
                         (self.secret, "syscalls/sys_enter_openat", CAT, "osq-opens", "0"))

    def test_policies_table_is_answered_live_from_the_agent(self):
        import json
        r = oq.call(self.path, "vigil_policies", "generate", oq.context())
        self.assertEqual(r.status.code, 0, r.status.message)
        self.assertEqual([(p["name"], p["state"], p["mode"]) for p in r.response],
                         [("osq-opens", "enabled", "enforce")])
        self.assertGreaterEqual(int(r.response[0]["events"]), 1)
        hooks = json.loads(r.response[0]["hooks"])
        self.assertEqual([h["attached"] for h in hooks], [True])
        self.assertIn("sys_enter_openat", hooks[0]["hook"])

    def test_tables_the_agent_feeds_nothing_yet_answer_empty(self):
        # no socket hook attaches on this kernel's mechanisms in this test, and no Lua rule
        # runs: tables answer empty, not an error
        for table in ("vigil_socket_events", "vigil_alerts"):
            r = oq.call(self.path, table, "generate", oq.context())
            self.assertEqual((r.status.code, r.response), (0, []), table)

    # --- errors answered, not dropped -----------------------------------------------------

    def test_unknown_table_registry_and_action_fail_with_code_1(self):
        r = oq.call(self.path, "no_such_table", "generate", oq.context())
        self.assertEqual((r.status.code, r.status.message), (1, "Unknown table: no_such_table"))
        r = oq.call(self.path, "vigil_process_events", "generate", oq.context(), registry="config")
        self.assertEqual((r.status.code, r.status.message), (1, "Unknown registry: config"))
        r = oq.call(self.path, "vigil_process_events", "insert")
        self.assertEqual((r.status.code, r.status.message), (1, "Unknown table plugin action: insert"))

    def test_malformed_context_answers_every_row(self):
        r = oq.call(self.path, "vigil_process_events", "generate", '{"constraints": [ nope')
        self.assertEqual(r.status.code, 0)
        # other processes of this machine keep adding rows: check inclusion, not a count
        for row in self.rows["sh"] + self.rows["exit3"]:
            self.assertIn(row, r.response)
        self.assertGreater(len({row["pid"] for row in r.response}), 2)

    # --- ping, concurrency, a second Thrift implementation -------------------------------------

    def test_ping_answers_pong_with_our_uuid(self):
        with oq.Client(self.path) as c:
            st = c.ping()
        self.assertEqual((st.code, st.message, st.uuid), (0, "pong", self.status.uuid))

    def test_one_connection_serves_several_calls(self):
        with oq.Client(self.path) as c:
            self.assertEqual(c.ping().code, 0)
            self.assertEqual(c.call("table", "vigil_alerts", {"action": "columns"}).status.code, 0)
            self.assertEqual(c.ping().code, 0)

    def test_concurrent_callers_are_served_while_one_connection_idles(self):
        idle = oq.Client(self.path)     # connected, sends nothing
        errors, results = [], []

        def worker():
            try:
                for _ in range(5):
                    rows = oq.generate(self.path, "vigil_process_events", ("pid", oq.EQUALS, self.sh.pid))
                    results.append(len(rows))
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        threads = [threading.Thread(target=worker) for _ in range(16)]
        start = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        idle.__exit__(None, None, None)
        self.assertEqual(errors, [])
        self.assertEqual(results, [len(self.rows["sh"])] * 80)
        self.assertLess(time.time() - start, 20)

    def test_thriftpy_client_sees_the_same_rows(self):
        import thriftpy
        from thriftpy.rpc import make_client
        mod = thriftpy.load(oq.IDL, module_name="osquery_thrift")
        client = make_client(mod.Extension, unix_socket=self.path, timeout=10000)
        try:
            st = client.ping()
            self.assertEqual((st.code, st.message, st.uuid), (0, "pong", self.status.uuid))
            r = client.call("table", "vigil_process_events",
                            {"action": "generate", "context": oq.context(("pid", oq.EQUALS, self.sh.pid))})
        finally:
            client.close()
        self.assertEqual(r.status.code, 0)
        self.assertEqual(r.response, self.rows["sh"])
        with oq.Client(self.path) as c:
            cols = c.call("table", "vigil_socket_events", {"action": "columns"}).response
        client = make_client(mod.Extension, unix_socket=self.path, timeout=10000)
        try:
            self.assertEqual(client.call("table", "vigil_socket_events", {"action": "columns"}).response, cols)
        finally:
            client.close()

    def test_the_extension_stays_while_the_manager_knows_its_uuid(self):
        # the watcher runs every --interval (1 s): the extension is still registered
        time.sleep(1.5)
        self.assertIn(self.status.uuid, self.manager.extensions())
        self.assertIsNone(self.ext.proc.poll(), self.ext.log())


if __name__ == "__main__":
    oq.vh.main()
