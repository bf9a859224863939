"""Host lane: TracingPolicy fields that change what the agent does, end to end through
`vigil tracingpolicy add`: ignore.callNotFound leaves a missing function out and keeps the
rest of the policy; without it the same policy is refused at the call's line and column; a
field vigil does not honour is refused by the running agent, at its position, by name.

The field-by-field table (honoured or refused) is tests/unit/test_policy_schema.c.
"""
import os
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
UPROBE = os.path.join(vh.PROGS, "uprobe_target")
SYSCALLER = OPENER    # opens and closes each existing file: one close(2) per file
CAT = os.path.realpath("/bin/cat")


def policy(name, body):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
        """) % name + textwrap.indent(textwrap.dedent(body), "  ")


def missing_call_policy(name, tmp, ignore):
    # line 7 of the document holds the call (kept there by the layout below)
    return policy(name, """\
        kprobes:
        - call: "vigil_no_such_kernel_function"
          syscall: false
        %s
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
        """ % ("  ignore: {callNotFound: true}" if ignore else "", tmp))


def open_policy(name, prefix, selector="", hook="", extra_spec=""):
    """A tracepoint on openat reporting opens under prefix/, plus more selector (and hook)
    fields; each part is YAML at column 0."""
    block = lambda text, pad: textwrap.indent(textwrap.dedent(text), pad) if text else ""
    body = block(extra_spec, "")
    body += "tracepoints:\n- subsystem: syscalls\n  event: sys_enter_openat\n" + block(hook, "  ")
    body += ("  args:\n  - index: 6\n    type: string\n  selectors:\n  - matchArgs:\n    - index: 6\n"
             "      operator: Prefix\n      values: [\"%s/\"]\n" % prefix)
    body += block(selector, "    ")
    return policy(name, body)


def file_offset(binary, symbol):
    """The file offset of symbol's code in binary, from readelf (binutils, which builds us)."""
    syms = subprocess.run(["readelf", "-sW", binary], capture_output=True, text=True, check=True).stdout
    addr = next(int(line.split()[1], 16) for line in syms.splitlines()
                if line.split()[-1:] == [symbol] and "FUNC" in line)
    segs = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True, check=True).stdout
    for line in segs.splitlines():
        f = line.split()
        if f[:1] == ["LOAD"]:
            off, vaddr, memsz = int(f[1], 16), int(f[2], 16), int(f[5], 16)
            if vaddr <= addr < vaddr + memsz:
                return addr - vaddr + off
    raise RuntimeError("%s not in a LOAD segment of %s" % (symbol, binary))


# unshare(CLONE_NEWNS) after exec, then open: the mount namespace differs from the one at exec
UNSHARE_THEN_OPEN = "import ctypes, sys; ctypes.CDLL(None).unshare(0x00020000) == 0 or sys.exit(3); open(sys.argv[1], 'a')"


@vh.require_root
class PolicyFields(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        t = cls.tmp = tempfile.mkdtemp(prefix="vigil-fields-")
        me = os.getpid()
        cls.p = {k: os.path.join(t, k) for k in (
            "ignored", "strict", "follow", "nofollow", "notin", "nspid", "parent", "nschange", "macro",
            "msg", "monitor", "global", "process", "permitted", "effective", "nscap", "pids4", "ns10", "caps4",
            "ret", "label", "data")}
        p = cls.p
        files = {
            "ignored.yaml": missing_call_policy("missing-call-ignored", p["ignored"], True),
            "strict.yaml": missing_call_policy("missing-call-strict", p["strict"], False),
            "stack.yaml": policy("ima-hash", """\
                tracepoints:
                - subsystem: "syscalls"
                  event: "sys_enter_openat"
                  selectors:
                  - matchActions:
                    - action: Post
                      imaHash: true
                """),
            "follow.yaml": open_policy("pids-follow", p["follow"], """\
                matchPIDs:
                - {operator: In, values: [%d], followForks: true}
                """ % me),
            "nofollow.yaml": open_policy("pids-nofollow", p["nofollow"], """\
                matchPIDs:
                - {operator: In, values: [%d]}
                """ % me),
            "notin.yaml": open_policy("pids-notin", p["notin"], """\
                matchPIDs:
                - {operator: NotIn, values: [%d]}
                """ % me),
            "nspid.yaml": open_policy("pids-nspid", p["nspid"], """\
                matchPIDs:
                - {operator: In, values: [1], isNamespacePID: true}
                """),
            "parent.yaml": open_policy("parent-bin", p["parent"], """\
                matchParentBinaries:
                - {operator: In, values: ["%s"]}
                """ % SPAWNER),
            "nschange.yaml": open_policy("ns-change", p["nschange"], """\
                matchNamespaceChanges:
                - {operator: In, values: [Mnt]}
                """),
            "macro.yaml": open_policy("macro", p["macro"], """\
                macros: [only-opener]
                """, extra_spec="""\
                selectorsMacros:
                  only-opener:
                    matchBinaries:
                    - {operator: In, values: ["%s"]}
                """ % OPENER),
            "msg.yaml": open_policy("msg-tags", p["msg"], hook="""\
                message: "an open under msg"
                tags: ["vigil.test", "files"]
                """),
            "monitor.yaml": open_policy("mode-monitor", p["monitor"], """\
                matchActions:
                - action: Sigkill
                """, extra_spec="""\
                options:
                - name: policy-mode
                  value: monitor
                """),
            "global.yaml": open_policy("rate-global", p["global"], """\
                matchActions:
                - {action: Post, rateLimit: 1m, rateLimitScope: global}
                """),
            "process.yaml": open_policy("rate-process", p["process"], """\
                matchActions:
                - {action: Post, rateLimit: 1m, rateLimitScope: process}
                """),
            "permitted.yaml": open_policy("caps-permitted", p["permitted"], """\
                matchCapabilities:
                - {type: Permitted, operator: In, values: [CAP_SYS_ADMIN]}
                """),
            "effective.yaml": open_policy("caps-effective", p["effective"], """\
                matchCapabilities:
                - {type: Effective, operator: In, values: [CAP_SYS_ADMIN]}
                """),
            "nscap.yaml": open_policy("caps-nsonly", p["nscap"], """\
                matchCapabilities:
                - {operator: In, isNamespaceCapability: true, values: [CAP_SYS_ADMIN]}
                """),
            # limits: the last entry of each list is the one that decides, so it must be enforced
            "pids4.yaml": open_policy("limit-pids", p["pids4"], """\
                matchPIDs:
                - {operator: NotIn, values: [1]}
                - {operator: NotIn, values: [2]}
                - {operator: NotIn, values: [3]}
                - {operator: In, values: [%d]}
                """ % me),
            "ns10.yaml": open_policy("limit-ns", p["ns10"], "matchNamespaces:\n" + "".join(
                "- {namespace: %s, operator: In, values: [host_ns]}\n" % ns
                for ns in ("Uts", "Ipc", "Mnt", "Pid", "PidForChildren", "Net", "Time", "TimeForChildren",
                           "Cgroup", "User"))),
            "caps4.yaml": open_policy("limit-caps", p["caps4"], """\
                matchCapabilities:
                - {type: Permitted, operator: In, values: [CAP_SYS_ADMIN]}
                - {type: Permitted, operator: In, values: [CAP_CHOWN]}
                - {type: Inheritable, operator: NotIn, values: [CAP_SYS_MODULE]}
                - {type: Effective, operator: In, values: [CAP_SYS_ADMIN]}
                """),
            "ret.yaml": policy("limit-return-args", """\
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
                      values: ["%s/"]
                    matchReturnArgs:
                    - {index: 0, operator: LT, values: ["0"]}
                    - {index: 0, operator: GT, values: ["-4096"]}
                    - {index: 0, operator: NotEqual, values: ["-2"]}
                """ % p["ret"]),
            "calllist.yaml": policy("call-list", """\
                lists:
                - name: "opener-calls"
                  type: "syscalls"
                  values: ["sys_openat", "x64/sys_close"]
                kprobes:
                - call: "list:opener-calls"
                  selectors:
                  - matchBinaries:
                    - operator: "In"
                      values: ["%s"]
                """ % SYSCALLER),
            "label.yaml": open_policy("labelled", p["label"], """\
                label: "first-opens"
                matchActions:
                - {action: Post}
                """),
            "data.yaml": policy("task-data", """\
                kprobes:
                - call: "sys_openat"
                  syscall: true
                  args:
                  - index: 1
                    type: "string"
                  data:
                  - index: 0
                    type: "string"
                    source: "current_task"
                    resolve: "comm"
                  - index: 0
                    type: "int"
                    source: "current_task"
                    resolve: "real_parent.tgid"
                  selectors:
                  - matchArgs:
                    - index: 1
                      operator: "Prefix"
                      values: ["%s/"]
                    matchData:
                    - index: 0
                      operator: "Equal"
                      values: ["opener"]
                """ % p["data"]),
            "usyms.yaml": policy("uprobe-symbols", """\
                uprobes:
                - path: "%s"
                  symbols: ["vigil_uprobe_target", "main"]
                  args:
                  - index: 0
                    type: "int"
                """ % UPROBE),
            "uoffset.yaml": policy("uprobe-offset", """\
                uprobes:
                - path: "%s"
                  offsets: [%d]
                  args:
                  - index: 0
                    type: "int"
                """ % (UPROBE, file_offset(UPROBE, "vigil_uprobe_target"))),
            # Tetragon's examples/tracingpolicy/list-syscalls-tracepoint.yaml, unchanged
            "dups.yaml": policy("list-syscalls-tracepoint", """\
                lists:
                - name: "dups"
                  type: "syscalls"
                  values:
                  - "sys_dup"
                  - "sys_dup2"
                tracepoints:
                - subsystem: "raw_syscalls"
                  event: "sys_enter"
                  args:
                  - index: 4
                    type: "uint64"
                  selectors:
                  - matchArgs:
                    - index: 0
                      operator: "InMap"
                      values:
                      - "list:dups"
                """),
            "syscalls.yaml": policy("syscall-list", """\
                lists:
                - name: "closes"
                  type: "syscalls"
                  values: ["x64/sys_close"]
                tracepoints:
                - subsystem: "raw_syscalls"
                  event: "sys_enter"
                  args:
                  - index: 4
                    type: "syscall64"
                  selectors:
                  - matchArgs:
                    - index: 4
                      operator: "InMap"
                      values: ["list:closes"]
                    matchBinaries:
                    - operator: "In"
                      values: ["%s"]
                """ % SYSCALLER),
        }
        cls.files = {}
        for name, text in files.items():
            path = os.path.join(t, name)
            with open(path, "w") as f:
                f.write(text)
            cls.files[name] = path
        for d in cls.p.values():
            os.makedirs(d)
        run = lambda *a: subprocess.run(list(a), check=False).returncode
        with vh.Agent() as agent:
            cls.added = {}
            for name in files:
                cls.added[name] = subprocess.run(
                    [vh.VIGIL, "tracingpolicy", "add", cls.files[name], "--control", agent.control],
                    capture_output=True, text=True)
            time.sleep(0.2)
            run(OPENER, p["ignored"] + "/a", p["strict"] + "/b")
            # matchPIDs: this test process is the pid; its children only count with followForks
            for key in ("follow", "nofollow", "notin"):
                os.close(os.open(p[key] + "/self", os.O_RDONLY | os.O_CREAT))
                run(OPENER, p[key] + "/child")
            run(OPENER, p["nspid"] + "/host")
            run("unshare", "--pid", "--fork", OPENER, p["nspid"] + "/pid1")
            run(SPAWNER, OPENER, p["parent"] + "/under-spawner")
            run(OPENER, p["parent"] + "/alone")
            run(sys.executable, "-c", UNSHARE_THEN_OPEN, p["nschange"] + "/after-unshare")
            run(sys.executable, "-c", "import sys; open(sys.argv[1], 'a')", p["nschange"] + "/no-unshare")
            run(OPENER, p["macro"] + "/opener")
            subprocess.run([CAT, p["macro"] + "/cat"], stderr=subprocess.DEVNULL, check=False)
            run(OPENER, p["msg"] + "/x")
            cls.rc_monitor = run(OPENER, p["monitor"] + "/x")
            for key in ("global", "process"):
                run(OPENER, p[key] + "/x", p[key] + "/x")       # one process: one slot in either scope
                run(OPENER, p[key] + "/x")                      # another process
            for key in ("permitted", "effective"):
                run(OPENER, p[key] + "/root")
                # euid 65534 with ruid 0: the kernel clears the effective set, keeps the permitted one
                run("setpriv", "--euid=65534", OPENER, p[key] + "/euid-nobody")
            run(OPENER, p["nscap"] + "/host-root")
            run("unshare", "--user", "--map-root-user", OPENER, p["nscap"] + "/userns-root")
            for key in ("pids4", "ns10", "caps4"):
                os.close(os.open(p[key] + "/self", os.O_RDONLY | os.O_CREAT))
                run(OPENER, p[key] + "/child")
            run("unshare", "--user", "--map-root-user", OPENER, p["ns10"] + "/userns")
            run("setpriv", "--euid=65534", OPENER, p["caps4"] + "/euid-nobody")
            open(p["ret"] + "/file", "w").close()
            # fd >= 0, -ENOENT, -ENOTDIR: only the last passes all three matchReturnArgs
            run(OPENER, p["ret"] + "/file", p["ret"] + "/missing", p["ret"] + "/file/x")
            run(UPROBE, "42", "hello")
            run(OPENER, p["label"] + "/a", p["label"] + "/b")
            run(OPENER, p["data"] + "/by-opener")
            subprocess.run([CAT, p["data"] + "/by-cat"], stderr=subprocess.DEVNULL, check=False)
            duper = subprocess.Popen([sys.executable, "-c", "import ctypes, os; libc = ctypes.CDLL(None); libc.dup(0); os.dup2(0, 9); libc.dup(0)"])
            duper.wait()
            cls.duper_pid = duper.pid
            exist = [os.path.join(t, "c1"), os.path.join(t, "c2")]
            for e in exist:
                open(e, "w").close()
            cls.syscaller_rc = run(SYSCALLER, *exist)
            cls.status = agent.status()
            cls.events = agent.events("json")

    def tracepoints(self, policy_name):
        return [e["process_tracepoint"] for e in self.events
                if e.get("process_tracepoint", {}).get("policy_name") == policy_name]

    def opened(self, policy_name):
        return sorted(os.path.relpath(ev["args"][0]["string_arg"], self.tmp) for ev in self.tracepoints(policy_name))

    def assert_added(self, name):
        self.assertEqual(self.added[name].returncode, 0, self.added[name].stderr)

    # ---- ignore.callNotFound, and a refused field through the agent ----

    def test_call_not_found_is_left_out_and_the_rest_of_the_policy_runs(self):
        self.assert_added("ignored.yaml")
        self.assertEqual(self.opened("missing-call-ignored"), ["ignored/a"])

    def test_status_says_the_missing_call_was_skipped_and_why(self):
        pol = [p for p in self.status["policies"] if p["name"] == "missing-call-ignored"]
        self.assertEqual(len(pol), 1, self.status)
        text = repr(pol[0])
        self.assertIn("ignore.callNotFound", text)
        self.assertIn("vigil_no_such_kernel_function", text)

    def test_without_ignore_the_missing_call_refuses_the_policy_at_its_position(self):
        r = self.added["strict.yaml"]
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(self.files["strict.yaml"] + ":7:11:", r.stderr)
        self.assertIn("vigil_no_such_kernel_function", r.stderr)
        self.assertEqual(self.opened("missing-call-strict"), [])

    def test_agent_refuses_a_field_it_does_not_honour_by_name_and_position(self):
        r = self.added["stack.yaml"]
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(self.files["stack.yaml"] + ":12:9:", r.stderr)
        self.assertIn("imaHash works on lsmhooks only", r.stderr)
        self.assertNotIn("ima-hash", {p["name"] for p in self.status["policies"]})

    # ---- process filters ----

    def test_match_pids_follow_forks_matches_the_children_of_the_pid(self):
        self.assert_added("follow.yaml")
        self.assertEqual(self.opened("pids-follow"), ["follow/child", "follow/self"])
        self.assertEqual(self.opened("pids-nofollow"), ["nofollow/self"])

    def test_match_pids_not_in_leaves_out_the_named_pid(self):
        self.assert_added("notin.yaml")
        self.assertEqual(self.opened("pids-notin"), ["notin/child"])

    def test_match_pids_namespace_pid_matches_pid_1_of_a_new_pid_namespace(self):
        self.assert_added("nspid.yaml")
        self.assertEqual(self.opened("pids-nspid"), ["nspid/pid1"])

    def test_match_parent_binaries_matches_only_children_of_the_spawner(self):
        self.assert_added("parent.yaml")
        self.assertEqual(self.opened("parent-bin"), ["parent/under-spawner"])

    def test_match_namespace_changes_reports_the_open_after_unshare(self):
        self.assert_added("nschange.yaml")
        self.assertEqual(self.opened("ns-change"), ["nschange/after-unshare"])

    def test_macro_selector_filters_like_an_inline_one(self):
        self.assert_added("macro.yaml")
        self.assertEqual(self.opened("macro"), ["macro/opener"])

    def test_match_capabilities_permitted_differs_from_effective(self):
        self.assert_added("permitted.yaml")
        self.assertEqual(self.opened("caps-permitted"), ["permitted/euid-nobody", "permitted/root"])
        self.assertEqual(self.opened("caps-effective"), ["effective/root"])

    def test_namespace_capability_matches_only_outside_the_host_user_namespace(self):
        self.assert_added("nscap.yaml")
        self.assertEqual(self.opened("caps-nsonly"), ["nscap/userns-root"])

    # ---- limits beyond Tetragon's first entry ----

    def test_four_match_pids_entries_all_apply(self):
        self.assert_added("pids4.yaml")
        self.assertEqual(self.opened("limit-pids"), ["pids4/self"])

    def test_ten_match_namespaces_entries_all_apply(self):
        self.assert_added("ns10.yaml")
        self.assertEqual(self.opened("limit-ns"), ["ns10/child", "ns10/self"])

    def test_four_match_capabilities_entries_all_apply(self):
        self.assert_added("caps4.yaml")
        self.assertEqual(self.opened("limit-caps"), ["caps4/child", "caps4/self"])

    def test_three_match_return_args_entries_all_apply(self):
        self.assert_added("ret.yaml")
        evs = [e["process_kprobe"] for e in self.events
               if e.get("process_kprobe", {}).get("policy_name") == "limit-return-args"]
        self.assertEqual([os.path.relpath(ev["args"][0]["string_arg"], self.tmp) for ev in evs], ["ret/file/x"], evs)
        self.assertEqual(evs[0]["return"], {"int_arg": -20})

    # ---- hooks, actions, options ----

    def test_selector_label_names_the_selector_in_metrics(self):
        self.assert_added("label.yaml")
        counts = {k: v for k, v in self.status["metrics"].items()
                  if k.startswith("vigil_policy_selector_actions_total") and 'policy="labelled"' in k}
        self.assertEqual(list(counts.values()), [2], counts)
        self.assertIn('selector="tracepoint:syscalls/sys_enter_openat[first-opens]"', list(counts)[0])

    def test_data_from_the_current_task_is_reported_and_filtered(self):
        self.assert_added("data.yaml")
        evs = [e["process_kprobe"] for e in self.events
               if e.get("process_kprobe", {}).get("policy_name") == "task-data"]
        self.assertEqual(len(evs), 1, evs)     # cat's open is left out by matchData on comm
        ev = evs[0]
        self.assertEqual(ev["args"][0]["string_arg"], self.p["data"] + "/by-opener")
        data = ev.get("data") or ev["args"][1:]     # where data entries go is the encoder's choice
        self.assertEqual(data[0]["string_arg"], "opener")
        self.assertEqual(data[1]["int_arg"], os.getpid())   # the opener's parent is this test

    def test_uprobe_with_two_symbols_reports_each(self):
        self.assert_added("usyms.yaml")
        evs = [e["process_uprobe"] for e in self.events
               if e.get("process_uprobe", {}).get("policy_name") == "uprobe-symbols"]
        got = sorted((ev["symbol"], ev["args"][0]["int_arg"]) for ev in evs)
        self.assertEqual(got, [("main", 3), ("vigil_uprobe_target", 42)])   # main(argc = 3, ...)

    def test_uprobe_at_a_file_offset_reports_the_call(self):
        self.assert_added("uoffset.yaml")
        evs = [e["process_uprobe"] for e in self.events
               if e.get("process_uprobe", {}).get("policy_name") == "uprobe-offset"]
        self.assertEqual([ev["args"] for ev in evs], [[{"int_arg": 42}]], evs)
        self.assertEqual(evs[0]["path"], UPROBE)

    def test_syscall_list_in_map_on_an_uint64_id_as_tetragons_example(self):
        self.assert_added("dups.yaml")
        ids = sorted(ev["args"][0]["size_arg"] for ev in self.tracepoints("list-syscalls-tracepoint")
                     if ev["process"]["pid"] == self.duper_pid)
        # libc's dup(), twice, and os.dup2 (python's os.dup is fcntl, not dup); uint64 prints as a string
        self.assertEqual(ids, ["32", "32", "33"])

    def test_call_list_hooks_each_syscall_of_the_list(self):
        self.assert_added("calllist.yaml")
        evs = [e["process_kprobe"] for e in self.events
               if e.get("process_kprobe", {}).get("policy_name") == "call-list"
               and e["process_kprobe"]["process"]["arguments"].endswith("/c2")]
        names = sorted(ev["function_name"] for ev in evs)
        self.assertEqual(names, ["__x64_sys_close"] * 2 + ["__x64_sys_openat"] * 2, names)
        pol = [p for p in self.status["policies"] if p["name"] == "call-list"]
        self.assertEqual(len(pol[0]["hooks"]), 2, pol)

    def test_message_and_tags_are_in_the_event(self):
        self.assert_added("msg.yaml")
        evs = self.tracepoints("msg-tags")
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]["message"], "an open under msg")
        self.assertEqual(evs[0]["tags"], ["vigil.test", "files"])

    def test_policy_mode_option_reports_the_kill_without_killing(self):
        self.assert_added("monitor.yaml")
        self.assertEqual(self.rc_monitor, 0)
        evs = self.tracepoints("mode-monitor")
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]["action"], "KPROBE_ACTION_SIGKILL")
        self.assertTrue(evs[0].get("monitored"), evs[0])
        pol = {p["name"]: p for p in self.status["policies"]}
        self.assertEqual(pol["mode-monitor"]["mode"], "monitor")

    def test_rate_limit_scope_global_posts_once_for_two_processes(self):
        self.assert_added("global.yaml")
        self.assertEqual(self.opened("rate-global"), ["global/x"])
        self.assertEqual(self.opened("rate-process"), ["process/x", "process/x"])

    def test_in_map_over_a_syscall_list_on_raw_syscalls(self):
        self.assert_added("syscalls.yaml")
        self.assertEqual(self.syscaller_rc, 0)
        # the same binary runs elsewhere in this test: count the run on c1 and c2
        evs = [ev for ev in self.tracepoints("syscall-list") if ev["process"]["arguments"].endswith("/c2")]
        self.assertEqual(len(evs), 2, [ev["args"] for ev in evs])
        for ev in evs:
            self.assertEqual(ev["subsys"], "raw_syscalls")
            self.assertEqual(ev["args"][0]["syscall_id"], {"id": 3, "abi": "x64"})   # __NR_close


if __name__ == "__main__":
    unittest.main(verbosity=2)
