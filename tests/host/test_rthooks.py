"""Host lane: tetra's `rthooks create-container` and `eventlog set` with vigil in tetra's place,
and vigil-oci-hook, against a real agent with real BPF.

Runtime hooks: a container announced before it starts (by hand, and by the OCI hook reading a
bundle's config.json) is in its pod from its first exec: a TracingPolicyNamespaced, and a
TracingPolicy with a podSelector on a label the annotations carry, both select the exec of a
binary run in that cgroup (as nobody), and the events carry the pod; the same binary in a
sibling cgroup is not selected. Abuse: nobody (the control group's member) cannot announce a
cgroup (the agent refuses), cannot make a cgroup by writing under the test's cgroups, and
garbage on the hook's standard input is a logged failure that lets the container start (exit
0), or stops it under --fail-closed. A removed cgroup's entry is evicted.

eventlog set: while an exec burst flows into the export file, the rotation's maximum size is
set to 1 MB; the file rotates at that size and every exec of the burst is in exactly one file.
Bad values are refused as vigild refuses them at start; nobody cannot change them.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

HOOK = os.path.join(vh.BUILD, "integrations", "oci-hook", "vigil-oci-hook")
MARKER = os.path.join(vh.PROGS, "marker")
BURST = os.path.join(vh.PROGS, "exec_burst")
NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--"]     # in nogroup
TAG = "rth%d" % os.getpid()
NS_A, NS_B = TAG + "-team-a", TAG + "-team-b"
CID_B = "b0a7%060x" % os.getpid()
BURST_N = 1500


def v2_mount():
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, path, kind = line.split()[:3]
            if kind == "cgroup2":
                return path
    return None


def exec_policy(kind, name, binary, scope):
    """sched_process_exec of binary, as a namespaced policy (scope: the namespace) or with a
    podSelector (scope: "label: value")."""
    head = ["apiVersion: cilium.io/v1alpha1", "kind: %s" % kind, "metadata:", "  name: %s" % name]
    if kind == "TracingPolicyNamespaced":
        head.append("  namespace: %s" % scope)
    head.append("spec:")
    if kind == "TracingPolicy":
        head += ["  podSelector:", "    matchLabels:", "      %s" % scope]
    return "\n".join(head + [
        "  tracepoints:", "  - subsystem: sched", "    event: sched_process_exec", "    raw: true",
        "    args:", "    - index: 2", "      type: linux_binprm", "    selectors:", "    - matchArgs:",
        "      - index: 2", "        operator: Equal", '        values: ["%s"]' % binary]) + "\n"


def vigil(*args, user=(), **kw):
    return subprocess.run(list(user) + [vh.VIGIL] + list(args), capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, **kw)


def run_in(cgroup, *argv):
    """argv run as nobody, its first exec already in cgroup (moved by root before the exec)."""
    script = 'echo $$ > "$0"/cgroup.procs && exec "$@"'
    subprocess.run(["sh", "-c", script, cgroup] + NOBODY + list(argv), check=True, timeout=30)


@vh.require_root
class RuntimeHooks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        mount = v2_mount()
        if not mount:
            raise unittest.SkipTest("no cgroup v2 mount: the runtime hook resolves v2 cgroups")
        cls.tmp = tempfile.mkdtemp(prefix="vigil-rthooks-")
        os.chmod(cls.tmp, 0o755)
        cls.bin = os.path.join(cls.tmp, "rthook-app")
        shutil.copy(MARKER, cls.bin)
        cls.out = os.path.join(cls.tmp, "out")     # where nobody's marker writes
        os.mkdir(cls.out)
        os.chmod(cls.out, 0o777)
        cls.rel = "/vigil-rthooks-%d" % os.getpid()
        cls.base = mount + cls.rel
        for d in ("", "/pod-a", "/pod-b", "/sibling", "/gone"):
            os.mkdir(cls.base + d)
        cls.export = os.path.join(cls.tmp, "events.json")
        cls.bundle = os.path.join(cls.tmp, "bundle")
        os.mkdir(cls.bundle)
        os.mkdir(os.path.join(cls.bundle, "rootfs"))     # root.path, relative to the bundle
        with open(os.path.join(cls.bundle, "config.json"), "w") as f:
            json.dump({"ociVersion": "1.0.2", "root": {"path": "rootfs"},
                       "linux": {"cgroupsPath": cls.rel + "/pod-b"},
                       "annotations": {"io.kubernetes.cri.sandbox-namespace": NS_B,
                                       "io.kubernetes.cri.sandbox-name": "web-b",
                                       "io.kubernetes.cri.container-name": "app-b",
                                       "io.kubernetes.cri.image-name": "docker.io/library/busybox:1.36",
                                       "app": TAG + "-web"}}, f)
        cls.state = json.dumps({"ociVersion": "1.0.2", "id": CID_B, "status": "creating", "pid": 1,
                                "bundle": cls.bundle})
        pols = {"ns.yaml": exec_policy("TracingPolicyNamespaced", TAG + "-ns", cls.bin, NS_A),
                "sel.yaml": exec_policy("TracingPolicy", TAG + "-sel", cls.bin, "app: %s-web" % TAG)}
        with vh.Agent("--export-file", cls.export, "--export-file-max-size-mb", "0", "--export-file-max-backups",
                      "0", "--cri-endpoint", "none", "--control-group", "nogroup") as agent:
            os.chmod(agent.dir, 0o755)      # nobody reaches the socket; the group decides what it may do
            cls.log = agent.read_log
            cls.added = agent.add_policy_files(cls.tmp, pols)
            c = ("--server-address", agent.control)
            cls.control = agent.control
            cls.announced = vigil("rthooks", "create-container", "--container-id", cls.rel + "/pod-a",
                                  "--pod-namespace", NS_A, "--pod-name", "web-a", "--container-name", "app-a",
                                  "--annotations", "app=not-" + TAG + ",tier=front", *c)
            run_in(cls.base + "/pod-a", cls.bin, os.path.join(cls.out, "ran-a"))     # at once: its first exec
            cls.hooked = subprocess.run([HOOK, "--control", agent.control, "createRuntime"], input=cls.state,
                                        capture_output=True, text=True, timeout=30)
            run_in(cls.base + "/pod-b", cls.bin, os.path.join(cls.out, "ran-b"))
            run_in(cls.base + "/sibling", cls.bin, os.path.join(cls.out, "ran-sibling"))
            # abuse, as nobody in the control group
            cls.nobody_cli = vigil("rthooks", "create-container", "--container-id", cls.rel + "/sibling",
                                   "--pod-namespace", NS_A, *c, user=NOBODY)
            sib_state = json.dumps({"id": "5" * 64, "bundle": cls.bundle_for(cls.rel + "/sibling")})
            cls.nobody_hook = subprocess.run(NOBODY + [HOOK, "--control", agent.control, "--fail-closed",
                                                       "--fail-allow-namespaces", "", "createRuntime"],
                                             input=sib_state, capture_output=True, text=True, timeout=30)
            cls.nobody_mkdir = subprocess.run(NOBODY + ["mkdir", cls.base + "/sibling/fake-pod"],
                                              capture_output=True, text=True)
            run_in(cls.base + "/sibling", cls.bin, os.path.join(cls.out, "ran-sibling-2"))
            cls.garbage = subprocess.run([HOOK, "--control", agent.control], input="{not json",
                                         capture_output=True, text=True, timeout=30)
            cls.garbage_closed = subprocess.run([HOOK, "--control", agent.control, "--fail-closed"],
                                                input="\x00\x01garbage", capture_output=True, text=True,
                                                timeout=30)
            cls.no_agent = subprocess.run([HOOK, "--control", "ipc://" + cls.tmp + "/none.sock", "--timeout",
                                           "300ms"], input=cls.state, capture_output=True, text=True, timeout=30)
            cls.bad_path = vigil("rthooks", "create-container", "--container-id", cls.rel + "/../etc", *c)
            cls.missing = vigil("rthooks", "create-container", "--container-id", cls.rel + "/nosuch", *c)
            cls.bad_root = vigil("rthooks", "create-container", "--container-id", cls.rel + "/sibling",
                                 "--root-dir", cls.tmp + "/no-rootfs", *c)
            # an entry whose cgroup goes away is evicted (the reader checks every second)
            cls.gone = vigil("rthooks", "create-container", "--container-id", cls.rel + "/gone",
                             "--pod-namespace", NS_A, *c)
            os.rmdir(cls.base + "/gone")
            deadline = time.time() + 10
            while time.time() < deadline:
                cls.status = agent.status()
                if cls.status["rthooks"]["evicted"] >= 1:
                    break
                time.sleep(0.2)
            cls.events = agent.events()
            cls.agent_rc = agent.stop()     # an ASan build's leak or error report makes it non-zero
            cls.agent_log = agent.read_log()

    @classmethod
    def bundle_for(cls, cgroups_path):
        d = tempfile.mkdtemp(prefix="bundle-", dir=cls.tmp)
        os.chmod(d, 0o755)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump({"linux": {"cgroupsPath": cgroups_path},
                       "annotations": {"io.kubernetes.pod.namespace": NS_A}}, f)
        return d

    @classmethod
    def tearDownClass(cls):
        for d in ("/pod-a", "/pod-b", "/sibling", "/gone", ""):
            try:
                os.rmdir(cls.base + d)
            except OSError:
                pass
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def execs_of(self, marker):
        return [e["process_exec"]["process"] for e in self.events if "process_exec" in e
                and e["process_exec"]["process"].get("arguments") == os.path.join(self.out, marker)]

    def selected(self, marker):
        return [e["process_tracepoint"] for e in self.events if "process_tracepoint" in e
                and e["process_tracepoint"]["process"].get("arguments") == os.path.join(self.out, marker)]

    def test_policies_and_announcements_accepted(self):
        for name, r in self.added.items():
            self.assertEqual(r.returncode, 0, name + ": " + r.stderr)
        self.assertEqual(self.announced.returncode, 0, self.announced.stderr)
        self.assertRegex(self.announced.stdout, r"^create-container: cgroup_id=[1-9]\d* cgroup_path=%s/pod-a "
                         r"root_dir= container_id= pod_namespace=%s pod_name=web-a pending=1\n$" % (self.rel, NS_A))
        self.assertEqual(self.hooked.returncode, 0, self.hooked.stderr)
        self.assertIn("container %s: announced to vigild (cgroup %s/pod-b)" % (CID_B, self.rel), self.hooked.stderr)

    def test_announced_container_is_in_its_pod_from_its_first_exec(self):
        execs = self.execs_of("ran-a")
        self.assertEqual(len(execs), 1, execs)
        self.assertEqual(execs[0]["uid"], 65534)
        pod = execs[0]["pod"]
        self.assertEqual((pod["namespace"], pod["name"], pod["container"]["name"]), (NS_A, "web-a", "app-a"))
        self.assertEqual(pod["pod_labels"], {"app": "not-" + TAG, "tier": "front"})
        hits = self.selected("ran-a")
        self.assertEqual([h["policy_name"] for h in hits], [TAG + "-ns"], hits)
        self.assertEqual(hits[0]["process"]["pod"]["namespace"], NS_A)

    def test_oci_hook_reads_the_bundle(self):
        execs = self.execs_of("ran-b")
        self.assertEqual(len(execs), 1, execs)
        pod = execs[0]["pod"]
        self.assertEqual((pod["namespace"], pod["name"], pod["container"]["name"]), (NS_B, "web-b", "app-b"))
        self.assertEqual(pod["container"]["id"], "containerd://" + CID_B)
        self.assertEqual(pod["container"]["image"]["name"], "docker.io/library/busybox:1.36")
        self.assertEqual(execs[0]["docker"], CID_B[:31])
        # the podSelector on the annotation's label, not the namespaced policy of team-a
        self.assertEqual([h["policy_name"] for h in self.selected("ran-b")], [TAG + "-sel"])

    def test_sibling_cgroup_is_not_selected(self):
        for marker in ("ran-sibling", "ran-sibling-2"):
            self.assertEqual(len(self.execs_of(marker)), 1, marker)
            self.assertNotIn("pod", self.execs_of(marker)[0])
            self.assertEqual(self.selected(marker), [], marker)

    def test_nobody_cannot_announce(self):
        self.assertEqual(self.nobody_cli.returncode, 1)
        self.assertIn("vigil rthooks: permission denied: 'rthooks_create_container' changes the agent and needs "
                      "root; uid 65534", self.nobody_cli.stderr)
        self.assertEqual(self.nobody_hook.returncode, 1, self.nobody_hook.stderr)
        self.assertIn("vigild refused it: permission denied", self.nobody_hook.stderr)
        self.assertIn("failing closed (--fail-closed): the container does not start", self.nobody_hook.stderr)
        self.assertNotEqual(self.nobody_mkdir.returncode, 0)
        self.assertIn("Permission denied", self.nobody_mkdir.stderr)
        self.assertEqual(self.status["rthooks"]["added"], 3)

    def test_garbage_and_absent_agent_fail_open(self):
        self.assertEqual(self.garbage.returncode, 0)
        self.assertIn("the OCI state on stdin is not JSON", self.garbage.stderr)
        self.assertIn("failing open: the container starts", self.garbage.stderr)
        self.assertEqual(self.garbage_closed.returncode, 1)
        self.assertIn("not JSON", self.garbage_closed.stderr)
        self.assertEqual(self.no_agent.returncode, 0)
        self.assertIn("no answer from vigild", self.no_agent.stderr)

    def test_a_root_dir_that_is_no_directory_is_refused(self):
        self.assertEqual(self.bad_root.returncode, 1)
        self.assertIn("rootDir %s/no-rootfs is not a directory" % self.tmp, self.bad_root.stderr)

    def test_bad_paths_refused(self):
        self.assertEqual(self.bad_path.returncode, 1)
        self.assertIn('"..\" is not allowed', self.bad_path.stderr)
        self.assertEqual(self.missing.returncode, 1)
        self.assertIn("no cgroup %s/nosuch under" % self.rel, self.missing.stderr)

    def test_agent_stops_cleanly(self):
        self.assertEqual(self.agent_rc, 0, self.agent_log[-3000:])

    def test_gone_cgroup_evicted_and_counted(self):
        self.assertEqual(self.gone.returncode, 0, self.gone.stderr)
        st = self.status["rthooks"]
        self.assertEqual(st["evicted"], 1, st)
        self.assertEqual(st["entries"], 2, st)
        self.assertEqual((st["capacity"], st["refused_full"]), (1024, 0))


@vh.require_root
class EventlogSet(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-eventlog-")
        os.chmod(cls.tmp, 0o755)
        cls.export = os.path.join(cls.tmp, "events.json")
        cls.burst = os.path.join(cls.tmp, "evlog-burst")
        shutil.copy(BURST, cls.burst)
        with vh.Agent("--export-file", cls.export, "--export-file-max-size-mb", "0", "--export-file-max-backups",
                      "5", "--control-group", "nogroup", outputs=()) as agent:
            os.chmod(agent.dir, 0o755)
            c = ("--server-address", agent.control)
            cls.before = vigil("eventlog", "get", *c)
            cls.bad = [vigil("eventlog", "set", *args, *c) for args in
                       (["--max-size", "-1"], ["--max-size", "1048577"], ["--max-backups", "100001"],
                        ["--rotation-interval", "5x"], ["--rotation-interval", "3651d"], [])]
            cls.nobody = vigil("eventlog", "set", "--max-size", "1", *c, user=NOBODY)
            burst = subprocess.Popen([cls.burst, str(BURST_N), TAG])
            while os.path.getsize(cls.export) < 100000 and burst.poll() is None:
                time.sleep(0.05)    # events flowing
            cls.set = vigil("eventlog", "set", "--max-size", "1", "--max-backups", "0", "--rotation-interval",
                            "1h0m0s", *c)
            burst.wait(timeout=120)
            time.sleep(1)
            cls.after = vigil("eventlog", "get", *c)
            cls.status = agent.status()
            cls.agent_rc = agent.stop()
            cls.agent_log = agent.read_log()
        cls.files = sorted(glob.glob(os.path.join(cls.tmp, "events-*.json"))) + [cls.export]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_set_is_validated_as_the_start_flags(self):
        self.assertEqual(self.before.stdout, 'Current logging parameters: max_size:0 rotation_interval:"0s" '
                         'max_backups:5 compress:false file:"%s"\n' % self.export)
        msgs = ["bad max-size -1", "bad max-size 1048577", "bad max-backups 100001", "bad rotation-interval 5x",
                "bad rotation-interval 3651d"]
        for r, msg in zip(self.bad, msgs):
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("vigil eventlog set: eventlog_set: " + msg, r.stderr)
        self.assertEqual(self.bad[-1].returncode, 2)    # nothing to set: usage
        self.assertEqual(self.nobody.returncode, 1)
        self.assertIn("permission denied: 'eventlog_set' changes the agent and needs root", self.nobody.stderr)

    def test_agent_stops_cleanly(self):
        self.assertEqual(self.agent_rc, 0, self.agent_log[-3000:])

    def test_set_applies_while_events_flow(self):
        self.assertEqual(self.set.returncode, 0, self.set.stderr)
        want = 'Current logging parameters: max_size:1 rotation_interval:"3600s" max_backups:0 compress:false ' \
               'file:"%s"\n' % self.export
        self.assertEqual(self.set.stdout, want)
        self.assertEqual(self.after.stdout, want)
        # the first backup is what the file held when the size was set; the next ones are cut at 1 MB
        self.assertGreaterEqual(len(self.files), 3, [(f, os.path.getsize(f)) for f in self.files])
        for f in self.files[1:-1]:
            self.assertLessEqual(os.path.getsize(f), 1 << 20, f)
            self.assertGreater(os.path.getsize(f), (1 << 20) - 20000, f)
        seen = {}
        for f in self.files:
            with open(f) as fh:
                for line in fh:
                    e = json.loads(line)
                    p = e.get("process_exec", {}).get("process", {})
                    if p.get("binary") == self.burst and p.get("arguments") == "0 " + TAG:
                        seen[p["exec_id"]] = seen.get(p["exec_id"], 0) + 1
        self.assertEqual(set(seen.values()), {1}, "an exec written twice")
        lost = self.status["counters"].get("ringbuf_lost", 0)
        self.assertGreaterEqual(len(seen), BURST_N - lost)
        self.assertEqual(self.status["counters"]["export_write_errors"] if "export_write_errors" in
                         self.status["counters"] else 0, 0)


if __name__ == "__main__":
    vh.main()
