"""Host lane: spec.usdts (libbpf's USDT support). A probe in a test program (sys/sdt.h) fires
process_usdt events with Tetragon's keys (path, provider, name, args by the probe's argument
index: a 32-bit and a 64-bit value read where the probe's note places them); matchArgs
filters on them in the kernel; Sigkill at the probe kills the program.
The Set action writes an argument that lives in memory (bpf_probe_write_user, into the process
that hit the probe), tried by an unprivileged user: it changes the value only in a process the
policy selects (matchBinaries: the same file run under another name, or a copy, is left
alone), never in monitor mode, and never reaches the agent; an argument kept in a register is
refused before anything loads, with the operand the probe's note gives. A kernel in lockdown
(integrity or confidentiality: our machines) has no bpf_probe_write_user: there Set is refused
in enforce mode with that reason (vm case 11 shows it writing on the stock kernel).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

TARGET = os.path.join(vh.PROGS, "usdt_target")
SET_TARGET = os.path.join(vh.PROGS, "usdt_set_target")
NOBODY = 65534


def lockdown():
    """The kernel's lockdown mode, "none" when securityfs does not say."""
    try:
        with open("/sys/kernel/security/lockdown") as f:
            m = re.search(r"\[(\w+)\]", f.read())
    except OSError:
        return "none"
    return m.group(1) if m else "none"


def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def set_policy(name, path, binary):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
          usdts:
          - path: "%s"
            provider: "tetragon"
            name: "test_4B"
            args:
            - {index: 0, type: "int32"}
            - {index: 1, type: "int32"}
            - {index: 2, type: "int32"}
            selectors:
            - matchBinaries:
              - operator: "In"
                values: ["%s"]
              matchActions:
              - action: Set
                argIndex: 0
                argValue: 32
        """) % (name, path, binary)


def usdt_policy(name, path, selectors=""):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
          usdts:
          - path: "%s"
            provider: "vigiltest"
            name: "probe2"
            args:
            - index: 0
              type: "int32"
            - index: 1
              type: "int64"
        """) % (name, path) + textwrap.indent(textwrap.dedent(selectors), "    ")


@vh.require_root
class Usdt(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-usdt-")
        cls.watched = os.path.join(cls.tmp, "usdt-watched")
        cls.killed = os.path.join(cls.tmp, "usdt-killed")
        shutil.copy(TARGET, cls.watched)
        shutil.copy(TARGET, cls.killed)
        os.chmod(cls.tmp, 0o755)
        cls.set_target = os.path.join(cls.tmp, "set-target")
        cls.set_alias = os.path.join(cls.tmp, "set-alias")     # the same file, another name
        cls.set_monitored = os.path.join(cls.tmp, "set-monitored")
        shutil.copy(SET_TARGET, cls.set_target)
        os.link(cls.set_target, cls.set_alias)
        shutil.copy(SET_TARGET, cls.set_monitored)
        cls.user_dir = tempfile.mkdtemp(prefix="vigil-usdt-user-")
        os.chown(cls.user_dir, NOBODY, NOBODY)
        files = {
            "watch.yaml": usdt_policy("usdt-watch", cls.watched, """\
                selectors:
                - matchArgs:
                  - index: 0
                    operator: "Equal"
                    values: ["41", "42"]
                """),
            "kill.yaml": usdt_policy("usdt-kill", cls.killed, """\
                selectors:
                - matchActions:
                  - action: Sigkill
                """),
            # probe2's first argument is in a register (its note: "-4@%edx")
            "set-register.yaml": usdt_policy("usdt-set-register", cls.watched, """\
                selectors:
                - matchActions:
                  - action: Set
                    argIndex: 0
                    argValue: 32
                """),
            "set.yaml": set_policy("usdt-set", cls.set_target, cls.set_target),
        }
        with vh.Agent() as agent:
            cls.added = agent.add_policy_files(cls.tmp, files)
            path = os.path.join(cls.tmp, "set-monitor.yaml")
            with open(path, "w") as f:
                f.write(set_policy("usdt-set-monitor", cls.set_monitored, cls.set_monitored))
            cls.monitor_added = subprocess.run([vh.VIGIL, "tracingpolicy", "add", path, "-m", "monitor",
                                                "--control", agent.control], capture_output=True, text=True)
            cls.status = agent.status()
            cls.lockdown = lockdown()     # the agent mounted securityfs to read it
            cls.watched_rc = subprocess.run([cls.watched, "4"]).returncode   # values 40..43
            cls.killed_rc = subprocess.run([cls.killed, "1"]).returncode
            # the unprivileged user: the selected binary, the same file by another name, a copy
            # of its own, and the monitored one; the exit status is the first argument
            user_copy = os.path.join(cls.user_dir, "set-target")

            def run(argv):
                return subprocess.run(argv, preexec_fn=as_nobody, capture_output=True).returncode

            cls.set_rc = run([cls.set_target])
            cls.alias_rc = run([cls.set_alias])
            run(["/bin/cp", cls.set_target, user_copy])
            cls.copy_rc = run([user_copy])
            cls.monitored_rc = run([cls.set_monitored])
            cls.agent_alive = agent.proc.poll() is None
            cls.status_after = agent.status()
            cls.events = agent.events(settle=1.0)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        shutil.rmtree(cls.user_dir, ignore_errors=True)

    def usdts(self, policy):
        return [e["process_usdt"] for e in self.events
                if e.get("process_usdt", {}).get("policy_name") == policy]

    def test_probe_fires_events_with_its_arguments_filtered_in_the_kernel(self):
        self.assertEqual(self.added["watch.yaml"].returncode, 0, self.added["watch.yaml"].stderr)
        self.assertEqual(self.watched_rc, 0)
        evs = self.usdts("usdt-watch")
        self.assertEqual([ev["args"][0]["int_arg"] for ev in evs], [41, 42], evs)
        for ev in evs:
            self.assertEqual(ev["path"], self.watched)
            self.assertEqual(ev["provider"], "vigiltest")
            self.assertEqual(ev["name"], "probe2")
            self.assertEqual(int(ev["args"][1]["long_arg"]), 0x1122334455667788)
            self.assertEqual(ev["process"]["binary"], self.watched)

    def test_sigkill_at_the_probe_kills_the_program(self):
        self.assertEqual(self.added["kill.yaml"].returncode, 0, self.added["kill.yaml"].stderr)
        self.assertEqual(self.killed_rc, -9)
        evs = self.usdts("usdt-kill")
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]["action"], "KPROBE_ACTION_SIGKILL")

    def test_set_of_an_argument_in_a_register_is_refused_with_its_operand(self):
        r = self.added["set-register.yaml"]
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"set-register\.yaml:\d+:\d+: .*Set argIndex 0: probe vigiltest:probe2 keeps "
                         r"that argument in a register \(\"-4@%edx\"\), not in memory")

    def test_set_writes_the_argument_of_a_selected_process_only(self):
        if self.lockdown != "none":
            r = self.added["set.yaml"]
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("Set writes the process's memory with bpf_probe_write_user, which this kernel's "
                          "lockdown (%s) forbids" % self.lockdown, r.stderr)
            self.assertEqual((self.set_rc, self.alias_rc, self.copy_rc), (1, 1, 1))
            self.assertEqual(self.usdts("usdt-set"), [])
            return
        self.assertEqual(self.added["set.yaml"].returncode, 0, self.added["set.yaml"].stderr)
        self.assertEqual(self.set_rc, 32)        # the user's run of the selected binary: written
        self.assertEqual(self.alias_rc, 1)       # same file, another name: matchBinaries says no
        self.assertEqual(self.copy_rc, 1)        # the user's own copy: no probe attached there
        evs = self.usdts("usdt-set")
        self.assertEqual([(ev["process"]["binary"], ev["action"]) for ev in evs],
                         [(self.set_target, "KPROBE_ACTION_SET")], evs)
        self.assertEqual(evs[0]["process"]["uid"], NOBODY)

    def test_set_is_not_done_in_monitor_mode(self):
        self.assertEqual(self.monitor_added.returncode, 0, self.monitor_added.stderr)
        self.assertEqual(self.monitored_rc, 1)
        evs = self.usdts("usdt-set-monitor")
        self.assertEqual(len(evs), 1, evs)

    def test_the_agent_is_untouched(self):
        self.assertTrue(self.agent_alive)
        loaded = {"usdt-set-monitor"} | ({"usdt-set"} if self.lockdown == "none" else set())
        self.assertEqual({p["name"] for p in self.status_after["policies"]} & {"usdt-set", "usdt-set-monitor"}, loaded)


if __name__ == "__main__":
    unittest.main(verbosity=2)
