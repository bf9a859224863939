"""Host lane: syscall hooks cost one program per syscall, not one per hook on every syscall.

On this kernel (no kprobes, no trampolines) a `syscall: true` hook goes into the raw_syscalls
dispatcher's table by its syscall's number, which tail-calls only the hooks of the running
syscall: one with its own syscalls:sys_enter_X tracepoint too (setns), and one without (this
kernel has no modules, so no sys_enter_finit_module). Checked here: the mechanism
each hook got, events from two hooks on one dispatched syscall, the second still running
after the first is deleted (a hole in the table), a return hook through the sys_exit
dispatcher, and a hook's program not running at all on
20,000 unrelated syscalls (kernel.bpf_stats_enabled run counts).

The dispatcher runs its hooks' prefilters itself and tail-calls only those that pass
(bpf/lib/syscall_prefilter.h), first all at once as the syscall's quick test. Five hooks on finit_module: three whose prefilter wants
our fd, one another fd, one without selectors (no prefilter): each gets exactly its calls,
and the verdict the dispatcher left for the hooks (vg_sys_regs' pass and judged, read back
on the CPU the call ran on) names exactly the slots it tail-called. bpf_stats cannot show
that: a tail-called program's run counts are not kept (only the caller's are).

Where the dispatcher does not load (VIGIL_DISPATCHER=off stands in for a kernel that refuses
it), its hooks attach alone on raw_syscalls, still post, and the log's warning and the hook's
status note say so.
"""
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

NR_FINIT_MODULE = 313
NR_SETNS = 308
CHAIN = 16  # bpf/dispatch.h VG_SYSCALL_CHAIN: slots per syscall number
MARK_FD = 4242  # the fd our finit_module calls pass: nobody else's
OTHER_FD = 4343  # fm-other's
NO_FD = 9999  # nobody's but fm-all's (no selectors)

FINIT = """\
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "%s"
spec:
  kprobes:
  - call: "sys_finit_module"
    syscall: true
    args:
    - index: 0
      type: "int"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Equal"
        values: ["%d"]
"""

FINIT_RET = """\
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "fm-ret"
spec:
  kprobes:
  - call: "sys_finit_module"
    syscall: true
    return: true
    args:
    - index: 0
      type: "int"
    returnArg:
      index: 0
      type: "int"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Equal"
        values: ["%d"]
      matchReturnArgs:
      - index: 0
        operator: "LT"
        values: ["0"]
""" % MARK_FD

FINIT_ALL = """\
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "fm-all"
spec:
  kprobes:
  - call: "sys_finit_module"
    syscall: true
    args:
    - index: 0
      type: "int"
"""

SETNS_QUIET = """\
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "setns-quiet"
spec:
  kprobes:
  - call: "sys_setns"
    syscall: true
    args:
    - index: 1
      type: "int"
    selectors:
    - matchArgs:
      - index: 1
        operator: "Equal"
        values: ["12345"]
"""

LIBC = ctypes.CDLL(None, use_errno=True)


def finit_module(fd=MARK_FD):
    LIBC.syscall(NR_FINIT_MODULE, fd, b"", 0)  # fails (no such fd, no modules): still seen


def tracefs():
    with open("/proc/mounts") as f:
        for line in f:
            if line.split()[2] == "tracefs":
                return line.split()[1]
    return "/sys/kernel/tracing"


def bpftool_json(*argv):
    return json.loads(subprocess.run(["bpftool", "-j"] + list(argv), capture_output=True, text=True,
                                     check=True).stdout)


def run_count(prog_id):
    return bpftool_json("prog", "show", "id", str(prog_id)).get("run_cnt", 0)


def finit_events(agent_events, policy):
    return [e for e in agent_events if "process_kprobe" in e and e["process_kprobe"]["policy_name"] == policy
            and e["process_kprobe"]["process"]["pid"] == os.getpid()]


@vh.require_root
class SyscallDispatch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tmp = tempfile.mkdtemp(prefix="vigil-dispatch-")
        cls.files = {}
        for name, text in (("fm-a", FINIT % ("fm-a", MARK_FD)), ("fm-b", FINIT % ("fm-b", MARK_FD)),
                           ("fm-ret", FINIT_RET), ("fm-other", FINIT % ("fm-other", OTHER_FD)),
                           ("fm-all", FINIT_ALL), ("setns-quiet", SETNS_QUIET)):
            cls.files[name] = os.path.join(tmp, name + ".yaml")
            with open(cls.files[name], "w") as f:
                f.write(text)
        cls.has_finit_tp = None
        args = []
        for path in cls.files.values():
            args += ["--tracing-policy", path]
        with vh.Agent(*args, outputs=("json",)) as agent:
            cls.has_finit_tp = os.path.exists(os.path.join(tracefs(), "events/syscalls/sys_enter_finit_module"))
            cls.status = agent.status()
            cls.verdicts = {fd: cls.verdict(agent.proc.pid, fd) for fd in (MARK_FD, OTHER_FD, NO_FD)}
            cls.quick = cls.quick_test(agent.proc.pid)
            # delete the first hook of the syscall's table: the second must still run
            cls.deleted = subprocess.run([vh.VIGIL, "tp", "delete", "fm-a", "--control", agent.control],
                                         capture_output=True, text=True)
            finit_module()
            cls.runs = cls.count_unrelated(agent.proc.pid)
            cls.events = agent.events("json")

    @staticmethod
    def agent_maps(agent_pid, name):
        held = set()
        for fd in os.listdir("/proc/%d/fdinfo" % agent_pid):
            try:
                with open("/proc/%d/fdinfo/%s" % (agent_pid, fd)) as f:
                    held |= {int(line.split()[1]) for line in f if line.startswith("map_id:")}
            except OSError:
                pass
        return [m["id"] for m in bpftool_json("map", "show") if m["id"] in held and m.get("name") == name]

    @classmethod
    def quick_test(cls, agent_pid):
        """finit_module's quick test (bpf/dispatch.h, vg_spf_quick) as its chain names it."""
        chains = bpftool_json("map", "lookup", "id", str(cls.agent_maps(agent_pid, "vg_spf_chains")[0]),
                              "key", *[str((NR_FINIT_MODULE >> s) & 0xff) for s in (0, 8, 16, 24)])
        key = chains["formatted"]["value"]["quick"]
        if not key:
            return None
        return bpftool_json("map", "lookup", "id", str(cls.agent_maps(agent_pid, "vg_spf_quick")[0]),
                            "key", str(key), "0", "0", "0")["formatted"]["value"]

    @classmethod
    def verdict(cls, agent_pid, fd):
        """finit_module(fd) on one CPU, then what the agent's dispatcher left there for the
        hooks: (filled slots of finit_module, of them those it would tail-call, those whose
        prefilter it ran whole, the syscall the copy is of). Only finit_module and setns
        calls write that copy: nobody else's call replaces ours in between."""
        cpu = min(os.sched_getaffinity(0))
        was = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu})
        try:
            finit_module(fd)
            regs = bpftool_json("map", "dump", "id", str(cls.agent_maps(agent_pid, "vg_sys_regs")[0]))
        finally:
            os.sched_setaffinity(0, was)
        table = cls.agent_maps(agent_pid, "vg_sys_enter")[0]
        filled = {e["formatted"]["key"] - NR_FINIT_MODULE * CHAIN for e in bpftool_json("map", "dump", "id", str(table))
                  if NR_FINIT_MODULE * CHAIN <= e["formatted"]["key"] < NR_FINIT_MODULE * CHAIN + CHAIN}
        mine = [v["value"] for v in regs[0]["formatted"]["values"] if v["cpu"] == cpu][0]
        return (filled, {k for k in filled if mine["pass"] & (1 << k)}, {k for k in filled if mine["judged"] & (1 << k)},
                mine["nr"])

    @classmethod
    def count_unrelated(cls, agent_pid):
        """Run counts of the setns hook's program across 20,000 getppid calls: the program in
        the agent's dispatcher table at setns' slots."""
        held = set()
        for fd in os.listdir("/proc/%d/fdinfo" % agent_pid):
            try:
                with open("/proc/%d/fdinfo/%s" % (agent_pid, fd)) as f:
                    held |= {int(line.split()[1]) for line in f if line.startswith("map_id:")}
            except OSError:
                pass
        tables = [m["id"] for m in bpftool_json("map", "show") if m["id"] in held and m.get("name") == "vg_sys_enter"]
        prog = [e["formatted"]["value"] for t in tables[:1] for e in bpftool_json("map", "dump", "id", str(t))
                if NR_SETNS * CHAIN <= e["formatted"]["key"] < NR_SETNS * CHAIN + CHAIN]
        if len(prog) != 1:
            return None, prog
        with open("/proc/sys/kernel/bpf_stats_enabled") as f:
            was = f.read().strip()
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        try:
            before = run_count(prog[0])
            for _ in range(20000):
                os.getppid()
            return run_count(prog[0]) - before, prog
        finally:
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write(was)

    def mechanism(self, policy):
        pols = {p["name"]: p for p in self.status["policies"]}
        return pols[policy]["hooks"][0]["mechanism"]

    def test_syscall_with_a_tracepoint_goes_to_the_dispatcher_too(self):
        # syscalls:sys_enter_X would add a perf probe to every syscall beside the dispatcher
        self.assertIn("raw_syscalls dispatcher", self.mechanism("setns-quiet"))

    def test_syscall_without_a_tracepoint_goes_to_the_dispatcher(self):
        if self.has_finit_tp:
            self.skipTest("this kernel has sys_enter_finit_module: nothing here needs the dispatcher")
        self.assertIn("raw_syscalls dispatcher", self.mechanism("fm-a"))
        self.assertIn("raw_syscalls dispatcher", self.mechanism("fm-b"))

    def test_two_hooks_on_one_dispatched_syscall_both_post(self):
        self.assertEqual(len(finit_events(self.events, "fm-a")), 1, self.events[-20:])
        self.assertEqual(len(finit_events(self.events, "fm-b")), 2)

    def test_deleting_the_first_hook_leaves_the_second_running(self):
        self.assertEqual(self.deleted.returncode, 0, self.deleted.stderr)
        fd = [e["process_kprobe"]["args"][0] for e in finit_events(self.events, "fm-b")]
        self.assertEqual(fd, [{"int_arg": MARK_FD}] * 2)

    def test_return_hook_on_a_dispatched_syscall_reports_the_return_value(self):
        self.assertIn("raw_syscalls dispatcher", self.mechanism("fm-ret"))
        evs = [e["process_kprobe"] for e in finit_events(self.events, "fm-ret")]
        self.assertEqual(len(evs), 2, evs)
        self.assertLess(evs[0]["return"]["int_arg"], 0)  # ENOSYS here (no modules), EBADF elsewhere

    def test_each_prefilter_gets_exactly_its_calls(self):
        fds = lambda pol: sorted(e["process_kprobe"]["args"][0]["int_arg"] for e in finit_events(self.events, pol))
        self.assertEqual(fds("fm-other"), [OTHER_FD])
        self.assertEqual(fds("fm-all"), sorted([MARK_FD, OTHER_FD, NO_FD, MARK_FD]))  # no prefilter: every call

    def test_the_dispatcher_tail_calls_only_the_hooks_whose_prefilter_passes(self):
        filled, passed, judged, nr = self.verdicts[MARK_FD]
        self.assertEqual(nr, NR_FINIT_MODULE)
        self.assertEqual(len(filled), 5, self.verdicts)  # fm-a, fm-b, fm-ret, fm-other, fm-all
        self.assertEqual(len(passed), 4, self.verdicts)  # all but fm-other
        self.assertEqual(len(judged), 3, self.verdicts)  # fm-all has no prefilter to judge
        other_slot = filled - passed
        filled, passed, judged, nr = self.verdicts[OTHER_FD]
        self.assertEqual(len(passed), 2, self.verdicts)  # fm-other and fm-all
        self.assertEqual(len(judged), 1, self.verdicts)
        self.assertEqual(judged, other_slot)
        filled, passed, judged, nr = self.verdicts[NO_FD]
        self.assertEqual(len(passed), 1, self.verdicts)  # fm-all only: no tail call to the other four
        self.assertEqual(judged, set())

    def test_one_quick_test_holds_the_four_prefilters(self):
        # NO_FD's verdict came from it: fm-a's, fm-b's and fm-ret's equal check is one there
        q = self.quick
        self.assertIsNotNone(q, "finit_module's chain names no quick test")
        self.assertEqual((q["nsel"], q["nints"], q["nstr"]), (4, 2, 0), q)
        filled, passed, _, _ = self.verdicts[NO_FD]
        self.assertEqual({k for k in filled if q["none"] & (1 << k)}, passed)

    def test_hook_program_does_not_run_on_unrelated_syscalls(self):
        delta, progs = self.runs
        self.assertIsNotNone(delta, "setns hook programs of the agent: %s" % progs)
        # a raw_syscalls program would have run >= 20,000 times; other tasks' setns calls are rare
        self.assertLess(delta, 200)


@vh.require_root
class DispatcherMissing(unittest.TestCase):
    def test_hooks_attach_alone_and_say_why(self):
        tmp = tempfile.mkdtemp(prefix="vigil-dispatch-off-")
        path = os.path.join(tmp, "fm-a.yaml")
        with open(path, "w") as f:
            f.write(FINIT % ("fm-a", MARK_FD))
        env = dict(os.environ)
        os.environ["VIGIL_DISPATCHER"] = "off"
        try:
            with vh.Agent("--tracing-policy", path, outputs=("json",)) as agent:
                hook = {p["name"]: p for p in agent.status()["policies"]}["fm-a"]["hooks"][0]
                finit_module()
                events = finit_events(agent.events("json"), "fm-a")
                log = agent.read_log()
        finally:
            os.environ.clear()
            os.environ.update(env)
        self.assertIn("raw_tp", hook["mechanism"])
        self.assertNotIn("dispatcher", hook["mechanism"])
        self.assertIn("and the raw_syscalls dispatcher did not load (turned off by VIGIL_DISPATCHER=off): alone "
                      "on raw_syscalls, so every syscall runs it", hook.get("note") or "", hook)
        self.assertNotIn("tail call", hook.get("note") or "", hook)
        self.assertEqual(log.count("the raw_syscalls dispatcher did not load"), 1, log)
        self.assertEqual(len(events), 1, events)

    def test_pinned_and_table_full_hooks_attach_alone_and_say_why(self):
        """The dispatcher loads, but a hook pinned by --keep-enforcing and the 17th hook of one
        syscall (16 slots) attach alone: their notes say that and why, not "tail call"."""
        tmp = tempfile.mkdtemp(prefix="vigil-dispatch-alone-")
        pin = "/sys/fs/bpf/vigil-alone-%d" % os.getpid()
        many = os.path.join(tmp, "fm-many.yaml")
        kill = os.path.join(tmp, "fm-kill.yaml")
        hook = FINIT[FINIT.index("  - call:"):]
        with open(many, "w") as f:  # CHAIN + 1 hooks of one policy on finit_module
            f.write(FINIT[:FINIT.index("  - call:")] % "fm-many" + (hook % NO_FD) * (CHAIN + 1))
        with open(kill, "w") as f:  # Sigkill on an fd nobody passes: pinned, never run
            f.write(FINIT % ("fm-kill", NO_FD) + "      matchActions:\n      - action: Sigkill\n")
        try:
            with vh.Agent("--keep-enforcing", "--pin-dir", pin, "--tracing-policy", many, "--tracing-policy", kill,
                          outputs=()) as agent:
                pols = {p["name"]: p for p in agent.status()["policies"]}
        finally:
            subprocess.run(["rm", "-rf", pin])
        hooks = pols["fm-many"]["hooks"]
        self.assertEqual([("dispatcher" in h["mechanism"]) for h in hooks], [True] * CHAIN + [False], hooks)
        self.assertIn("tail call by number", hooks[0]["note"])
        self.assertIn("and its syscall's %d slots in the dispatcher's table are taken: alone on raw_syscalls, "
                      "so every syscall runs it" % CHAIN, hooks[CHAIN]["note"])
        pinned = pols["fm-kill"]["hooks"][0]
        self.assertIn("raw_tp", pinned["mechanism"])
        self.assertIn("and the hook is pinned by --keep-enforcing", pinned["note"])
        for h in (hooks[CHAIN], pinned):
            self.assertNotIn("tail call", h["note"])
            self.assertIn("Sigkill/Signal only, no Override", h["note"])

    def test_a_switch_value_other_than_off_is_refused(self):
        # vigild(8) ENVIRONMENT: a "0" meant as off must not leave the dispatcher on unnoticed
        for knob in ("VIGIL_DISPATCHER", "VIGIL_PREFILTER"):
            r = subprocess.run([vh.VIGILD, "--tracing-policy-dir", ""], env=dict(os.environ, **{knob: "0"}),
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, knob)
            self.assertIn('%s=0: the one value understood is "off"' % knob, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
