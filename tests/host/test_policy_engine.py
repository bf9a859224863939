"""Host lane: TracingPolicies matched in the kernel of this machine (Linux 6.18, no kprobes,
no trampolines): classic tracepoints, syscall kprobes landing on syscalls:sys_enter_X,
binary / namespace / rate-limit / NoPost selectors, and policy management at run time.

Every assertion is on events a `vigil getevents` subscriber received, and on their count:
activity that matches no selector must produce no event at all.
"""
import base64
import collections
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

OPENER = os.path.join(vh.PROGS, "opener")
SPAWNER = os.path.join(vh.PROGS, "spawner")
SETNS = os.path.join(vh.PROGS, "setns_self")
CAT = os.path.realpath("/bin/cat")
UPROBE = os.path.join(vh.PROGS, "uprobe_target")
ECHO = os.path.realpath("/bin/echo")


def bpf_map_ids():
    out = subprocess.run(["bpftool", "-j", "map", "list"], capture_output=True, text=True, check=True)
    import json
    return {m["id"] for m in json.loads(out.stdout or "[]")}


def policy(name, body):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
        """) % name + textwrap.indent(textwrap.dedent(body), "  ")


def openat_policy(name, selectors):
    # file-watch: syscall: these test the kernel-side selectors, on every open attempt (missing
    # files included), not the fanotify watch a path-only hook gets (test_fanotify_watch.py)
    head = textwrap.dedent("""\
        options:
        - name: "file-watch"
          value: "syscall"
        tracepoints:
        - subsystem: "syscalls"
          event: "sys_enter_openat"
          args:
          - index: 6
            type: "string"
          selectors:
        """)
    return policy(name, head + textwrap.indent(textwrap.dedent(selectors), "  "))


@vh.require_root
class PolicyEngine(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-pe-")
        t = cls.tmp
        cls.paths = {k: os.path.join(t, k) for k in ("etc", "nopost", "sel", "rate", "ns", "notin", "follow")}
        files = {
            "etc.yaml": openat_policy("open-etc", """\
                - matchArgs:
                  - index: 6
                    operator: "Prefix"
                    values: ["/etc/"]
                  matchBinaries:
                  - operator: "In"
                    values: ["%s"]
                """ % OPENER),
            "setns.yaml": policy("setns-watch", """\
                kprobes:
                - call: "sys_setns"
                  syscall: true
                  args:
                  - index: 0
                    type: "int"
                  - index: 1
                    type: "int"
                    label: "nstype"
                  selectors:
                  - matchBinaries:
                    - operator: "In"
                      values: ["%s"]
                """ % SETNS),
            "sel.yaml": openat_policy("first-match", """\
                - matchArgs:
                  - index: 6
                    operator: "Equal"
                    values: ["%(sel)s/a"]
                  matchActions:
                  - action: NoPost
                - matchArgs:
                  - index: 6
                    operator: "Prefix"
                    values: ["%(sel)s/"]
                """ % cls.paths),
            "rate.yaml": openat_policy("rate-limited", """\
                - matchArgs:
                  - index: 6
                    operator: "Postfix"
                    values: ["rate/limited.txt"]
                  matchActions:
                  - action: Post
                    rateLimit: "1m"
                """),
            "ns.yaml": openat_policy("host-ns-only", """\
                - matchArgs:
                  - index: 6
                    operator: "Prefix"
                    values: ["%(ns)s/"]
                  matchNamespaces:
                  - namespace: Pid
                    operator: In
                    values: ["host_ns"]
                """ % cls.paths),
            "notin.yaml": openat_policy("not-opener", """\
                - matchArgs:
                  - index: 6
                    operator: "Prefix"
                    values: ["%(notin)s/"]
                  matchBinaries:
                  - operator: "NotIn"
                    values: ["%(opener)s"]
                """ % dict(cls.paths, opener=OPENER)),
            "uprobe.yaml": policy("uprobe-watch", """\
                uprobes:
                - path: "%s"
                  symbols: ["vigil_uprobe_target"]
                  args:
                  - index: 0
                    type: "int"
                  - index: 1
                    type: "string"
                """ % UPROBE),
            "ret.yaml": policy("failed-opens", """\
                kprobes:
                - call: "sys_openat"
                  syscall: true
                  return: true
                  args:
                  - index: 1
                    type: "string"
                  returnArg:
                    index: 0
                    type: "int"
                  selectors:
                  - matchArgs:
                    - index: 1
                      operator: "Prefix"
                      values: ["%s/ret/"]
                    matchReturnArgs:
                    - index: 0
                      operator: "LT"
                      values: ["0"]
                """ % t),
            "write.yaml": policy("echo-writes", """\
                kprobes:
                - call: "sys_write"
                  syscall: true
                  args:
                  - index: 0
                    type: "fd"
                  - index: 1
                    type: "char_buf"
                    sizeArgIndex: 3
                  - index: 2
                    type: "size_t"
                  selectors:
                  - matchBinaries:
                    - operator: "In"
                      values: ["%s"]
                """ % ECHO),
            "follow.yaml": openat_policy("follow-children", """\
                - matchArgs:
                  - index: 6
                    operator: "Prefix"
                    values: ["%(follow)s/"]
                  matchBinaries:
                  - operator: "In"
                    values: ["%(spawner)s"]
                    followChildren: true
                """ % dict(cls.paths, spawner=SPAWNER)),
        }
        args = []
        for fname, text in files.items():
            path = os.path.join(t, fname)
            with open(path, "w") as f:
                f.write(text)
            args += ["--tracing-policy", path]
        cls.bad = os.path.join(t, "bad.yaml")
        with open(cls.bad, "w") as f:
            f.write(policy("bad", """\
                kprobes:
                - call: "sys_setns"
                  syscall: true
                  args:
                  - index: 0
                    type: "int"
                  selectors:
                  - matchArgs:
                    - index: 0
                      operator: "Prefix"
                      values: ["x"]
                """))
        cls.later = os.path.join(t, "later.yaml")
        with open(cls.later, "w") as f:
            f.write(openat_policy("added-later", """\
                - matchArgs:
                  - index: 6
                    operator: "Prefix"
                    values: ["%s/later/"]
                """ % t))

        p = cls.paths
        with vh.Agent(*args, outputs=("json", "compact")) as agent:
            run = lambda *a: subprocess.run(list(a), check=False)
            run(OPENER, "/etc/hostname", "/tmp/not-etc", "/etc/passwd")
            run(CAT, "/etc/hostname")                       # not the opener: filtered in the kernel
            run(SETNS)
            run(OPENER, p["sel"] + "/a", p["sel"] + "/b")
            run(OPENER, *[p["rate"] + "/rate/limited.txt"] * 5)    # one thread: one rate slot
            run(OPENER, p["ns"] + "/host")
            run("unshare", "--pid", "--fork", OPENER, p["ns"] + "/child-pidns")
            run(OPENER, p["notin"] + "/by-opener")
            run(CAT, p["notin"] + "/by-cat")
            run(SPAWNER, OPENER, p["follow"] + "/under-spawner")
            run(OPENER, p["follow"] + "/alone")
            run(UPROBE, "42", "hello")
            with open(os.devnull, "w") as null:
                subprocess.run([ECHO, "vigil charbuf"], stdout=null)
            os.makedirs(t + "/ret")
            open(t + "/ret/exists", "w").close()
            run(OPENER, t + "/ret/exists", t + "/ret/missing")
            cls.status = agent.status()
            # management at run time; nothing of a deleted policy may stay in the kernel
            # the agent's own objects (other agents on the host load and unload theirs): those
            # it held with added-later loaded and not before must be gone once it is deleted
            cls.held_before_add = vh.bpf_ids_held(agent.proc.pid)
            cls.bad_add = subprocess.run([vh.VIGIL, "tracingpolicy", "add", cls.bad, "--control", agent.control],
                                         capture_output=True, text=True)
            cls.later_add = subprocess.run([vh.VIGIL, "tp", "add", cls.later, "--control", agent.control],
                                           capture_output=True, text=True)
            time.sleep(0.2)
            cls.held_with_later = vh.bpf_ids_held(agent.proc.pid)
            run(OPENER, t + "/later/x")
            cls.listing = subprocess.run([vh.VIGIL, "tp", "list", "-o", "json", "--control", agent.control],
                                         capture_output=True, text=True)
            cls.listing_text = subprocess.run([vh.VIGIL, "tp", "list", "--control", agent.control],
                                              capture_output=True, text=True)
            cls.deleted = subprocess.run([vh.VIGIL, "tp", "delete", "added-later", "--control", agent.control],
                                         capture_output=True, text=True)
            time.sleep(0.2)
            run(OPENER, t + "/later/y")
            cls.progs_after_delete = vh.bpf_prog_ids()
            cls.maps_after_delete = bpf_map_ids()
            cls.events = agent.events("json")
            cls.compact = agent.events("compact", settle=0)
            cls.final_status = agent.status()

    def tracepoints(self, policy):
        return [e["process_tracepoint"] for e in self.events
                if "process_tracepoint" in e and e["process_tracepoint"]["policy_name"] == policy]

    def paths_of(self, policy):
        return sorted(ev["args"][0]["string_arg"] for ev in self.tracepoints(policy))

    def test_tracepoint_prefix_matches_only_etc_opens_of_the_opener(self):
        self.assertEqual(self.paths_of("open-etc"), ["/etc/hostname", "/etc/passwd"])

    def test_tracepoint_event_has_tetragon_shape(self):
        ev = next(ev for ev in self.tracepoints("open-etc") if ev["args"][0]["string_arg"] == "/etc/hostname")
        self.assertEqual(ev["subsys"], "syscalls")
        self.assertEqual(ev["event"], "sys_enter_openat")
        self.assertEqual(ev["action"], "KPROBE_ACTION_POST")
        self.assertEqual(ev["process"]["binary"], OPENER)
        self.assertEqual(ev["process"]["arguments"], "/etc/hostname /tmp/not-etc /etc/passwd")
        self.assertIn("parent", ev)

    def test_return_probe_reports_only_failed_calls_with_their_return_value(self):
        evs = [e["process_kprobe"] for e in self.events
               if "process_kprobe" in e and e["process_kprobe"]["policy_name"] == "failed-opens"]
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]["args"], [{"string_arg": self.tmp + "/ret/missing"}])
        self.assertEqual(evs[0]["return"], {"int_arg": -2})  # ENOENT
        self.assertEqual(evs[0]["return_action"], "KPROBE_ACTION_POST")
        self.assertEqual(evs[0]["process"]["binary"], OPENER)

    def test_char_buf_with_size_argument_and_fd_resolved_to_its_file(self):
        evs = [e["process_kprobe"] for e in self.events
               if "process_kprobe" in e and e["process_kprobe"]["policy_name"] == "echo-writes"]
        self.assertEqual(len(evs), 1, evs)
        fd, buf, size = evs[0]["args"]
        self.assertEqual(fd["file_arg"]["path"], "/dev/null")
        self.assertEqual(buf, {"bytes_arg": base64.b64encode(b"vigil charbuf\n").decode()})
        self.assertEqual(size, {"size_arg": "14"})

    def test_syscall_kprobe_lands_in_the_dispatcher_with_args(self):
        evs = [e["process_kprobe"] for e in self.events
               if "process_kprobe" in e and e["process_kprobe"]["policy_name"] == "setns-watch"]
        self.assertEqual(len(evs), 1, evs)
        ev = evs[0]
        self.assertEqual(ev["function_name"], "__x64_sys_setns")
        self.assertEqual(ev["policy_name"], "setns-watch")
        self.assertEqual(ev["process"]["binary"], SETNS)
        self.assertEqual(ev["args"][1], {"int_arg": 0x04000000, "label": "nstype"})  # CLONE_NEWUTS

    def test_status_names_the_mechanism_chosen_for_each_hook(self):
        pols = {p["name"]: p for p in self.status["policies"]}
        hook = pols["setns-watch"]["hooks"][0]
        self.assertEqual(hook["hook"], "kprobe __x64_sys_setns")
        # the dispatcher's table by number: other syscalls never run this hook
        self.assertIn("raw_syscalls dispatcher", hook["mechanism"])
        self.assertIn("runs on setns only", hook["note"])
        self.assertIn("Sigkill/Signal only", hook["note"])
        self.assertTrue(hook["attached"])
        # a syscalls:sys_enter_X tracepoint on the syscall's arguments: the same table
        self.assertIn("raw_syscalls dispatcher", pols["open-etc"]["hooks"][0]["mechanism"])
        self.assertIn("runs on openat only", pols["open-etc"]["hooks"][0]["note"])

    def test_first_matching_selector_wins_and_nopost_suppresses(self):
        self.assertEqual(self.paths_of("first-match"), [self.paths["sel"] + "/b"])

    def test_rate_limit_posts_one_of_five(self):
        self.assertEqual(len(self.tracepoints("rate-limited")), 1)

    def test_host_ns_selector_ignores_new_pid_namespace(self):
        self.assertEqual(self.paths_of("host-ns-only"), [self.paths["ns"] + "/host"])

    def test_notin_binaries_excludes_only_the_named_binary(self):
        evs = self.tracepoints("not-opener")
        self.assertEqual([e["args"][0]["string_arg"] for e in evs], [self.paths["notin"] + "/by-cat"])
        self.assertEqual(evs[0]["process"]["binary"], CAT)

    def test_follow_children_matches_descendants_of_the_binary_only(self):
        self.assertEqual(self.paths_of("follow-children"), [self.paths["follow"] + "/under-spawner"])

    def test_bad_policy_is_refused_with_file_line_column(self):
        self.assertNotEqual(self.bad_add.returncode, 0)
        self.assertIn(self.bad + ":15:", self.bad_add.stderr)
        self.assertIn("Prefix", self.bad_add.stderr)

    def test_running_policies_untouched_by_a_refused_one(self):
        names = {p["name"] for p in self.final_status["policies"]}
        self.assertIn("open-etc", names)
        self.assertNotIn("bad", names)

    def test_policy_added_and_deleted_at_run_time(self):
        self.assertEqual(self.later_add.returncode, 0, self.later_add.stderr)
        self.assertIn("added-later", self.listing.stdout)
        self.assertEqual(self.deleted.returncode, 0, self.deleted.stderr)
        self.assertEqual(self.paths_of("added-later"), [self.tmp + "/later/x"])

    def test_tp_list_counts_each_policys_events_as_sent(self):
        # the count is an atomic add through the hook the decoder resolved (sinks.c): every
        # event a policy sent, no more; added-later's event may still be in flight at the listing
        listed = dict(re.findall(r"^(\S+)  state=\S+ mode=\S+ events=(\d+)", self.listing_text.stdout, re.M))
        sent = collections.Counter(body["policy_name"] for e in self.events for body in e.values()
                                   if isinstance(body, dict) and "policy_name" in body)
        self.assertEqual(int(listed["open-etc"]), 2)
        for name, n in listed.items():
            if name != "added-later":
                self.assertEqual(int(n), sent[name], name)
        self.assertGreater(len(listed), 3, self.listing_text.stdout)

    def test_uprobe_reports_user_function_arguments(self):
        evs = [e["process_uprobe"] for e in self.events if "process_uprobe" in e]
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]["path"], UPROBE)
        self.assertEqual(evs[0]["symbol"], "vigil_uprobe_target")
        self.assertEqual(evs[0]["args"], [{"int_arg": 42}, {"string_arg": "hello"}])

    def test_deleted_policy_leaves_no_programs_or_maps(self):
        progs = self.held_with_later["prog"] - self.held_before_add["prog"]
        maps = self.held_with_later["map"] - self.held_before_add["map"]
        self.assertTrue(progs and maps, (progs, maps))
        self.assertEqual(progs & self.progs_after_delete, set())
        self.assertEqual(maps & self.maps_after_delete, set())

    def test_no_policy_events_beyond_the_expected(self):
        policy_events = [e for e in self.events if any(k in e for k in ("process_kprobe", "process_tracepoint"))]
        self.assertEqual(len(policy_events), 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1)
        c = self.final_status["counters"]
        self.assertEqual(c["kernel_ringbuf_full"], 0)
        self.assertEqual(c["bad_records"], 0)

    def test_compact_lines_for_policy_events(self):
        lines = [l.split(" \U0001f6d1 CAP_SYS_ADMIN")[0].rstrip() for l in self.compact]
        self.assertTrue(any(l.startswith("⁉️ tracepoint host-test %s syscalls sys_enter_openat" % OPENER)
                            or ("tracepoint" in l and OPENER in l) for l in lines), lines[-20:])



@vh.require_root
class TracepointInlineString(unittest.TestCase):
    """A `string` argument on a tracepoint field that is a char array in the record itself
    (sched_process_exit's `char comm[16]`) is read from the record, and matched there."""

    def test_comm_array_is_read_and_matched(self):
        tmp = tempfile.mkdtemp(prefix="vigil-comm-")
        try:
            named, other = os.path.join(tmp, "vigil-inline"), os.path.join(tmp, "vigil-other")
            for path in (named, other):
                with open(path, "wb") as out, open(vh.os.path.join(vh.PROGS, "marker"), "rb") as src:
                    out.write(src.read())
                os.chmod(path, 0o755)
            pol = os.path.join(tmp, "comm.yaml")
            with open(pol, "w") as f:
                f.write(policy("exit-comm", """\
                    tracepoints:
                    - subsystem: "sched"
                      event: "sched_process_exit"
                      args:
                      - index: 4
                        type: "string"
                        label: "comm"
                      selectors:
                      - matchArgs:
                        - index: 4
                          operator: "Equal"
                          values: ["vigil-inline"]
                    """))
            bad = os.path.join(tmp, "bad.yaml")
            with open(bad, "w") as f:
                f.write(policy("exit-prio-string", """\
                    tracepoints:
                    - subsystem: "sched"
                      event: "sched_process_exit"
                      args:
                      - index: 6
                        type: "string"
                    """))
            with vh.Agent("--tracing-policy", pol) as agent:
                for path in (named, other):
                    subprocess.run([path, os.path.join(tmp, "m")], check=True)
                refused = subprocess.run([vh.VIGIL, "tp", "add", bad, "--control", agent.control],
                                         capture_output=True, text=True)
                events = [e["process_tracepoint"] for e in agent.events("json")
                          if "process_tracepoint" in e and e["process_tracepoint"]["policy_name"] == "exit-comm"]
            self.assertEqual([e["process"]["binary"] for e in events], [named], events)
            self.assertEqual(events[0]["args"][0], {"string_arg": "vigil-inline", "label": "comm"})
            # an int field read as a string would dereference the number: refused, with where
            self.assertNotEqual(refused.returncode, 0)
            self.assertIn("bad.yaml:10:", refused.stderr + refused.stdout)
            self.assertIn("neither a pointer nor a char array", refused.stderr + refused.stdout)
        finally:
            vh.shutil.rmtree(tmp, ignore_errors=True)

if __name__ == "__main__":
    vh.main()
