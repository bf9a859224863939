"""Host lane: the export file and the metrics of a real agent on this kernel.

- Rotation and gzip: the backups, decompressed, and the live file hold exactly the events
  that happened (count and bytes, compared with a bus subscriber's), none split.
- Filters (allow/deny lists, pid_set through the process cache, field filters, the rate
  limit with its rate_limit_info report) drop exactly what they should, in the file and in
  `vigil getevents --allow/--deny`.
- `curl /metrics` counts what was observed: events per type/binary/policy, policy events,
  enforcement, policy state, BPF program runs; the same numbers as `vigil status`.
- A ring buffer made tiny (--rb-size 4096) and an exec storm: the loss shows up in
  vigil_bpf_missed_events_total with exactly the number the kernel counted (its map, read
  with bpftool, and `vigil status` kernel_ringbuf_full).
"""
import gzip
import json
import os
import signal
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

TRUE = os.path.realpath("/bin/true")
SH = os.path.realpath("/bin/sh")
OPENER = os.path.realpath(os.path.join(vh.PROGS, "opener"))
EXEC_STORM = os.path.join(vh.BUILD, "tests", "bench", "exec_storm")


def markers(tmp, *names):
    """Copies of /bin/true under unique names: their events are ours alone."""
    paths = {}
    for n in names:
        p = os.path.join(tmp, "vigil-mark-" + n)
        shutil.copy(TRUE, p)
        os.chmod(p, 0o755)
        paths[n] = p
    return paths


def run_n(path, n):
    for _ in range(n):
        subprocess.run([path], check=True)


def export_lines(directory, base="events.json"):
    """Every line of the backups (in name order, gunzipped) then of the live file."""
    stem, ext = os.path.splitext(base)
    backups = sorted(f for f in os.listdir(directory) if f.startswith(stem + "-"))
    lines = []
    for f in backups + [base]:
        path = os.path.join(directory, f)
        opener = gzip.open if f.endswith(".gz") else open
        with opener(path, "rt") as fh:
            text = fh.read()
        assert text == "" or text.endswith("\n"), "%s ends inside a record" % f
        lines += text.splitlines()
    return backups, lines


def of(lines, key, binary):
    return [l for l in lines if json.loads(l).get(key, {}).get("process", {}).get("binary") == binary]



def scrape(port, path="/metrics"):
    r = subprocess.run(["curl", "-s", "-S", "-i", "--max-time", "10", "http://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, text=True, check=True)
    head, _, body = r.stdout.partition("\n\n")	# text mode turned CRLF into LF
    return head, body


def samples(body):
    """{(name, ((label, value), ...)): value} from exposition text (simple label values)."""
    out = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        name, _, labels = key.partition("{")
        pairs = []
        if labels:
            for item in labels.rstrip("}").split('",'):
                k, _, v = item.partition('="')
                pairs.append((k, v.rstrip('"')))
        out[(name, tuple(pairs))] = float(value)
    return out


def metric(s, name, **labels):
    for (n, pairs), v in s.items():
        if n == name and dict(pairs) == labels:
            return v
    return None


@vh.require_root
class ExportRotation(unittest.TestCase):
    """1 MB files, compressed, all backups kept: ~2000 marker events span several files."""
    N = 500

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-exp-")
        cls.out = os.path.join(cls.tmp, "out")
        os.mkdir(cls.out)
        cls.mark = markers(cls.tmp, "rot")["rot"]
        with vh.Agent("--export-file", os.path.join(cls.out, "events.json"), "--export-file-max-size-mb", "1",
                      "--export-file-max-backups", "0", "--export-file-compress") as agent:
            run_n(cls.mark, cls.N)
            agent.events("json", settle=1.0)
            with open(agent.subs["json"][2]) as fh:
                cls.bus = fh.read().splitlines()
            cls.rc = agent.stop()
            cls.log = agent.read_log()
        cls.backups, cls.lines = export_lines(cls.out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_agent_stops_cleanly_after_waiting_for_compression(self):
        self.assertEqual(self.rc, 0, self.log)	# under ASan: no leak, no error

    def test_rotated_into_several_gzip_backups(self):
        self.assertGreaterEqual(len(self.backups), 3, self.backups)
        for b in self.backups:
            self.assertRegex(b, r"^events-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.json\.gz$")
        self.assertFalse([f for f in os.listdir(self.out) if f.endswith(".tmp")])

    def test_every_line_is_one_whole_event(self):
        for line in self.lines:
            ev = json.loads(line)
            self.assertIn("node_name", ev)
            self.assertIn("time", ev)

    def test_backups_hold_exactly_the_marker_events_that_happened(self):
        execs = of(self.lines, "process_exec", self.mark)
        exits = of(self.lines, "process_exit", self.mark)
        self.assertEqual(len(execs), self.N)
        self.assertEqual(len(exits), self.N)
        self.assertEqual(len({json.loads(l)["process_exec"]["process"]["exec_id"] for l in execs}), self.N)

    def test_exported_bytes_equal_what_a_bus_subscriber_printed(self):
        def marker(line):
            ev = json.loads(line)
            return ev.get("process_exec", ev.get("process_exit", {})).get("process", {}).get("binary") == self.mark
        bus = [l for l in self.bus if marker(l)]
        mine = [l for l in self.lines if marker(l)]
        self.assertEqual(len(bus), 2 * self.N)
        self.assertEqual(mine, bus)


@vh.require_root
class ExportFilters(unittest.TestCase):
    """allow: marker a, or marker c below shell X (pid_set); deny: exits of a; field filters
    on execs. Marker b never matches; marker c below shell Y is not X's descendant."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-flt-")
        m = markers(cls.tmp, "a", "b", "c")
        cls.mark = m
        # two shells that wait, then run c twice (the last one exec'd in place by dash)
        script = "read x; %s; %s" % (m["c"], m["c"])
        cls.x = subprocess.Popen([SH, "-c", script], stdin=subprocess.PIPE)
        cls.y = subprocess.Popen([SH, "-c", script], stdin=subprocess.PIPE)
        cls.allow = ('{"binary_regex":["/vigil-mark-a$"]}\n'
                     '{"pid_set":[%d],"binary_regex":["/vigil-mark-c$"]}' % cls.x.pid)
        cls.deny = '{"event_set":["PROCESS_EXIT"],"binary_regex":["/vigil-mark-a$"]}'
        cls.fields = '{"fields":"process.binary,process.pid,process.arguments","event_set":["PROCESS_EXEC"]}'
        path = os.path.join(cls.tmp, "events.json")
        with vh.Agent("--export-file", path, "--export-allowlist", cls.allow, "--export-denylist", cls.deny,
                      "--field-filters", cls.fields) as agent:
            sub_path = os.path.join(agent.dir, "filtered.json")
            with open(sub_path, "w") as fh:
                sub = subprocess.Popen([vh.VIGIL, "getevents", "--bus", agent.bus, "--allow", cls.allow,
                                        "--deny", cls.deny, "--field-filters", cls.fields], stdout=fh)
                time.sleep(0.5)
                run_n(m["a"], 5)
                run_n(m["b"], 5)
                for sh in (cls.x, cls.y):
                    sh.stdin.write(b"go\n")
                    sh.stdin.close()
                    sh.wait()
                time.sleep(1.0)
                cls.status = agent.status()
                sub.terminate()
                sub.wait()
            with open(sub_path) as fh:
                cls.sub_lines = fh.read().splitlines()
            agent.stop()
        with open(path) as fh:
            cls.lines = fh.read().splitlines()
        cls.events = [json.loads(l) for l in cls.lines]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def binaries(self, key):
        return [e[key]["process"]["binary"] for e in self.events if key in e]

    def test_allow_list_keeps_marker_a_execs_and_deny_drops_its_exits(self):
        self.assertEqual(self.binaries("process_exec").count(self.mark["a"]), 5)
        self.assertEqual(self.binaries("process_exit").count(self.mark["a"]), 0)

    def test_what_no_filter_allows_is_not_exported(self):
        self.assertNotIn(self.mark["b"], self.binaries("process_exec") + self.binaries("process_exit"))
        others = set(self.binaries("process_exec") + self.binaries("process_exit")) - {self.mark["a"], self.mark["c"]}
        self.assertEqual(others, set())

    def test_pid_set_keeps_descendants_of_x_only(self):
        c_execs = [e["process_exec"]["process"]["pid"] for e in self.events
                   if e.get("process_exec", {}).get("process", {}).get("binary") == self.mark["c"]]
        self.assertEqual(len(c_execs), 2)
        self.assertNotIn(self.y.pid, c_execs)
        self.assertEqual(self.binaries("process_exit").count(self.mark["c"]), 2)

    def test_field_filters_cut_exec_events_to_the_named_fields(self):
        for e in self.events:
            if "process_exec" in e:
                self.assertEqual(list(e["process_exec"].keys()), ["process"])
                self.assertEqual(sorted(e["process_exec"]["process"].keys()), ["binary", "pid"] + (
                    ["arguments"] if "arguments" in e["process_exec"]["process"] else []))
            else:
                self.assertIn("parent", e["process_exit"])	# exits untouched

    def test_getevents_with_the_same_filters_prints_the_same_lines(self):
        self.assertEqual(self.sub_lines, self.lines)

    def test_status_counts_what_the_filters_dropped(self):
        c = self.status["counters"]
        self.assertEqual(c["export_written"], 5 + 2 + 2)
        self.assertGreaterEqual(c["export_filtered"], 5 + 10 + 4)


@vh.require_root
class ExportRateLimit(unittest.TestCase):
    """exec=5 a minute: of 20 marker execs 5 are written; 15 reported as dropped."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-rl-")
        cls.mark = markers(cls.tmp, "r")["r"]
        path = os.path.join(cls.tmp, "events.json")
        cls.port = vh.free_port()
        with vh.Agent("--export-file", path, "--export-rate-limit", "exec=5",
                      "--export-allowlist", '{"binary_regex":["/vigil-mark-r$"]}',
                      "--metrics-server", "127.0.0.1:%d" % cls.port) as agent:
            run_n(cls.mark, 20)
            time.sleep(0.5)
            cls.status = agent.status()
            cls.metrics = samples(scrape(cls.port)[1])
            agent.stop()
        with open(path) as fh:
            cls.events = [json.loads(l) for l in fh.read().splitlines()]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_only_the_burst_of_execs_is_written_and_exits_are_not_limited(self):
        self.assertEqual(len([e for e in self.events if "process_exec" in e]), 5)
        self.assertEqual(len([e for e in self.events if "process_exit" in e]), 20)

    def test_rate_limit_info_reports_exactly_the_dropped_events(self):
        infos = [e for e in self.events if "rate_limit_info" in e]
        self.assertGreaterEqual(len(infos), 1)
        self.assertEqual(sum(int(i["rate_limit_info"]["number_of_dropped_process_events"]) for i in infos), 15)
        self.assertEqual(set(infos[0].keys()), {"rate_limit_info", "node_name", "time"})

    def test_status_and_metrics_count_the_drops(self):
        self.assertEqual(self.status["counters"]["export_rate_limited"], 15)
        self.assertEqual(metric(self.metrics, "vigil_export_ratelimit_events_dropped_total", type="PROCESS_EXEC"), 15)


def policy_file(tmp, name, prefix, action=None):
    """An openat tracepoint policy for the opener helper: filename (field 6) with a prefix."""
    text = textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
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
                values: ["%s"]
              matchBinaries:
              - operator: "In"
                values: ["%s"]
        """) % (name, prefix, OPENER)
    if action:
        text += "      matchActions:\n      - action: %s\n" % action
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as fh:
        fh.write(text)
    return path


MARKER_RULE = textwrap.dedent("""\
    return {
      name = "metrics_marker",
      events = {"process_exec"},
      on_event = function(ev)
        if ev["process.binary"] == "%s" then alert{} end
      end,
    }
    """)


@vh.require_root
class Metrics(unittest.TestCase):
    """curl /metrics against what the subscriber saw and what `vigil status` says."""
    N = 7

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-met-")
        cls.mark = markers(cls.tmp, "m")["m"]
        cls.port = vh.free_port()
        post = policy_file(cls.tmp, "open-watch", "/etc/vigil-metrics-")
        kill = policy_file(cls.tmp, "open-kill", "/tmp/vigil-metrics-kill-", "Sigkill")
        rules = os.path.join(cls.tmp, "rules")
        os.mkdir(rules)
        with open(os.path.join(rules, "marker.lua"), "w") as fh:	# alerts on each marker exec
            fh.write(MARKER_RULE % cls.mark)
        with vh.Agent("--metrics-server", "127.0.0.1:%d" % cls.port, "--tracing-policy", post,
                      "--tracing-policy", kill, "--rules-dir", rules) as agent:
            cls.agent = agent
            run_n(cls.mark, cls.N)
            for _ in range(3):
                subprocess.run([OPENER, "/etc/vigil-metrics-none"], check=True)
            cls.killed = [subprocess.run([OPENER, "/tmp/vigil-metrics-kill-x"]).returncode for _ in range(2)]
            time.sleep(0.5)
            cls.head, body = scrape(cls.port)
            cls.m = samples(body)
            cls.head404, _ = scrape(cls.port, "/nope")
            cls.quiet = cls.quiescent(agent)
            cls.top = subprocess.run([vh.VIGIL, "top", "--once", "--control", agent.control, "-n", "50"],
                                     capture_output=True, text=True, timeout=30)
            subprocess.run([vh.VIGIL, "tracingpolicy", "disable", "open-watch", "--control", agent.control],
                           check=True, capture_output=True)
            cls.after_disable = samples(scrape(cls.port)[1])
            cls.bus = agent.events("json")
            cls.rc = agent.stop()
            cls.log = agent.read_log()

    @classmethod
    def quiescent(cls, agent):
        """One status reply carries the counters and every /metrics sample, rendered a few
        microseconds apart; asking (an exec itself) makes events, so retry until no record
        arrived between the two."""
        for _ in range(50):
            s = agent.status()
            m = s["metrics"]
            parsed = samples("\n".join("%s %s" % kv for kv in m.items()))
            # any counter a record moves (records, bus_sent, clone_records...): a record read
            # between the two renderings moves some and not others, so all must agree
            if (m["vigil_ringbuf_records_received_total"] == s["counters"]["records"]
                    and m["vigil_bus_sent_total"] == s["counters"]["bus_sent"]
                    and not cls.differing(s, parsed)[1]):
                return s, parsed
            time.sleep(0.1)
        raise AssertionError("the agent never stood still long enough to compare")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_agent_stops_cleanly_with_the_server_running(self):
        self.assertEqual(self.rc, 0, self.log)

    def test_served_as_prometheus_text_on_metrics_only(self):
        self.assertRegex(self.head, r"^HTTP/1\.[01] 200")
        self.assertIn("Content-Type: text/plain; version=0.0.4; charset=utf-8", self.head)
        self.assertRegex(self.head404, r"^HTTP/1\.[01] 404")

    def test_events_total_matches_the_events_the_subscriber_saw(self):
        execs = len(vh.find(self.bus, "process_exec", lambda e: e["process"].get("binary") == self.mark))
        exits = len(vh.find(self.bus, "process_exit", lambda e: e["process"].get("binary") == self.mark))
        self.assertEqual(execs, self.N)
        self.assertEqual(exits, self.N)
        self.assertEqual(metric(self.m, "vigil_events_total", type="PROCESS_EXEC", binary=self.mark, policy=""), execs)
        self.assertEqual(metric(self.m, "vigil_events_total", type="PROCESS_EXIT", binary=self.mark, policy=""), exits)

    def test_policy_events_carry_policy_hook_and_action(self):
        seen = vh.find(self.bus, "process_tracepoint", lambda e: e["policy_name"] == "open-watch")
        self.assertEqual(len(seen), 3)
        self.assertEqual(metric(self.m, "vigil_events_total", type="PROCESS_TRACEPOINT", binary=OPENER,
                                policy="open-watch"), 3)
        self.assertEqual(metric(self.m, "vigil_policy_events_total", policy="open-watch",
                                hook="tracepoint:syscalls/sys_enter_openat", action="KPROBE_ACTION_POST"), 3)

    def test_enforcement_counts_each_kill(self):
        self.assertEqual(self.killed, [-9, -9])
        self.assertEqual(metric(self.m, "vigil_enforcement_total", policy="open-kill", action="Sigkill",
                                mode="enforce"), 2)

    def test_policy_state_follows_enable_and_disable(self):
        self.assertEqual(metric(self.m, "vigil_policy_state", policy="open-watch", state="enabled"), 1)
        self.assertEqual(metric(self.m, "vigil_policy_state", policy="open-watch", state="disabled"), 0)
        self.assertEqual(metric(self.after_disable, "vigil_policy_state", policy="open-watch", state="disabled"), 1)
        self.assertEqual(metric(self.after_disable, "vigil_policy_state", policy="open-watch", state="enabled"), 0)

    def test_lua_rule_counters_come_from_the_rule_host(self):
        alerts = vh.find(self.bus, "process_alert", lambda e: True)
        self.assertEqual(metric(self.m, "vigil_lua_rule_alerts_total", rule="metrics_marker"), self.N)
        self.assertGreaterEqual(len(alerts), self.N)
        self.assertGreaterEqual(metric(self.m, "vigil_lua_rule_calls_total", rule="metrics_marker"), self.N)
        self.assertEqual(metric(self.m, "vigil_lua_rule_errors_total", rule="metrics_marker"), 0)
        self.assertGreater(metric(self.m, "vigil_lua_rule_seconds_total", rule="metrics_marker"), 0)

    def test_kernel_program_runs_are_counted_while_serving(self):
        runs = {dict(p)["prog"]: v for (n, p), v in self.m.items() if n == "vigil_bpf_prog_run_count_total"}
        execs = [v for k, v in runs.items() if k.endswith("_exec")]
        self.assertTrue(execs, runs)
        self.assertGreaterEqual(max(execs), self.N)
        secs = [v for (n, p), v in self.m.items() if n == "vigil_bpf_prog_run_seconds_total"]
        self.assertGreater(sum(secs), 0)

    def test_metrics_equal_status_counters_at_a_quiet_moment(self):
        s, m = self.quiet
        c = s["counters"]
        self.assertEqual(metric(m, "vigil_ringbuf_records_received_total"), c["records"])
        self.assertEqual(metric(m, "vigil_bus_sent_total"), c["bus_sent"])
        self.assertEqual(metric(m, "vigil_bus_dropped_total", subscriber="all"), c["bus_dropped"])
        self.assertEqual(metric(m, "vigil_process_cache_size"), c["pcache_size"])
        self.assertEqual(metric(m, "vigil_bpf_missed_events_total", reason="ringbuf_full"), c["kernel_ringbuf_full"])
        key = 'vigil_events_total{type="PROCESS_EXEC",binary="%s",policy=""}' % self.mark
        self.assertEqual(s["metrics"][key], self.N)

    # status keys served by a family of their own name (core/agent/status_metrics.c)
    SERVED = {"records", "bad_records", "policy_records_unknown_hook", "bus_sent", "bus_dropped", "bus_last_seq",
              "journal_written", "journal_dropped", "journal_evicted", "journal_bytes", "pcache_size",
              "pcache_evictions", "pcache_misses", "pcache_running", "pcache_evicted_exited",
              "pcache_evicted_running", "kernel_ringbuf_full", "kernel_execs_full", "kernel_path_read_errors",
              "kernel_args_read_errors", "kernel_signal_failed", "kernel_stack_no_room", "kernel_set_failed",
              "kernel_ima_hash_failed", "export_written", "export_filtered", "export_rate_limited",
              "export_rotations", "export_compressed", "export_errors"}

    @classmethod
    def differing(cls, s, m):
        """Status counters without a metric of their name, and those whose metric differs."""
        counters = dict(s["counters"], **{"rthooks_" + k: v for k, v in s["rthooks"].items()})
        missing, differ = [], []
        for key, value in sorted(counters.items()):
            if key in cls.SERVED or key.startswith(("events_degraded_", "events_dropped_", "canary_")):
                continue
            got = metric(m, "vigil_%s_total" % key)
            got = metric(m, "vigil_%s" % key) if got is None else got
            if got is None:
                missing.append(key)
            elif got != value and key != "kernel_execs_entries":	# every exec on the machine moves it
                differ.append((key, value, got))
        return missing, differ

    def test_every_status_counter_is_in_metrics_with_the_same_value(self):
        """control_tls_*, rthooks, export_cel_errors and the rest were in status only."""
        s, m = self.quiet
        missing, differ = self.differing(s, m)
        self.assertEqual(missing, [])
        self.assertEqual(differ, [])
        for name in ("vigil_control_tls_accepted_total", "vigil_control_tls_open", "vigil_rthooks_added_total",
                     "vigil_rthooks_capacity", "vigil_export_cel_errors_total"):
            self.assertIn(name, {n for n, _ in m}, name)
        self.assertEqual(metric(m, "vigil_rthooks_capacity"), 1024)

    def test_top_shows_the_marker_and_the_policy_with_their_totals(self):
        self.assertEqual(self.top.returncode, 0, self.top.stderr)
        rows = {l.split()[0]: l.split()[1:] for l in self.top.stdout.splitlines() if l.strip()}
        self.assertIn(self.mark, rows)
        # every event of the marker: exec, exit, and the rule's alert about it
        total = sum(v for (n, p), v in self.m.items() if n == "vigil_events_total" and dict(p)["binary"] == self.mark)
        self.assertEqual(total, 3 * self.N)
        self.assertEqual(float(rows[self.mark][1]), total)
        self.assertEqual(float(rows["open-watch"][1]), 3)


def kernel_ringbuf_full(agent_pid):
    """The kernel's own count: key 0 (VIGIL_KERR_RINGBUF_FULL) of the agent's vg_errors map."""
    mine = set()
    fdinfo = "/proc/%d/fdinfo" % agent_pid
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as fh:
                mine |= {int(l.split()[1]) for l in fh if l.startswith("map_id:")}
        except OSError:
            pass
    maps = json.loads(subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True,
                                     check=True).stdout)
    ids = [m["id"] for m in maps if m.get("name") == "vg_errors" and m["id"] in mine]
    assert len(ids) == 1, ids
    dump = json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "id", str(ids[0])], capture_output=True,
                                     text=True, check=True).stdout)
    for entry in dump:
        key = entry.get("key")
        k = int.from_bytes(bytes(int(b, 16) for b in key), "little") if isinstance(key, list) else key
        if k == 0:
            vals = entry.get("values", [])
            return sum(v["value"] if isinstance(v["value"], int)
                       else int.from_bytes(bytes(int(b, 16) for b in v["value"]), "little") for v in vals)
    raise AssertionError("no key 0 in vg_errors")


@vh.require_root
class RingbufOverflow(unittest.TestCase):
    """A 4 KiB ring buffer and a storm of execs: the kernel's loss, counted three ways."""

    @classmethod
    def setUpClass(cls):
        cls.port = vh.free_port()
        with vh.Agent("--rb-size", "4096", "--metrics-server", "127.0.0.1:%d" % cls.port, outputs=()) as agent:
            # the reader keeps up with a storm (time-bound wake-ups): stopped while the storm
            # runs, it leaves 4 KiB to overflow
            os.kill(agent.proc.pid, signal.SIGSTOP)
            try:
                if os.access(EXEC_STORM, os.X_OK):
                    subprocess.run([EXEC_STORM, "3000", TRUE], check=True, capture_output=True)
                else:	# the ASan build has no benchmarks
                    subprocess.run([SH, "-c", "i=0; while [ $i -lt 3000 ]; do %s; i=$((i+1)); done" % TRUE],
                                   check=True)
            finally:
                os.kill(agent.proc.pid, signal.SIGCONT)
            cls.readings = None
            for _ in range(100):
                s1 = agent.status()["counters"]["kernel_ringbuf_full"]
                m = metric(samples(scrape(cls.port)[1]), "vigil_bpf_missed_events_total", reason="ringbuf_full")
                k = kernel_ringbuf_full(agent.proc.pid)
                s2 = agent.status()["counters"]["kernel_ringbuf_full"]
                if s1 == s2 == k:
                    cls.readings = (s1, m, k)
                    break
                time.sleep(0.1)
            agent.stop()

    def test_the_storm_overflowed_the_ring_buffer(self):
        self.assertIsNotNone(self.readings, "kernel counter never stood still")
        self.assertGreater(self.readings[2], 0)

    def test_missed_events_metric_is_exactly_the_kernels_count(self):
        s, m, k = self.readings
        self.assertEqual(m, k)
        self.assertEqual(s, k)


if __name__ == "__main__":
    vh.main()
