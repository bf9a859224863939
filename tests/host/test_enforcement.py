"""Host lane: enforcement in the kernel with the shipped policies (rules/policies), on this
machine's kernel: Sigkill of an exec before the new image runs, Sigkill of a setns caller in
a new pid namespace, kernel lists extended at run time, monitor mode reporting what would
have happened, and the innocent neighbours of each left alone.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

POLICIES = os.path.join(os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                        "rules", "policies")
MARKER = os.path.join(vh.PROGS, "marker")
SETNS = os.path.join(vh.PROGS, "setns_self")


def run(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True).returncode


@vh.require_root
class Enforcement(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-enf-")
        t = cls.tmp
        cls.xmrig = "/tmp/xmrig"                       # named in block-cryptominers
        cls.innocent = os.path.join(t, "not-a-miner")  # same bytes, other name
        cls.denied_later = os.path.join(t, "denied-later")
        for path in (cls.xmrig, cls.innocent, cls.denied_later):
            shutil.copy(MARKER, path)
        cls.m = {k: os.path.join(t, k + ".marker") for k in ("xmrig", "innocent", "later1", "later2", "monitor")}
        # deny-outbound-cidr pointed at the loopback: all traffic of this test stays local
        local = os.path.join(t, "deny-local.yaml")
        with open(os.path.join(POLICIES, "deny-outbound-cidr.yaml")) as f:
            text = f.read().replace('"deny-outbound-cidr"', '"deny-outbound-local"')
        assert '["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"]' in text, "the shipped deny list changed: update this copy"
        with open(local, "w") as f:
            f.write(text.replace('["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"]',
                                 '["127.0.0.2/32"]'))
        # Signal: SIGUSR1 to whoever executes the "signalled" copy
        cls.signalled = os.path.join(t, "signalled")
        shutil.copy(MARKER, cls.signalled)
        sig_policy = os.path.join(t, "signal.yaml")
        with open(sig_policy, "w") as f:
            f.write(vh.exec_policy("signal-usr1", cls.signalled, "action: Signal\nargSig: 10"))
        with vh.Agent("--tracing-policy-dir", POLICIES, "--tracing-policy", local, "--tracing-policy", sig_policy,
                      outputs=("json",)) as agent:
            c = agent.control
            cls.policies = agent.status()["policies"]
            cls.rc_xmrig = run(cls.xmrig, cls.m["xmrig"])
            cls.rc_innocent = run(cls.innocent, cls.m["innocent"])
            cls.rc_signalled = run(cls.signalled, os.path.join(t, "signalled.marker"))
            cls.rc_setns_ns = run("unshare", "--pid", "--fork", "--kill-child", SETNS)
            cls.rc_setns_host = run(SETNS)
            cls.connect_enforced = vh.connect_errno(("127.0.0.2", 9))
            # a kernel list extended at run time: allowed before, killed after
            cls.rc_later1 = run(cls.denied_later, cls.m["later1"])
            cls.add_value = subprocess.run([vh.VIGIL, "tp", "add-value", "denied-binaries", cls.denied_later,
                                            "--control", c], capture_output=True, text=True)
            cls.rc_later2 = run(cls.denied_later, cls.m["later2"])
            # monitor mode: reported as would-be actions, not enforced
            cls.set_mode = subprocess.run([vh.VIGIL, "tp", "set-mode", "block-cryptominers", "monitor",
                                           "--control", c], capture_output=True, text=True)
            cls.rc_monitor = run(cls.xmrig, cls.m["monitor"])
            for name in ("detect-container-escape", "deny-outbound-local"):
                subprocess.run([vh.VIGIL, "tp", "set-mode", name, "monitor", "--control", c], check=True)
            cls.rc_setns_monitor = run("unshare", "--pid", "--fork", "--kill-child", SETNS)
            cls.connect_monitored = vh.connect_errno(("127.0.0.2", 9))
            cls.rc_shadow = run("cat", "/etc/shadow")
            cls.rc_hostname = run("cat", "/etc/hostname")
            cls.events = agent.events("json")
            cls.final = agent.status()
        cls.exists = {k: os.path.exists(v) for k, v in cls.m.items()}
        os.unlink(cls.xmrig)

    def policy_events(self, name):
        out = []
        for e in self.events:
            for key in ("process_kprobe", "process_tracepoint", "process_lsm"):
                if key in e and e[key]["policy_name"] == name:
                    out.append(e[key])
        return out

    def exits_of(self, binary):
        return [e["process_exit"] for e in self.events
                if "process_exit" in e and e["process_exit"]["process"].get("binary") == binary]

    def test_every_shipped_policy_loads(self):
        names = {p["name"] for p in self.policies}
        self.assertLessEqual({"block-cryptominers", "detect-container-escape", "detect-privilege-escalation",
                              "monitor-sensitive-files"}, names)
        for p in self.policies:
            for h in p["hooks"]:
                self.assertTrue(h["attached"] or h["note"].startswith("skipped:"), h)

    def test_cryptominer_is_killed_before_running_one_instruction(self):
        self.assertEqual(self.rc_xmrig, -9)
        self.assertFalse(self.exists["xmrig"], "the marker was written: the binary ran")

    def test_cryptominer_kill_is_an_event_followed_by_an_exit_with_sigkill(self):
        kills = [e for e in self.policy_events("block-cryptominers")
                 if e["action"] == "KPROBE_ACTION_SIGKILL" and not e.get("monitored")]
        self.assertEqual(len(kills), 2)  # /tmp/xmrig, then the binary added at run time
        self.assertEqual(kills[0]["args"][0]["linux_binprm_arg"]["path"], self.xmrig)
        exits = [x for x in self.exits_of(self.xmrig) if x.get("signal") == "SIGKILL"]
        self.assertEqual(len(exits), 1)
        self.assertEqual(exits[0]["process"]["pid"], kills[0]["process"]["pid"])

    def test_signal_action_delivers_the_named_signal(self):
        self.assertEqual(self.rc_signalled, -10)  # SIGUSR1's default action ends the process
        evs = self.policy_events("signal-usr1")
        self.assertEqual([e["action"] for e in evs], ["KPROBE_ACTION_SIGNAL"])
        exits = [x for x in self.exits_of(self.signalled) if x.get("signal") == "SIGUSR1"]
        self.assertEqual(len(exits), 1)

    def test_innocent_neighbour_binary_runs(self):
        self.assertEqual(self.rc_innocent, 0)
        self.assertTrue(self.exists["innocent"])

    def test_setns_from_new_pid_namespace_is_killed_host_caller_untouched(self):
        self.assertNotEqual(self.rc_setns_ns, 0)
        self.assertEqual(self.rc_setns_host, 0)
        evs = [e for e in self.policy_events("detect-container-escape") if not e.get("monitored")]
        self.assertEqual(len(evs), 1)
        self.assertEqual(evs[0]["action"], "KPROBE_ACTION_SIGKILL")
        self.assertEqual(evs[0]["function_name"], "__x64_sys_setns")
        killed = [x for x in self.exits_of(SETNS) if x.get("signal") == "SIGKILL"]
        self.assertEqual(len(killed), 1)

    def test_list_value_added_at_run_time_is_enforced_from_then_on(self):
        self.assertEqual(self.rc_later1, 0)
        self.assertTrue(self.exists["later1"])
        self.assertEqual(self.add_value.returncode, 0, self.add_value.stderr)
        self.assertEqual(self.rc_later2, -9)
        self.assertFalse(self.exists["later2"])

    def test_monitor_mode_lets_it_run_and_reports_the_would_be_kill(self):
        self.assertEqual(self.set_mode.returncode, 0, self.set_mode.stderr)
        self.assertEqual(self.rc_monitor, 0)
        self.assertTrue(self.exists["monitor"])
        would = [e for e in self.policy_events("block-cryptominers") if e.get("monitored")]
        self.assertEqual(len(would), 1)
        self.assertEqual(would[0]["action"], "KPROBE_ACTION_SIGKILL")
        pol = {p["name"]: p for p in self.final["policies"]}
        self.assertEqual(pol["block-cryptominers"]["mode"], "monitor")

    def test_actions_are_counted_per_policy_hook_and_selector(self):
        counts = {k: v for k, v in self.final["metrics"].items() if k.startswith("vigil_policy_selector_actions_total")}
        def count(policy, action):
            return sum(v for k, v in counts.items() if 'policy="%s"' % policy in k and 'action="%s"' % action in k)
        self.assertEqual(count("block-cryptominers", "sigkill"), 2)
        self.assertEqual(count("block-cryptominers", "monitor_sigkill"), 1)
        self.assertEqual(count("detect-container-escape", "monitor_sigkill"), 1)
        self.assertEqual(count("deny-outbound-local", "override"), 1)
        self.assertTrue(any('selector="tracepoint:sched/sched_process_exec[0]"' in k or "[0]" in k for k in counts), counts)

    def test_connect_to_denied_address_fails_with_eperm(self):
        import errno
        self.assertEqual(self.connect_enforced, errno.EPERM)
        evs = [e for e in self.policy_events("deny-outbound-local") if not e.get("monitored")]
        self.assertEqual(len(evs), 1)
        self.assertEqual(evs[0]["action"], "KPROBE_ACTION_OVERRIDE")

    def test_monitor_mode_lets_setns_and_connect_through_and_reports_them(self):
        import errno
        self.assertEqual(self.rc_setns_monitor, 0)
        self.assertEqual(self.connect_monitored, errno.ECONNREFUSED)
        setns = [e for e in self.policy_events("detect-container-escape") if e.get("monitored")]
        self.assertEqual([e["action"] for e in setns], ["KPROBE_ACTION_SIGKILL"])
        conn = [e for e in self.policy_events("deny-outbound-local") if e.get("monitored")]
        self.assertEqual([e["action"] for e in conn], ["KPROBE_ACTION_OVERRIDE"])

    def test_sensitive_file_open_reported_innocent_open_not(self):
        paths = [e["args"][0]["string_arg"] for e in self.policy_events("monitor-sensitive-files")]
        self.assertIn("/etc/shadow", paths)
        self.assertNotIn("/etc/hostname", paths)


EXIT_KILL_POLICY = """\
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "kill-on-exit"
spec:
  tracepoints:
  - subsystem: "sched"
    event: "sched_process_exit"
    args:
    - index: 6
      type: "int"
      label: "prio"
    selectors:
    - matchArgs:
      - index: 6
        operator: "Equal"
        values: ["139"]
      matchActions:
      - action: Sigkill
"""


@vh.require_root
class RefusedSignal(unittest.TestCase):
    """The kernel refuses bpf_send_signal to a task that is already exiting: the refusal is
    counted (status kernel_signal_failed, metric vigil_bpf_errors_total{reason=signal_failed})
    and the event does not claim a Sigkill that never happened."""

    def test_a_refused_sigkill_is_counted_and_not_reported_as_done(self):
        tmp = tempfile.mkdtemp(prefix="vigil-sigfail-")
        try:
            exiting = os.path.join(tmp, "exiting")
            shutil.copy(MARKER, exiting)
            policy = os.path.join(tmp, "kill-on-exit.yaml")
            with open(policy, "w") as f:
                f.write(EXIT_KILL_POLICY)
            with vh.Agent("--tracing-policy", policy, outputs=("json",)) as agent:
                before = agent.status()["counters"]["kernel_signal_failed"]
                # nice 19 is prio 139: what the policy matches at exit
                self.assertEqual(run("nice", "-n", "19", exiting, os.path.join(tmp, "m")), 0)
                deadline = time.time() + 5
                while time.time() < deadline:
                    after = agent.status()["counters"]["kernel_signal_failed"]
                    if after > before:
                        break
                    time.sleep(0.1)
                events = [e["process_tracepoint"] for e in agent.events("json")
                          if "process_tracepoint" in e and e["process_tracepoint"]["process"]["binary"] == exiting]
            # >= : another nice-19 process on this machine may exit meanwhile
            self.assertGreaterEqual(after - before, 1)
            self.assertEqual(len(events), 1, events)
            self.assertNotEqual(events[0].get("action"), "KPROBE_ACTION_SIGKILL", events[0])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

if __name__ == "__main__":
    vh.main()
