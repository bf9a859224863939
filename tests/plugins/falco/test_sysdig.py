"""Plugins lane: the legacy (API 0.3.0) Falco plugin inside Debian's real sysdig 0.29.3.

A real vigild runs on the kernel with a private bus; `vigil getevents` records the ground
truth from the same bus; several sysdig processes load libvigil_falco_legacy.so as their
only input (`-H <so>:<config> -I <so>`, no kernel driver) while real programs run. The
assertions compare what sysdig printed (-p fields, a filter on vigil fields, -j JSON) with
what the agent published. The agent runs the shipped monitor-sensitive-files policy,
so `cat /etc/shadow` yields a real process_tracepoint event with a path argument for the
issue's filter (vigil.process.binary = /usr/bin/cat and vigil.arg.path startswith /etc). A
second part feeds synthetic process_kprobe events (socket and file arguments that no
shipped policy produces on this kernel) to the same filter and the kprobe fields.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "host"))
import vigilhost as vh  # noqa: E402

SYSDIG = shutil.which("sysdig")
LEGACY = os.environ.get("VIGIL_FALCO_LEGACY",
                        os.path.join(vh.BUILD, "plugins", "falco", "libvigil_falco_legacy.so"))
FEED = os.environ.get("VIGIL_FALCO_FEED", os.path.join(vh.BUILD, "tests", "plugins", "falco", "falco_feed"))
SOURCE = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
POLICY = os.path.join(SOURCE, "rules", "policies", "monitor-sensitive-files.yaml")
CAT = "/usr/bin/cat"
HEAD = "/usr/bin/head"
# libsinsp (0.29.3) ends a plugin field name in a -p format at the first space only: the
# separator must start with one
SEP = " |~| "


def require_sysdig(cls):
    """Without sysdig or the built plugin the lane cannot run: skip by hand, fail in CI."""
    missing = [what for what, ok in (("sysdig (apt-get install --no-install-recommends sysdig)", SYSDIG),
                                     ("the legacy plugin " + LEGACY, os.path.exists(LEGACY)),
                                     ("the feeder " + FEED, os.path.exists(FEED))) if not ok]
    if missing:
        if os.environ.get("CI"):
            raise RuntimeError("falco plugin lane cannot run in CI: missing " + ", ".join(missing))
        return unittest.skip("missing " + ", ".join(missing))(cls)
    return cls


def connections(sock_path):
    """Connected unix sockets bound to sock_path: the agent's side of each subscriber."""
    n = 0
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) >= 8 and parts[7] == sock_path and parts[5] == "03":
                n += 1
    return n


class Sysdig:
    """One sysdig reading the vigil plugin, its output unbuffered into a file."""

    def __init__(self, workdir, name, bus, args, config=None):
        self.path = os.path.join(workdir, name + ".out")
        self.errpath = os.path.join(workdir, name + ".err")
        cfg = config if config is not None else {"bus": bus, "timeout_ms": 20}
        # -H registers the plugin under the path string, so -I must repeat the same path
        self.cmd = [SYSDIG, "--unbuffered", "-H", LEGACY + ":" + json.dumps(cfg), "-I", LEGACY] + args
        self.out = open(self.path, "w")
        self.err = open(self.errpath, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self.out, stderr=self.err)

    def text(self):
        return read(self.path)

    def lines(self):
        return [line for line in self.text().splitlines() if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.err.close()
        return self.proc.returncode, read(self.errpath)


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def read(path):
    with open(path) as f:
        return f.read()


def run(*argv):
    p = subprocess.run(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p


def spawn(*argv):
    """Run argv to completion; return its pid."""
    p = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p.wait()
    return p.pid


# -p fields of the field check; SEP keeps arguments with spaces whole
FIELDS = ["vigil.event_type", "vigil.process.pid", "vigil.process.uid", "vigil.process.binary",
          "vigil.process.cwd", "vigil.process.exec_id", "vigil.process.flags", "vigil.parent.pid",
          "vigil.parent.binary", "vigil.parent.exec_id", "vigil.exit.status", "vigil.node_name",
          "vigil.process.arguments"]
FILTER = "vigil.process.binary = /usr/bin/cat and vigil.process.arguments startswith /etc"
ARG_FILTER = "vigil.process.binary = /usr/bin/cat and vigil.arg.path startswith /etc"


def arg_path(body):
    """vigil.arg.path as documented: the first file/path/binprm argument's path, or the first
    string argument that is an absolute path."""
    for a in body.get("args", []):
        kind, val = next(iter(a.items()))
        if kind in ("file_arg", "path_arg", "linux_binprm_arg") and val.get("path"):
            return val["path"]
        if kind == "string_arg" and val.startswith("/"):
            return val
    return None


@vh.require_root
@require_sysdig
class SysdigAgainstAgent(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.nonce = uuid.uuid4().hex[:10]
        cls.work = tempfile.mkdtemp(prefix="vigil-sysdig-")
        cls.addClassCleanup(shutil.rmtree, cls.work, True)     # runs even if setUpClass fails
        policies = os.path.join(cls.work, "policies")
        os.mkdir(policies)
        shutil.copy(POLICY, policies)
        with vh.Agent("--node-name", "sysdig-test", "--tracing-policy-dir", policies, outputs=("json",)) as agent:
            sock = agent.bus[len("ipc://"):]
            fmt = "*" + SEP.join("%" + f for f in FIELDS)      # '*': print lines with absent fields
            cls.fields = Sysdig(cls.work, "fields", agent.bus, ["-p", fmt])
            cls.filtered = Sysdig(cls.work, "filtered", agent.bus,
                                  ["-p", SEP.join(["%vigil.event_type", "%vigil.process.pid",
                                                   "%vigil.process.arguments"]), FILTER])
            cls.json = Sysdig(cls.work, "json", agent.bus,
                              ["-j", "-p", "*%evt.num %vigil.event_type %vigil.process.pid %vigil.process.binary "
                               "%vigil.process.arguments %vigil.exit.status %vigil.parent.pid %evt.plugininfo"])
            cls.argpath = Sysdig(cls.work, "argpath", agent.bus,
                                 ["-p", SEP.join(["%vigil.event_type", "%vigil.process.pid", "%vigil.arg.path",
                                                  "%vigil.function", "%vigil.policy", "%vigil.tags",
                                                  "%vigil.process.arguments"]), ARG_FILTER])
            sysdigs = (cls.fields, cls.filtered, cls.json, cls.argpath)
            try:
                # the getevents subscriber plus the four sysdigs
                wait_for(lambda: connections(sock) >= 5 or any(s.proc.poll() is not None for s in sysdigs),
                         20, "sysdig to subscribe")
                for s in sysdigs:
                    if s.proc.poll() is not None:
                        raise RuntimeError("sysdig exited early: %s" % (s.stop(),))
                time.sleep(0.3)
                # start marker: it opens /etc/shadow, so it passes both filters and every
                # sysdig proves its subscription by printing it
                cls.start_marker = "/etc/shadow vigil-start-" + cls.nonce
                for _ in range(100):
                    run(CAT, "/etc/shadow", "vigil-start-" + cls.nonce)
                    if all(cls.start_marker in s.text() for s in sysdigs):
                        break
                    time.sleep(0.1)
                else:
                    raise RuntimeError("sysdig never printed the start marker")
                cls.pids = {
                    "cat_etc": spawn(CAT, "/etc/hostname"),
                    "cat_proc": spawn(CAT, "/proc/version"),
                    "head_etc": spawn(HEAD, "-c1", "/etc/hostname"),
                    "cat_two": spawn(CAT, "/etc/os-release", "/etc/hostname"),
                    "cat_dashdash": spawn(CAT, "--", "/etc/hostname"),
                    "exit3": spawn(os.path.join(vh.PROGS, "exit_code"), "3"),
                    "cat_shadow": spawn(CAT, "/etc/shadow"),           # a policy event
                    "head_shadow": spawn(HEAD, "-c1", "/etc/shadow"),   # a policy event, not cat
                }
                cls.end_marker = "/etc/shadow vigil-end-" + cls.nonce
                run(CAT, "/etc/shadow", "vigil-end-" + cls.nonce)
                # one bus, in order: once the end marker's last event is out, all before it is
                wait_for(lambda: all(s.text().count(cls.end_marker) >= n for s, n in
                                     zip(sysdigs, (3, 3, 3, 1))), 20, "the end marker in every sysdig")
                time.sleep(0.3)
            finally:
                cls.results = {name: s.stop() for name, s in
                               (("fields", cls.fields), ("filtered", cls.filtered), ("json", cls.json),
                                ("argpath", cls.argpath))}
            cls.events = agent.events("json")
        cls.truth = cls.window(cls.events)

    @classmethod
    def window(cls, events):
        """The agent's events from the last start marker's exec (every sysdig was subscribed
        by then) to the end marker's exit."""
        def args(e):
            body = next(iter(e.values()))
            return body.get("process", {}).get("arguments", "") if isinstance(body, dict) else ""
        first = max(i for i, e in enumerate(events) if "process_exec" in e and args(e) == cls.start_marker)
        last = max(i for i, e in enumerate(events) if args(e) == cls.end_marker)
        return events[first:last + 1]

    @staticmethod
    def kind_and_body(e):
        kind = next(k for k in e if k.startswith("process_"))
        return kind, e[kind]

    def truth_for(self, pid, kind):
        found = [b for k, b in map(self.kind_and_body, self.truth) if k == kind and b["process"]["pid"] == pid]
        self.assertEqual(len(found), 1, "%s of pid %d in the agent's stream" % (kind, pid))
        return found[0]

    def test_sysdig_ran_the_plugin_without_errors(self):
        for name, (rc, err) in self.results.items():
            self.assertIn(rc, (0, None, -signal.SIGINT), "%s: sysdig rc %s: %s" % (name, rc, err))
            self.assertNotIn("error", err.lower(), name)

    def test_p_prints_the_fields_the_agent_published(self):
        rows = {}
        for line in self.fields.lines():
            cols = line.split(SEP)
            if len(cols) == len(FIELDS):
                rows.setdefault((cols[0], cols[1]), []).append(dict(zip(FIELDS, cols)))
        for name in ("cat_etc", "cat_two", "head_etc"):
            pid = self.pids[name]
            want = self.truth_for(pid, "process_exec")
            got = rows.get(("process_exec", str(pid)))
            self.assertIsNotNone(got, "sysdig did not print the exec of %s (pid %d)" % (name, pid))
            self.assertEqual(len(got), 1)
            got = got[0]
            p = want["process"]
            self.assertEqual(got["vigil.process.binary"], p["binary"])
            self.assertEqual(got["vigil.process.arguments"], p["arguments"])
            self.assertEqual(got["vigil.process.uid"], str(p["uid"]))
            self.assertEqual(got["vigil.process.cwd"], p["cwd"])
            self.assertEqual(got["vigil.process.exec_id"], p["exec_id"])
            self.assertEqual(got["vigil.process.flags"], p["flags"])
            self.assertEqual(got["vigil.parent.pid"], str(want["parent"]["pid"]))
            self.assertEqual(got["vigil.parent.binary"], want["parent"]["binary"])
            self.assertEqual(got["vigil.parent.exec_id"], want["parent"]["exec_id"])
            self.assertEqual(got["vigil.node_name"], "sysdig-test")
            self.assertEqual(got["vigil.exit.status"], "<NA>")     # an exec has no exit status
        self.assertEqual(rows[("process_exec", str(self.pids["cat_two"]))][0]["vigil.process.arguments"],
                         "/etc/os-release /etc/hostname")

    def test_p_prints_the_exit_status(self):
        pid = self.pids["exit3"]
        self.assertEqual(self.truth_for(pid, "process_exit").get("status"), 3)
        lines = [line.split(SEP) for line in self.fields.lines()]
        exits = [c for c in lines if len(c) == len(FIELDS) and c[0] == "process_exit" and c[1] == str(pid)]
        self.assertEqual(len(exits), 1)
        self.assertEqual(exits[0][FIELDS.index("vigil.exit.status")], "3")
        # status 0 is left out of the JSON; the field still says 0 on an exit
        zero = [c for c in lines if len(c) == len(FIELDS) and c[0] == "process_exit"
                and c[1] == str(self.pids["cat_etc"])]
        self.assertEqual(zero[0][FIELDS.index("vigil.exit.status")], "0")

    def test_arg_path_filter_selects_exactly_the_policy_events_of_cat(self):
        want = sorted((k, str(b["process"]["pid"]), arg_path(b)) for k, b in map(self.kind_and_body, self.truth)
                      if b.get("process", {}).get("binary") == CAT and (arg_path(b) or "").startswith("/etc"))
        rows = [line.split(SEP) for line in self.argpath.lines()]
        for r in rows:
            self.assertEqual(len(r), 7, r)
        first = max(i for i, r in enumerate(rows) if r[6] == self.start_marker)
        got = sorted((r[0], r[1], r[2]) for r in rows[first:])
        self.assertEqual(got, want)
        shadow = [r for r in rows if r[1] == str(self.pids["cat_shadow"])]
        self.assertEqual(len(shadow), 1, rows)
        self.assertEqual(shadow[0][:6], ["process_tracepoint", str(self.pids["cat_shadow"]), "/etc/shadow",
                                         "syscalls:sys_enter_openat", "monitor-sensitive-files",
                                         "MITRE:T1552,credential-access"])
        printed = {r[1] for r in rows}
        for name in ("head_shadow", "cat_etc", "cat_two"):
            self.assertNotIn(str(self.pids[name]), printed, name)
        # the head read of /etc/shadow did produce a policy event: only the filter dropped it
        self.assertTrue(any(k == "process_tracepoint" and b["process"]["pid"] == self.pids["head_shadow"]
                            for k, b in map(self.kind_and_body, self.truth)))

    def test_filter_on_binary_and_arguments_selects_exactly_the_matching_events(self):
        def matches(kind, body):
            p = body.get("process", {})
            return p.get("binary") == CAT and p.get("arguments", "").startswith("/etc")
        want = sorted((k, str(b["process"]["pid"]), b["process"].get("arguments", ""))
                      for k, b in map(self.kind_and_body, self.truth) if matches(k, b))
        got = []
        for line in self.filtered.lines():
            cols = line.split(SEP)
            self.assertEqual(len(cols), 3, line)
            got.append(tuple(cols))
        # compare from the last start marker on: earlier ones may precede a sysdig's subscription
        first = max(i for i, c in enumerate(got) if c[0] == "process_exec" and c[2] == self.start_marker)
        self.assertEqual(sorted(got[first:]), want)
        selected = {int(c[1]) for c in got}
        for name in ("cat_etc", "cat_two"):
            self.assertIn(self.pids[name], selected, name)
        for name in ("cat_proc", "head_etc", "cat_dashdash", "exit3"):
            self.assertNotIn(self.pids[name], selected, name)
        # exec and exit of each matching cat
        self.assertEqual(sum(1 for c in got if int(c[1]) == self.pids["cat_etc"]), 2)

    def test_json_output_carries_the_vigil_fields(self):
        rows = [json.loads(line) for line in self.json.lines()]
        for r in rows:
            self.assertIn("evt.num", r)
        by_pid = {}
        for r in rows:
            by_pid.setdefault(r.get("vigil.process.pid"), []).append(r)
        pid = self.pids["cat_etc"]
        evs = {r["vigil.event_type"]: r for r in by_pid[pid]}
        self.assertEqual(set(evs), {"process_exec", "process_exit"})
        ex = self.truth_for(pid, "process_exec")
        self.assertEqual(evs["process_exec"]["vigil.process.binary"], CAT)
        self.assertEqual(evs["process_exec"]["vigil.process.arguments"], "/etc/hostname")
        self.assertEqual(evs["process_exec"]["vigil.parent.pid"], ex["parent"]["pid"])
        self.assertEqual(evs["process_exit"]["vigil.exit.status"], 0)
        # plugin_event_to_string: tetra's compact line (the capability trailer after the pad)
        self.assertRegex(evs["process_exec"]["evt.plugininfo"],
                         r"^🚀 process sysdig-test /usr/bin/cat /etc/hostname( +🛑 CAP_SYS_ADMIN)?$")
        self.assertRegex(evs["process_exit"]["evt.plugininfo"], r"^💥 exit    sysdig-test /usr/bin/cat /etc/hostname 0")
        exit3 = [r for r in by_pid[self.pids["exit3"]] if r["vigil.event_type"] == "process_exit"]
        self.assertEqual(exit3[0]["vigil.exit.status"], 3)

    def test_every_agent_event_reached_the_unfiltered_sysdig(self):
        printed = {(c[0], c[1]) for c in (line.split(SEP) for line in self.fields.lines()) if len(c) == len(FIELDS)}
        missing = [(k, b["process"]["pid"]) for k, b in map(self.kind_and_body, self.truth)
                   if (k, str(b["process"]["pid"])) not in printed]
        self.assertEqual(missing, [])


RULES = os.path.join(SOURCE, "rules", "falco", "vigil_rules.yaml")


def rule_conditions(path):
    """Each rule's condition with macros and lists expanded as Falco does it (text
    substitution). The rules file keeps conditions and items on one line for this."""
    import re
    macros, lists, rules, item = {}, {}, {}, None
    with open(path) as f:
        for line in f:
            m = re.match(r"^- (rule|macro|list): (.+)$", line.rstrip())
            if m:
                item = (m.group(1), m.group(2).strip())
                continue
            m = re.match(r"^  (condition|items): (.+)$", line.rstrip())
            if not m or not item:
                continue
            kind, name = item
            if kind == "list":
                lists[name] = m.group(2).strip().strip("[]")
            elif kind == "macro":
                macros[name] = m.group(2).strip()
            else:
                rules[name] = m.group(2).strip()
    for name, cond in rules.items():
        for macro, body in macros.items():
            cond = re.sub(r"\b%s\b" % re.escape(macro), "(" + body + ")", cond)
        for lst, items in lists.items():
            cond = cond.replace("(" + lst + ")", "(" + items + ")")
        rules[name] = cond
    return rules


@require_sysdig
class SysdigSyntheticKprobe(unittest.TestCase):
    """vigil.arg.path and the kprobe fields in a real sysdig filter, on fed events."""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="vigil-sysdig-feed-")
        self.bus = "ipc://" + os.path.join(self.work, "events.sock")

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def feed(self, sysdig, *specs):
        feed = subprocess.run([FEED, "--bus", self.bus, "--subscribers", "1"] + list(specs),
                              capture_output=True, text=True, timeout=40)
        self.assertEqual(feed.returncode, 0, feed.stderr)
        self.assertIn("dropped 0", feed.stdout)

    def test_arg_path_filter_selects_exactly_the_matching_kprobe_events(self):
        s = Sysdig(self.work, "kprobe", self.bus,
                   ["-p", SEP.join(["%vigil.process.pid", "%vigil.arg.path", "%vigil.policy", "%vigil.function",
                                    "%vigil.tags", "%vigil.arg.daddr", "%vigil.arg.dport", "%vigil.args[0]",
                                    "%vigil.args[2]"]),
                    "vigil.process.binary = /usr/bin/cat and vigil.arg.path startswith /etc"])
        try:
            self.feed(s, "kprobe:1:/usr/bin/cat:/etc/shadow:10.1.2.3:443",
                      "kprobe:2:/usr/bin/cat:/tmp/x:10.1.2.3:443",
                      "kprobe:3:/usr/bin/curl:/etc/passwd:10.1.2.3:443",
                      "exec:4:/usr/bin/cat:/etc/hostname",
                      "kprobe:5:/usr/bin/cat:/etc/passwd:192.168.1.1:80",
                      "kprobe:6:/usr/bin/cat:/etcetera/end:10.0.0.9:22")
            wait_for(lambda: len(s.lines()) >= 3, 15, "sysdig to print the kprobe events")
        finally:
            rc, err = s.stop()
        rows = [line.split(SEP) for line in s.lines()]
        self.assertEqual([r[0] for r in rows], ["1", "5", "6"], err)
        self.assertEqual(rows[0][1:], ["/etc/shadow", "sensitive-files", "security_file_permission",
                                       "filesystem,mitre_credential_access", "10.1.2.3", "443",
                                       '{"path":"/etc/shadow","permission":"-rw-r-----"}', "-5"])
        self.assertEqual(rows[1][5:7], ["192.168.1.1", "80"])

    def test_shipped_falco_rule_conditions_compile_in_libsinsp(self):
        rules = rule_conditions(RULES)
        self.assertEqual(len(rules), 5, rules)
        running = {name: Sysdig(self.work, "rule%d" % i, self.bus, ["-q", cond])
                   for i, (name, cond) in enumerate(rules.items())}
        try:
            # a condition that does not compile stops sysdig at once
            time.sleep(2.0)
            alive = {name: s.proc.poll() is None for name, s in running.items()}
        finally:
            results = {name: s.stop() for name, s in running.items()}
        for name, ok in alive.items():
            self.assertTrue(ok, "%s: %s\n%s" % (name, rules[name], results[name][1]))

    def test_plugin_config_file_in_the_integration_format_loads(self):
        with open(os.path.join(SOURCE, "integrations", "falco", "sysdig-plugins.yaml")) as f:
            text = f.read()
        text = text.replace("/usr/lib/vigil/libvigil_falco_legacy.so", LEGACY)
        text = text.replace("ipc:///run/vigil/events.sock", self.bus)
        cfg = os.path.join(self.work, "plugins.yaml")
        with open(cfg, "w") as f:
            f.write(text)
        out = open(os.path.join(self.work, "cfg.out"), "w")
        p = subprocess.Popen([SYSDIG, "--unbuffered", "--plugin-config-file", cfg, "-p",
                              "%vigil.event_type %vigil.process.binary"], stdout=out, stderr=subprocess.PIPE)
        try:
            self.feed(None, "exec:4:/usr/bin/cat:/etc/hostname")
            wait_for(lambda: read(out.name).strip(), 15, "sysdig to print the fed event")
        finally:
            p.send_signal(signal.SIGINT)
            _, err = p.communicate(timeout=10)
            out.close()
        self.assertEqual(read(out.name).strip(), "process_exec /usr/bin/cat", err)

    def test_fields_are_listed_by_sysdig(self):
        out = subprocess.run([SYSDIG, "-H", LEGACY, "-l"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("vigil (plugin)", out.stdout)
        for f in ("vigil.process.binary", "vigil.arg.path", "vigil.args", "vigil.tags", "vigil.exit.status",
                  "vigil.alert.rule"):
            self.assertIn(f, out.stdout)

    def test_plugin_info_shows_id_source_and_schema(self):
        out = subprocess.run([SYSDIG, "-H", LEGACY, "-Il"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("Name: vigil", out.stdout)
        self.assertIn("Type: source plugin", out.stdout)
        self.assertRegex(out.stdout, r"ID: (999|1[0-9]{9}|2[01][0-9]{8})\b")
        self.assertIn('"batch_size"', out.stdout)

    def test_bad_config_stops_sysdig_with_the_reason(self):
        for cfg, says in (('{"batch_size":0}', "batch_size"), ('{"bogus":1}', "bogus"),
                          ('{"bus": ', "not a valid json")):
            out = subprocess.run([SYSDIG, "-H", LEGACY + ":" + cfg, "-I", LEGACY],
                                 capture_output=True, text=True, timeout=30)
            self.assertNotEqual(out.returncode, 0, cfg)
            self.assertIn(says, out.stderr + out.stdout, cfg)

    def test_quiet_bus_times_out_without_spinning(self):
        s = Sysdig(self.work, "idle", self.bus, ["-q"], config={"bus": self.bus, "timeout_ms": 50})
        try:
            time.sleep(2.0)
            with open("/proc/%d/stat" % s.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        finally:
            s.stop()
        # sysdig's own start-up takes some CPU; a spinning next_batch would take all 2 s
        self.assertLess(cpu, 1.0)


if __name__ == "__main__":
    vh.main()
