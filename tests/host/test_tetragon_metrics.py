"""Host lane: alert rules written for Tetragon evaluate against vigild's /metrics.

/metrics is read with Prometheus's own Python text parser (Debian's python3-prometheus-client,
text_string_to_metric_families: a malformed line, a sample without its family, a bad value
raise). The four alert expressions of integrations/prometheus/tetragon-alerts.yaml are
evaluated over two scrapes taken around real activity: a burst of execs of one binary from
/tmp (exec-from-tmp, a shipped policy, fires for each) and getpgid() calls seen by a
raw_syscalls policy. A small evaluator covers the PromQL those rules use (sum [by], rate,
increase, one label matcher, a comparison); rate is the increase over the seconds between
the two scrapes, as Prometheus computes it from two samples.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(HERE, "..", ".."))
POLICIES = os.path.join(SOURCE, "rules", "policies")
ALERTS = os.path.join(SOURCE, "integrations", "prometheus", "tetragon-alerts.yaml")
MARKER = os.path.join(vh.PROGS, "marker")
BURST = 40
GETPGID = 121

SYSCALLS = """apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "tg-metrics-syscalls"
spec:
  tracepoints:
  - subsystem: raw_syscalls
    event: sys_enter
    args:
    - index: 4
      type: syscall64
    selectors:
    - matchArgs:
      - index: 4
        operator: Equal
        values: ["%d"]
""" % GETPGID


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        return time.monotonic(), r.read().decode()


def parse(text):
    """{(name, frozenset(labels)): value} through Prometheus's parser; families by name."""
    from prometheus_client.parser import text_string_to_metric_families
    samples, families = {}, {}
    for fam in text_string_to_metric_families(text):
        families[fam.name] = fam
        for s in fam.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, families


EXPR = re.compile(r'^sum(?: by \((?P<by>[\w, ]+)\) ?)?\((?P<fn>rate|increase)\((?P<metric>\w+)'
                  r'(?:\{(?P<lk>\w+)="(?P<lv>[^"]*)"\})?\[(?P<range>\d+)(?P<unit>[sm])\]\)\) '
                  r'(?P<op>>|<|==) (?P<num>[\d.]+)$')


def evaluate(expr, before, after):
    """The groups (tuples of label values) for which the alert expression holds."""
    m = EXPR.match(expr)
    if not m:
        raise ValueError("expression outside the evaluator's PromQL: " + expr)
    (t0, s0), (t1, s1) = before, after
    by = [b.strip() for b in (m["by"] or "").split(",") if b.strip()]
    groups = {}
    seen = False
    for (name, labels), v in s1.items():
        if name != m["metric"]:
            continue
        lab = dict(labels)
        if m["lk"] and lab.get(m["lk"]) != m["lv"]:
            continue
        seen = True
        for b in by:
            if b not in lab:
                raise ValueError("%s has no label %s" % (name, b))
        inc = v - s0.get((name, labels), 0.0)
        val = inc / (t1 - t0) if m["fn"] == "rate" else inc
        key = tuple(lab[b] for b in by)
        groups[key] = groups.get(key, 0.0) + val
    if not seen:
        raise ValueError("no series of " + m["metric"])
    num = float(m["num"])
    cmp = {">": lambda a: a > num, "<": lambda a: a < num, "==": lambda a: a == num}[m["op"]]
    return {k for k, v in groups.items() if cmp(v)}


@vh.require_root
class TetragonMetrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import yaml
        with open(ALERTS) as f:
            cls.rules = {r["alert"]: r["expr"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]}
        t = cls.tmp = tempfile.mkdtemp(prefix="vigil-tgm-")
        pol = os.path.join(t, "syscalls.yaml")
        with open(pol, "w") as f:
            f.write(SYSCALLS)
        stage = tempfile.mkdtemp(prefix="vigil-tgm-", dir="/tmp")
        os.chmod(stage, 0o755)
        cls.burst = os.path.join(stage, "vigil-tgm-burst")
        shutil.copy(MARKER, cls.burst)
        os.chmod(cls.burst, 0o755)
        port = vh.free_port()
        with vh.Agent("--tracing-policy-dir", POLICIES, "--tracing-policy", pol,
                      "--metrics-server", "127.0.0.1:%d" % port, outputs=()) as agent:
            time.sleep(0.5)
            cls.before = scrape(port)
            for i in range(BURST):
                subprocess.run([cls.burst, os.path.join(stage, "ran%d" % i)], check=True)
            subprocess.run([sys.executable, "-c", "import ctypes; l = ctypes.CDLL(None)\n"
                            "for _ in range(5): l.syscall(%d, 0)" % GETPGID], check=True)
            time.sleep(1.0)     # the reader publishes every poll; one scrape interval apart
            cls.after = scrape(port)
        shutil.rmtree(stage, ignore_errors=True)
        cls.s0, cls.f0 = parse(cls.before[1])
        cls.s1, cls.f1 = parse(cls.after[1])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def eval(self, alert):
        return evaluate(self.rules[alert], (self.before[0], self.s0), (self.after[0], self.s1))

    def test_the_text_parses_with_prometheus_parser_and_every_sample_has_its_family(self):
        names = {n for n, _ in self.s1}
        for fam in ("tetragon_events_total", "tetragon_policy_events_total", "tetragon_process_exec_total",
                    "tetragon_missed_events_total", "tetragon_bpf_missed_events_total", "tetragon_syscalls_total",
                    "tetragon_process_cache_size", "tetragon_tracingpolicy_loaded", "vigil_events_total"):
            self.assertIn(fam.replace("_total", ""), self.f1, fam)
        self.assertTrue(any(n.startswith("tetragon_overhead_program") for n in names))

    def test_tetragon_events_carry_tetragons_labels(self):
        for (name, labels), _ in self.s1.items():
            if name == "tetragon_events_total":
                self.assertEqual({k for k, _ in labels},
                                 {"binary", "namespace", "node_name", "pod", "type", "workload"})
            if name == "tetragon_policy_events_total":
                self.assertEqual({k for k, _ in labels},
                                 {"binary", "hook", "namespace", "node_name", "pod", "policy", "workload"})

    def test_exec_storm_fires_for_the_burst_binary_with_its_count(self):
        fired = self.eval("TetragonExecStorm")
        self.assertIn((self.burst,), fired)
        key = ("tetragon_process_exec_total", frozenset({"binary": self.burst, "namespace": "", "pod": "",
                                                         "workload": "", "node_name": self.node()}.items()))
        self.assertEqual(self.s1.get(key, 0) - self.s0.get(key, 0), BURST)

    def test_policy_firing_names_the_policies_that_matched(self):
        fired = self.eval("TetragonPolicyFiring")
        self.assertIn(("exec-from-tmp",), fired)
        self.assertIn(("tg-metrics-syscalls",), fired)
        self.assertNotIn(("kernel-module-load",), fired)

    def test_no_exec_events_does_not_fire_while_processes_start(self):
        self.assertEqual(self.eval("TetragonNoExecEvents"), set())

    def test_events_lost_evaluates_and_matches_the_kernels_count(self):
        lost = sum(v for (n, _), v in self.s1.items() if n == "tetragon_missed_events_total")
        vigil = sum(v for (n, _), v in self.s1.items() if n == "vigil_bpf_missed_events_total")
        self.assertEqual(lost, vigil)
        lost_before = sum(v for (n, _), v in self.s0.items() if n == "tetragon_missed_events_total")
        self.assertEqual(self.eval("TetragonEventsLost"), {()} if lost > lost_before else set())

    def test_syscalls_total_counts_getpgid_by_name(self):
        got = sum(v for (n, labels), v in self.s1.items()
                  if n == "tetragon_syscalls_total" and dict(labels).get("syscall") == "getpgid")
        self.assertGreaterEqual(got, 5)

    def test_msg_op_counts_the_burst_execs_as_op_5(self):
        key = ("tetragon_msg_op_total", frozenset({"msg_op": "5"}.items()))
        self.assertGreaterEqual(self.s1[key] - self.s0.get(key, 0), BURST)
        execs = sum(v for (n, labels), v in self.s1.items()
                    if n == "tetragon_events_total" and dict(labels)["type"] == "PROCESS_EXEC")
        self.assertEqual(self.s1[key], execs)   # the /proc scan's execs included, as Tetragon's
        exits = ("tetragon_msg_op_total", frozenset({"msg_op": "7"}.items()))
        self.assertGreaterEqual(self.s1[exits] - self.s0.get(exits, 0), BURST)

    def test_execve_map_entries_within_its_capacity(self):
        lab = frozenset({"map": "execve_map"}.items())
        entries, cap = self.s1[("tetragon_map_entries", lab)], self.s1[("tetragon_map_capacity", lab)]
        # live processes the kernel saw exec (a quiet CI machine has a handful)
        self.assertGreaterEqual(entries, 1)
        self.assertGreaterEqual(cap, entries)
        self.assertEqual(cap, 32768)             # vg_execs' size, Tetragon's --execve-map-entries default
        self.assertIn(("tetragon_map_errors_update_total", lab), self.s1)

    def test_the_evaluator_refuses_a_label_the_family_lacks(self):
        with self.assertRaises(ValueError):
            evaluate("sum by (container) (rate(tetragon_events_total[5m])) > 0",
                     (self.before[0], self.s0), (self.after[0], self.s1))

    def node(self):
        for (n, labels), _ in self.s1.items():
            if n == "tetragon_events_total":
                return dict(labels)["node_name"]
        return ""


if __name__ == "__main__":
    vh.main()
