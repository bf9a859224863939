"""Plugins lane: what each vigil.ext table makes of Tetragon-format events, and how its
buffer is bounded.

The agent on this machine cannot make every event the tables take: socket hooks need
kprobes (absent here), and alerts need the Lua host (not in the agent yet). So a
stand-in (osq_fake_agent, built on libvigil's own publisher and control server) puts
on the bus what the policy engine and the Lua host publish — process_kprobe /
process_tracepoint / process_lsm with Tetragon's argument shapes, and process_alert —
and answers policy_list. The extension, its registration and every call are the real
ones; test_osquery_extension.py covers the same tables fed by a real agent.
"""
import base64
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import osqtest as oq  # noqa: E402


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".123456789Z"


def process(pid, binary="/usr/bin/curl", args="https://example.com", docker=None):
    p = {"exec_id": base64.b64encode(b"fake:%d:%d" % (pid * 1000, pid)).decode(), "pid": pid, "uid": 1000,
         "cwd": "/home/u", "binary": binary, "arguments": args, "flags": "execve clone",
         "start_time": rfc3339(time.time()), "auid": 1000,
         "parent_exec_id": base64.b64encode(b"fake:1:1").decode(), "tid": pid + 1,
         "process_credentials": {"uid": 1000, "gid": 1001, "euid": 1000, "egid": 1001}}
    if docker:
        p["docker"] = docker
    return p


def event(key, body, pid, t=None, **proc):
    body = dict(body)
    body["process"] = process(pid, **proc)
    body["parent"] = {"pid": 1, "exec_id": base64.b64encode(b"fake:1:1").decode(), "binary": "/sbin/init"}
    return {key: body, "node_name": "fake", "time": rfc3339(t if t is not None else time.time())}


def exec_event(pid, **proc):
    return event("process_exec", {}, pid, **proc)


class FakeAgent:
    """osq_fake_agent: a bus to publish on and a control socket with a canned reply."""

    def __init__(self, tmp, reply):
        import msgpack
        self.msgpack = msgpack
        self.bus = "ipc://" + os.path.join(tmp, "events.sock")
        self.control = "ipc://" + os.path.join(tmp, "control.sock")
        reply_path = os.path.join(tmp, "reply.msgpack")
        with open(reply_path, "wb") as f:
            f.write(msgpack.packb(reply))
        self.out_path = os.path.join(tmp, "fake_agent.out")
        self.out = open(self.out_path, "w+")
        self.proc = subprocess.Popen([oq.FAKE_AGENT, self.bus, self.control, reply_path], stdin=subprocess.PIPE,
                                     stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while "ready" not in self.output():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("fake agent did not start: " + self.output())
            time.sleep(0.02)

    def output(self):
        self.out.flush()
        with open(self.out_path) as f:
            return f.read()

    def send_raw(self, data):
        self.proc.stdin.write(struct.pack(">I", len(data)) + data)
        self.proc.stdin.flush()

    def send(self, ev):
        self.send_raw(self.msgpack.packb(ev))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.out.close()


def subscribed(agent, path, pid=999999):
    """Publish a probe exec until the extension shows it: the bus is connected from then on."""
    deadline = time.time() + 15
    while time.time() < deadline:
        agent.send(exec_event(pid))
        time.sleep(0.1)
        if oq.generate(path, "vigil_process_events", ("pid", oq.EQUALS, pid)):
            return
    raise AssertionError("the extension never received the fake agent's events")


POLICIES_REPLY = {"ok": True, "policies": [
    {"name": "connect-watch", "file": "/etc/vigil/policies/connect.yaml", "state": "enabled", "mode": "enforce",
     "events": 3, "hooks": [{"hook": "tcp_connect", "mechanism": "kprobe", "attached": True}]},
    {"name": "shadow", "file": "", "state": "disabled", "mode": "monitor", "events": 0, "hooks": []}]}


class Delivery(unittest.TestCase):
    """vigil_delivery: the bus subscription's gaps, from the stamps the agent puts on every
    message (vigil_seq, vigil_incarnation: the root map's last entries)."""

    @classmethod
    def setUpClass(cls):
        oq.require(msgpack=True, fake_agent=True)
        cls.tmp = tempfile.mkdtemp(prefix="vigil-osq-delivery-")
        cls.agent = FakeAgent(cls.tmp, POLICIES_REPLY)
        cls.manager, cls.ext, cls.uuid, cls.path = oq.start_registered(
            cls.tmp, env={"VIGIL_BUS": cls.agent.bus, "VIGIL_CONTROL": cls.agent.control})
        subscribed(cls.agent, cls.path)

    @classmethod
    def tearDownClass(cls):
        for what in ("ext", "manager", "agent"):
            obj = getattr(cls, what, None)
            if obj:
                obj.stop()
        shutil.rmtree(getattr(cls, "tmp", "/nonexistent"), ignore_errors=True)

    def stamped(self, pid, seq, inc):
        ev = exec_event(pid)
        ev["vigil_seq"] = seq
        ev["vigil_incarnation"] = inc
        self.agent.send(ev)

    def row(self):
        rows = oq.generate(self.path, "vigil_delivery")
        self.assertEqual(len(rows), 1)
        return rows[0]

    def test_holes_and_restarts_in_the_stamps_show_in_vigil_delivery(self):
        before = self.row()
        self.assertEqual((before["missed"], before["gaps"], before["subscribed"]), ("0", "0", "1"))
        inc = 0x1234abcd
        # seq 10, 11, then 15: 12..14 never came; then a restarted agent from 1
        for pid, seq in ((7001, 10), (7002, 11), (7003, 15)):
            self.stamped(pid, seq, inc)
        self.stamped(7004, 1, inc + 1)
        self.stamped(7005, 2, inc + 1)
        deadline = time.time() + 10
        while time.time() < deadline and not oq.generate(self.path, "vigil_process_events",
                                                         ("pid", oq.EQUALS, 7005)):
            time.sleep(0.1)
        r = self.row()
        self.assertEqual((r["missed"], r["gaps"], r["restarts"]), ("3", "1", "1"))
        self.assertEqual((r["last_gap_first"], r["last_gap_last"]), ("12", "14"))
        self.assertEqual(r["incarnation"], "%016x" % (inc + 1))
        self.assertEqual((r["first_seq"], r["last_seq"]), ("1", "2"))
        self.assertEqual(int(r["received"]) - int(before["received"]), 5)
        self.assertEqual(r["bus"], self.agent.bus)
        # the stamps stay out of the rows: the event tables see Tetragon's tree
        row = oq.generate(self.path, "vigil_process_events", ("pid", oq.EQUALS, 7003))[0]
        self.assertNotIn("vigil_seq", row.get("json", "") + str(row))
        # and the gap was logged
        self.assertIn("missed 3 events (seq 12..14 of agent incarnation %016x)" % inc, self.ext.log())


class TablesFromPolicyEvents(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        oq.require(msgpack=True, fake_agent=True)
        cls.tmp = tempfile.mkdtemp(prefix="vigil-osq-tables-")
        cls.agent = FakeAgent(cls.tmp, POLICIES_REPLY)
        cls.manager, cls.ext, cls.uuid, cls.path = oq.start_registered(
            cls.tmp, env={"VIGIL_BUS": cls.agent.bus, "VIGIL_CONTROL": cls.agent.control})
        subscribed(cls.agent, cls.path)
        cls.t = int(time.time())
        a = cls.agent
        a.send(event("process_kprobe", {
            "function_name": "tcp_connect",
            "args": [{"sock_arg": {"family": "AF_INET", "type": "SOCK_STREAM", "protocol": "IPPROTO_TCP",
                                   "saddr": "10.0.0.5", "daddr": "93.184.216.34", "sport": 41234, "dport": 443,
                                   "cookie": "18446", "state": "TCP_SYN_SENT"}}],
            "return": {"int_arg": 0}, "action": "KPROBE_ACTION_POST", "policy_name": "connect-watch",
            "tags": ["network"]}, 4242, docker="c0ffee"))
        a.send(event("process_kprobe", {
            "function_name": "__sys_bind", "args": [{"int_arg": 3},
                                                    {"sockaddr_arg": {"family": "AF_INET6", "addr": "2001:db8::1",
                                                                      "port": 8443}}],
            "action": "KPROBE_ACTION_POST", "policy_name": "bind-watch"}, 4243))
        a.send_raw(b"\xc1 not msgpack at all")
        a.send(event("process_kprobe", {
            "function_name": "security_file_open",
            "args": [{"file_arg": {"path": "/etc/shadow", "permission": "-rw-r-----", "flags": ""}}],
            "action": "KPROBE_ACTION_SIGKILL", "policy_name": "sensitive-files", "message": "shadow opened",
            "tags": ["T1003.008", "credentials"]}, 4244, binary="/usr/bin/cat", args="/etc/shadow"))
        a.send(event("process_tracepoint", {
            "subsys": "syscalls", "event": "sys_enter_openat",
            "args": [{"int_arg": -100}, {"string_arg": "/etc/passwd"}, {"int_arg": 0}],
            "action": "KPROBE_ACTION_POST", "policy_name": "etc-opens"}, 4245, binary="/usr/bin/head"))
        a.send(event("process_lsm", {
            "function_name": "bprm_check_security",
            "args": [{"linux_binprm_arg": {"path": "/tmp/xmrig", "permission": "-rwxr-xr-x"}}],
            "action": "KPROBE_ACTION_OVERRIDE", "policy_name": "block-cryptominers"}, 4246, binary="/bin/bash"))
        a.send(event("process_alert", {
            "rule": "shell-then-connect", "priority": "critical", "output": "bash connected to 93.184.216.34:443",
            "tags": ["T1059"], "exec_ids": ["YQ==", "Yg=="]}, 4247, binary="/bin/bash"))
        a.send(exec_event(4248))     # the last one: when it shows, all before it arrived
        deadline = time.time() + 10
        while not oq.generate(cls.path, "vigil_process_events", ("pid", oq.EQUALS, 4248)):
            if time.time() > deadline:
                raise AssertionError("events did not arrive:\n" + cls.ext.log())
            time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        rc = cls.ext.stop() if getattr(cls, "ext", None) else None
        for what in ("manager", "agent"):
            obj = getattr(cls, what, None)
            if obj:
                obj.stop()
        shutil.rmtree(getattr(cls, "tmp", "/nonexistent"), ignore_errors=True)
        if rc not in (None, 0):
            raise AssertionError("vigil.ext exited %s" % rc)

    def only(self, table, pid):
        rows = oq.generate(self.path, table, ("pid", oq.EQUALS, pid))
        self.assertEqual(len(rows), 1, rows)
        return rows[0]

    def test_socket_row_from_sock_arg_has_bpf_socket_events_numbers(self):
        r = self.only("vigil_socket_events", 4242)
        self.assertEqual({k: r[k] for k in ("syscall", "family", "type", "protocol", "local_address", "local_port",
                                             "remote_address", "remote_port", "exit_code", "path", "policy",
                                             "action", "container_id", "uid", "gid", "tid", "parent")},
                         {"syscall": "tcp_connect", "family": "2", "type": "1", "protocol": "6",
                          "local_address": "10.0.0.5", "local_port": "41234", "remote_address": "93.184.216.34",
                          "remote_port": "443", "exit_code": "0", "path": "/usr/bin/curl",
                          "policy": "connect-watch", "action": "KPROBE_ACTION_POST", "container_id": "c0ffee",
                          "uid": "1000", "gid": "1001", "tid": "4243", "parent": "1"})
        self.assertEqual(r["time"], str(self.only("vigil_policy_events", 4242)["time"]))

    def test_socket_row_from_sockaddr_of_a_bind_is_the_local_end(self):
        r = self.only("vigil_socket_events", 4243)
        self.assertEqual((r["family"], r["local_address"], r["local_port"], r["syscall"]),
                         ("10", "2001:db8::1", "8443", "__sys_bind"))
        self.assertNotIn("remote_address", r)

    def test_file_row_from_file_arg(self):
        r = self.only("vigil_file_events", 4244)
        self.assertEqual({k: r[k] for k in ("file_path", "permission", "flags", "syscall", "path", "policy",
                                             "action")},
                         {"file_path": "/etc/shadow", "permission": "-rw-r-----", "flags": "",
                          "syscall": "security_file_open", "path": "/usr/bin/cat", "policy": "sensitive-files",
                          "action": "KPROBE_ACTION_SIGKILL"})

    def test_file_row_from_an_openat_tracepoint_string(self):
        r = self.only("vigil_file_events", 4245)
        self.assertEqual((r["file_path"], r["syscall"], r["path"]),
                         ("/etc/passwd", "syscalls/sys_enter_openat", "/usr/bin/head"))

    def test_file_row_from_an_lsm_binprm(self):
        r = self.only("vigil_file_events", 4246)
        self.assertEqual((r["file_path"], r["syscall"], r["action"]),
                         ("/tmp/xmrig", "bprm_check_security", "KPROBE_ACTION_OVERRIDE"))

    def test_policy_rows_carry_policy_action_function_and_args_as_json(self):
        import json
        r = self.only("vigil_policy_events", 4244)
        self.assertEqual((r["event"], r["policy"], r["action"], r["function"], r["message"], r["binary"]),
                         ("process_kprobe", "sensitive-files", "KPROBE_ACTION_SIGKILL", "security_file_open",
                          "shadow opened", "/usr/bin/cat"))
        self.assertEqual(json.loads(r["args"]),
                         [{"file_arg": {"path": "/etc/shadow", "permission": "-rw-r-----", "flags": ""}}])
        self.assertEqual(json.loads(r["tags"]), ["T1003.008", "credentials"])
        self.assertGreaterEqual(int(r["time"]), self.t - 1)
        tp = self.only("vigil_policy_events", 4245)
        self.assertEqual((tp["event"], tp["function"]), ("process_tracepoint", "syscalls/sys_enter_openat"))
        self.assertEqual(self.only("vigil_policy_events", 4246)["event"], "process_lsm")
        self.assertEqual(self.only("vigil_policy_events", 4242)["return_value"], "0")

    def test_every_policy_event_and_nothing_else_is_a_policy_row(self):
        pids = sorted(int(r["pid"]) for r in oq.generate(self.path, "vigil_policy_events"))
        self.assertEqual(pids, [4242, 4243, 4244, 4245, 4246])

    def test_alert_row(self):
        import json
        r = self.only("vigil_alerts", 4247)
        self.assertEqual((r["rule"], r["priority"], r["output"], r["binary"]),
                         ("shell-then-connect", "critical", "bash connected to 93.184.216.34:443", "/bin/bash"))
        self.assertEqual(json.loads(r["tags"]), ["T1059"])
        self.assertEqual(json.loads(r["exec_ids"]), ["YQ==", "Yg=="])
        self.assertEqual(json.loads(r["alert"])["rule"], "shell-then-connect")
        self.assertEqual(len(oq.generate(self.path, "vigil_alerts")), 1)

    def test_a_malformed_bus_message_is_dropped_and_the_feed_goes_on(self):
        self.assertEqual(len(oq.generate(self.path, "vigil_process_events", ("pid", oq.EQUALS, 4248))), 1)
        self.assertIsNone(self.ext.proc.poll())

    def test_policies_come_live_from_the_agent(self):
        import json
        rows = oq.generate(self.path, "vigil_policies")
        self.assertIn('control: {"cmd":"policy_list"}', self.agent.output())
        self.assertEqual([(r["name"], r["file"], r["state"], r["mode"], r["events"]) for r in rows],
                         [("connect-watch", "/etc/vigil/policies/connect.yaml", "enabled", "enforce", "3"),
                          ("shadow", "", "disabled", "monitor", "0")])
        self.assertEqual(json.loads(rows[0]["hooks"]),
                         [{"hook": "tcp_connect", "mechanism": "kprobe", "attached": True}])
        self.assertEqual(json.loads(rows[1]["json"])["name"], "shadow")


    def test_the_shipped_scheduled_queries_run_and_find_what_they_watch(self):
        import json
        conf = os.path.join(oq.HERE, "..", "..", "..", "integrations", "osquery", "osquery.conf")
        with open(conf) as f:
            schedule = json.load(f)["schedule"]
        routes = self.manager.last_success()[1]["table"]
        db = oq.database({t: (routes[t], oq.generate(self.path, t)) for t in routes})
        found = {name: db.execute(q["query"]).fetchall() for name, q in schedule.items()}
        self.assertEqual(len(found), 7)
        self.assertEqual([r[4] for r in found["vigil_outbound_connections"]], ["93.184.216.34"])
        self.assertEqual([r[3] for r in found["vigil_sensitive_files"]], ["/etc/shadow"])
        self.assertEqual(sorted(r[4] for r in found["vigil_enforcements"]),
                         ["KPROBE_ACTION_OVERRIDE", "KPROBE_ACTION_SIGKILL"])
        self.assertEqual([r[1] for r in found["vigil_alerts"]], ["shell-then-connect"])
        self.assertEqual([r[0] for r in found["vigil_policies"]], ["connect-watch", "shadow"])
        self.assertIn(4248, [r[1] for r in found["vigil_process_execs"]])


class PoliciesWithoutPolicyEngine(unittest.TestCase):
    def setUp(self):
        oq.require(msgpack=True, fake_agent=True)
        self.tmp = tempfile.mkdtemp(prefix="vigil-osq-pol-")
        self.objs = []

    def tearDown(self):
        for o in reversed(self.objs):
            o.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_an_error_reply_gives_an_empty_table(self):
        agent = FakeAgent(self.tmp, {"ok": False, "error": "Operation not supported"})
        self.objs.append(agent)
        manager, ext, _, path = oq.start_registered(self.tmp, env={"VIGIL_CONTROL": agent.control,
                                                                   "VIGIL_BUS": agent.bus})
        self.objs += [manager, ext]
        r = oq.call(path, "vigil_policies", "generate", oq.context())
        self.assertEqual((r.status.code, r.response), (0, []))
        self.assertIn('control: {"cmd":"policy_list"}', agent.output())

    def test_no_agent_gives_an_empty_table_in_bounded_time(self):
        nobody = "ipc://" + os.path.join(self.tmp, "nobody.sock")
        manager, ext, _, path = oq.start_registered(self.tmp, env={"VIGIL_CONTROL": nobody, "VIGIL_BUS": nobody})
        self.objs += [manager, ext]
        start = time.time()
        r = oq.call(path, "vigil_policies", "generate", oq.context())
        self.assertEqual((r.status.code, r.response), (0, []))
        self.assertLess(time.time() - start, 5)


class BoundedBuffers(unittest.TestCase):
    def setUp(self):
        oq.require(msgpack=True, fake_agent=True)
        self.tmp = tempfile.mkdtemp(prefix="vigil-osq-buf-")
        self.agent = FakeAgent(self.tmp, {"ok": True, "policies": []})
        self.objs = [self.agent]

    def tearDown(self):
        for o in reversed(self.objs):
            o.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, *args):
        manager, ext, _, path = oq.start_registered(self.tmp, *args, env={"VIGIL_BUS": self.agent.bus,
                                                                          "VIGIL_CONTROL": self.agent.control})
        self.objs += [manager, ext]
        subscribed(self.agent, path)
        return path

    def test_a_full_table_keeps_the_newest_rows(self):
        path = self.start("--max-events", "20")
        for i in range(50):
            self.agent.send(exec_event(100000 + i))
        deadline = time.time() + 10
        while not oq.generate(path, "vigil_process_events", ("pid", oq.EQUALS, 100049)):
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        rows = oq.generate(path, "vigil_process_events")
        self.assertEqual([int(r["pid"]) for r in rows], list(range(100030, 100050)))
        eids = [int(r["eid"]) for r in rows]
        self.assertEqual(eids, list(range(eids[0], eids[0] + 20)))

    def test_rows_expire(self):
        path = self.start("--expiry", "1")
        self.agent.send(exec_event(200000))
        deadline = time.time() + 5
        while not oq.generate(path, "vigil_process_events", ("pid", oq.EQUALS, 200000)):
            self.assertLess(time.time(), deadline)
            time.sleep(0.02)
        time.sleep(1.3)
        self.assertEqual(oq.generate(path, "vigil_process_events"), [])

    def test_time_constraint_selects_by_event_time(self):
        path = self.start()
        now = int(time.time())
        for i, t in enumerate((now - 300, now - 200, now - 100)):
            ev = exec_event(300000 + i)
            ev["time"] = rfc3339(t)
            self.agent.send(ev)
        deadline = time.time() + 5
        while not oq.generate(path, "vigil_process_events", ("pid", oq.EQUALS, 300002)):
            self.assertLess(time.time(), deadline)
            time.sleep(0.02)
        got = oq.generate(path, "vigil_process_events", ("time", oq.GT, now - 250), ("time", oq.LE, now - 100))
        self.assertEqual(sorted(int(r["pid"]) for r in got), [300001, 300002])


if __name__ == "__main__":
    oq.vh.main()
