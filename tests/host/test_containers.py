"""Host lane: where an event ran. Processes in a Podman container carry the container id
(Tetragon's process.docker, its first 31 characters) that Podman reports; the same
binary on the host carries none; an export filter on container_id selects them.

Podman runs with private storage (vfs) and state in a temporary directory, runc and the
cgroupfs manager (our hosts boot without systemd, hybrid cgroup layout), from an image
imported from a busybox-static rootfs: nothing is pulled.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import crihost  # noqa: E402
import vigilhost as vh  # noqa: E402

BUSYBOX = "/bin/busybox"
APPLETS = ("sh", "true", "sleep", "touch", "cat")


def need(path_or_cmd, package):
    """A tool the test needs: CI installs it (scripts/deps.d/containers.txt)."""
    if shutil.which(path_or_cmd) or os.path.exists(path_or_cmd):
        return
    msg = "%s not found (Debian package %s, scripts/deps.d/containers.txt)" % (path_or_cmd, package)
    if os.environ.get("CI"):
        raise RuntimeError(msg)
    raise unittest.SkipTest(msg)


class Podman:
    """podman with private storage and state under dir."""

    def __init__(self, dir):
        self.dir = dir
        self.base = ["podman", "--root", os.path.join(dir, "root"), "--runroot", os.path.join(dir, "run"),
                     "--tmpdir", os.path.join(dir, "tmp"), "--storage-driver", "vfs", "--runtime", "runc",
                     "--cgroup-manager", "cgroupfs", "--events-backend", "file"]

    def __call__(self, *args, check=True, timeout=120):
        r = subprocess.run(self.base + list(args), capture_output=True, text=True, timeout=timeout)
        if check and r.returncode:
            raise RuntimeError("podman %s: rc %d\n%s" % (" ".join(args), r.returncode, r.stderr))
        return r.stdout.strip()

    def run_args(self):
        return ["run", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "none"]


@vh.require_root
class Containers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need("podman", "podman")
        need("runc", "runc")
        need(BUSYBOX, "busybox-static")
        cls.dir = tempfile.mkdtemp(prefix="vigil-containers-")
        cls.podman = Podman(cls.dir)
        rootfs = os.path.join(cls.dir, "rootfs")
        os.makedirs(os.path.join(rootfs, "bin"))
        os.makedirs(os.path.join(rootfs, "tmp"))
        shutil.copy(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
        for a in APPLETS:
            os.symlink("busybox", os.path.join(rootfs, "bin", a))
        tar = os.path.join(cls.dir, "rootfs.tar")
        subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
        cls.image = "localhost/vigil-test-busybox:%d" % os.getpid()
        cls.podman("import", tar, cls.image)
        cls.mark = "vigil-ct-" + uuid.uuid4().hex[:12]
        cls.containers = []
        try:
            cls.run_scenario()
        finally:
            for c in cls.containers:
                cls.podman("rm", "-f", c, check=False)
            cls.podman("rmi", "-f", cls.image, check=False)
            shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def run_scenario(cls):
        p = cls.podman
        mark = cls.mark
        # running before the agent: its processes are known from the /proc scan only
        cls.early = p(*p.run_args(), "-d", cls.image, "/bin/sh", "-c",
                      "while [ ! -e /tmp/go ]; do sleep 0.1; done; /bin/true %s-early" % mark)
        cls.containers.append(cls.early)
        time.sleep(0.5)
        # no container runtime here: the agent runs on, without pods, and says why
        with vh.Agent("--node-name", "ct-test", "--cri-endpoint", "unix:///nonexistent/cri.sock",
                      outputs=("json", "compact")) as agent:
            cls.status = agent.status()
            cls.status_text = subprocess.run([vh.VIGIL, "status", "--control", agent.control], capture_output=True,
                                             text=True).stdout
            # created, not started: a subscriber filtering on its id is listening before it runs
            cls.cid = p("create", *p.run_args()[1:], cls.image, "/bin/sh", "-c",
                        "/bin/busybox true %s-run; /bin/sleep 1" % mark)
            cls.containers.append(cls.cid)
            filt = os.path.join(cls.dir, "filtered.json")
            with open(filt, "w") as out:
                sub = subprocess.Popen([vh.VIGIL, "getevents", "--bus", agent.bus, "--allow",
                                        json.dumps({"container_id": ["^" + cls.cid[:12]]})], stdout=out)
                time.sleep(0.5)
                p("start", "--attach", cls.cid)
                # the same binary and arguments on the host
                subprocess.run([BUSYBOX, "true", mark + "-run"], check=True)
                # a process podman exec starts inside the early container, and the one its
                # /proc-scanned shell runs next
                p("exec", cls.early, "/bin/touch", "/tmp/go")
                p("wait", cls.early)
                time.sleep(0.5)
                sub.terminate()
                sub.wait(timeout=10)
            with open(filt) as f:
                cls.filtered = [json.loads(line) for line in f if line.strip()]
            cls.events = agent.events("json")
            cls.compact = agent.events("compact", settle=0)
            cls.final = agent.status()

    def execs(self, events, args):
        return [e["process"] for e in vh.of_type(events, "process_exec") if e["process"].get("arguments") == args]

    def test_exec_in_container_carries_the_id_podman_reports(self):
        procs = self.execs(self.events, "true " + self.mark + "-run")
        inside = [p for p in procs if "docker" in p]
        self.assertEqual(len(inside), 1, procs)
        self.assertEqual(inside[0]["docker"], self.cid[:31])
        self.assertEqual(len(self.cid), 64)

    def test_parent_in_container_carries_it_too(self):
        inside = [p for p in self.execs(self.events, "true " + self.mark + "-run") if "docker" in p]
        execs = vh.of_type(self.events, "process_exec")
        parent = [e["parent"] for e in execs if e["process"] is inside[0]]
        self.assertEqual(parent[0].get("docker"), self.cid[:31])

    def test_same_binary_on_the_host_has_no_container_id(self):
        host = [p for p in self.execs(self.events, "true " + self.mark + "-run") if "docker" not in p]
        self.assertEqual(len(host), 1)
        self.assertEqual(host[0]["binary"], os.path.realpath(BUSYBOX))

    def test_podman_exec_and_procfs_scanned_processes_carry_the_id(self):
        touch = self.execs(self.events, "/tmp/go")
        self.assertEqual([p.get("docker") for p in touch], [self.early[:31]])
        early = [e for e in vh.of_type(self.events, "process_exec")
                 if e["process"].get("arguments") == self.mark + "-early"]
        self.assertEqual(len(early), 1)
        self.assertEqual(early[0]["process"].get("docker"), self.early[:31])
        # the shell it replaced was running before the agent: known from the /proc scan
        scanned = [e["process"] for e in vh.of_type(self.events, "process_exec")
                   if e["process"]["pid"] == early[0]["process"]["pid"] and "procFS" in e["process"]["flags"]]
        self.assertEqual(len(scanned), 1)
        self.assertEqual(scanned[0].get("docker"), self.early[:31])

    def test_container_id_filter_selects_only_that_container(self):
        self.assertTrue(self.filtered)
        for e in self.filtered:
            body = next(iter(v for k, v in e.items() if k.startswith("process_")))
            self.assertEqual(body["process"].get("docker"), self.cid[:31], e)
        self.assertTrue(self.execs(self.filtered, "true " + self.mark + "-run"))

    def test_host_without_runtime_runs_without_pods_and_says_why(self):
        rt = self.status["container_runtime"]
        self.assertFalse(rt["connected"])
        self.assertIn("connect /nonexistent/cri.sock: No such file or directory", rt["error"])
        self.assertIn("container runtime  none: events carry no pod (connect /nonexistent/cri.sock", self.status_text)
        self.assertFalse(any("pod" in e.get("process_exec", {}).get("process", {}) for e in self.events))

    def test_status_names_the_cgroup_v2_mount_and_counts_lookups(self):
        self.assertTrue(self.status["cgroup_v2"].startswith("/sys/fs/cgroup"), self.status["cgroup_v2"])
        c = self.final["counters"]
        self.assertGreater(c["cgroup_lookups"], 0)
        self.assertGreater(c["cgroup_resolved"], 0)
        self.assertGreaterEqual(c["cgroup_containers_cached"], 2)


@vh.require_root
class ContainerdPods(unittest.TestCase):
    """containerd's CRI plugin: a pod sandbox (its pause process) and a container in it,
    made through the CRI API; their cgroups follow containerd's cgroupfs layout under the
    pod's cgroup parent (/vigil-kubepods/pod<uid>/<id>)."""

    @classmethod
    def setUpClass(cls):
        cls.mark = "vigil-cri-" + uuid.uuid4().hex[:12]
        cls.uid = str(uuid.uuid4())
        with crihost.Containerd() as ctd:
            # a pod the agent finds at start, and one created while it runs
            cls.pod = ctd.run_pod("web-6f87496b94-qdlh8", "team-a", cls.uid,
                                  {"app": "web", "pod-template-hash": "6f87496b94"})
            port = vh.free_port()
            with vh.Agent("--node-name", "cri-test", "--cri-endpoint", ctd.sock,
                          "--metrics-server", "127.0.0.1:%d" % port, outputs=("json", "compact")) as agent:
                filt = os.path.join(ctd.dir, "filtered.json")
                with open(filt, "w") as out:
                    sub = subprocess.Popen([vh.VIGIL, "getevents", "--bus", agent.bus, "--namespace", "team-b"],
                                           stdout=out)
                    time.sleep(0.5)
                    cls.cid = ctd.run_container(cls.pod, "app", "/bin/sh", "-c",
                                                "/bin/sleep 0.5; /bin/busybox true %s-a" % cls.mark)
                    cls.pod_b = ctd.run_pod("db-0", "team-b", str(uuid.uuid4()),
                                            {"app": "db", "statefulset.kubernetes.io/pod-name": "db-0"})
                    cls.cid_b = ctd.run_container(cls.pod_b, "db", "/bin/sh", "-c",
                                                  "/bin/sleep 0.5; /bin/busybox true %s-b" % cls.mark)
                    time.sleep(1.5)
                    sub.terminate()
                    sub.wait(timeout=10)
                with open(filt) as f:
                    cls.filtered = [json.loads(line) for line in f if line.strip()]
                cls.status = agent.status()
                cls.events = agent.events("json")
                cls.compact = agent.events("compact", settle=0)
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
                    cls.prom = r.read().decode()

    def exec_of(self, events, args):
        return [e["process"] for e in vh.of_type(events, "process_exec") if e["process"].get("arguments") == args]

    def test_container_exec_carries_the_cri_container_id(self):
        procs = self.exec_of(self.events, "true %s-a" % self.mark)
        self.assertEqual([p.get("docker") for p in procs], [self.cid[:31]])

    def test_container_exec_carries_its_pod_as_tetragon_prints_it(self):
        pod = self.exec_of(self.events, "true %s-a" % self.mark)[0]["pod"]
        self.assertEqual(pod["namespace"], "team-a")
        self.assertEqual(pod["name"], "web-6f87496b94-qdlh8")
        self.assertEqual(pod["uid"], self.uid)
        self.assertEqual(pod["container"]["id"], "containerd://" + self.cid)
        self.assertEqual(pod["container"]["name"], "app")
        self.assertEqual(pod["container"]["image"]["name"], crihost.IMAGE)
        self.assertTrue(pod["container"]["image"]["id"])
        self.assertIn("start_time", pod["container"])
        self.assertEqual(pod["pod_labels"], {"app": "web", "pod-template-hash": "6f87496b94"})
        self.assertEqual((pod["workload"], pod["workload_kind"]), ("web", "Deployment"))

    def test_pod_created_while_running_is_found(self):
        pod = self.exec_of(self.events, "true %s-b" % self.mark)[0]["pod"]
        self.assertEqual((pod["namespace"], pod["name"], pod["container"]["name"]), ("team-b", "db-0", "db"))
        self.assertEqual((pod["workload"], pod["workload_kind"]), ("db", "StatefulSet"))

    def test_host_process_has_no_pod(self):
        host = [e["process"] for e in vh.of_type(self.events, "process_exec")
                if "getevents" in e["process"].get("arguments", "")]
        self.assertTrue(host)
        self.assertTrue(all("pod" not in p for p in host))

    def test_compact_names_namespace_and_pod(self):
        lines = [l for l in self.compact if l.endswith("true %s-a" % self.mark) and "process" in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(" team-a/web-6f87496b94-qdlh8 /bin/busybox ", lines[0])

    def test_getevents_namespace_shows_only_that_namespace(self):
        self.assertTrue(self.exec_of(self.filtered, "true %s-b" % self.mark))
        for e in self.filtered:
            body = next(iter(v for k, v in e.items() if k.startswith("process_")))
            self.assertEqual(body["process"]["pod"]["namespace"], "team-b", e)

    def test_metrics_count_events_by_namespace_pod_and_workload(self):
        keys = [k for k in self.status["metrics"] if k.startswith("vigil_events_total{")]
        self.assertTrue(any('namespace="team-a",pod="web-6f87496b94-qdlh8",workload="web"' in k for k in keys), keys)

    def test_tetragon_metrics_carry_namespace_pod_and_workload(self):
        want = 'namespace="team-a",node_name="cri-test",pod="web-6f87496b94-qdlh8",type="PROCESS_EXEC",workload="web"'
        lines = [l for l in self.prom.splitlines() if l.startswith("tetragon_events_total{")]
        self.assertTrue(any(want in l for l in lines), lines)
        # the host's own processes stay in rows with the labels empty
        self.assertTrue(any('namespace="",node_name="cri-test",pod=""' in l for l in lines), lines)
        execs = [l for l in self.prom.splitlines() if l.startswith("tetragon_process_exec_total{")]
        self.assertTrue(any('namespace="team-b",node_name="cri-test",pod="db-0",workload="db"' in l
                            for l in execs), execs)

    def test_status_names_the_runtime(self):
        rt = self.status["container_runtime"]
        self.assertTrue(rt["connected"], rt)
        self.assertTrue(rt["runtime"].startswith("containerd"), rt)
        self.assertEqual(rt["pods"], 2)

    def test_sandbox_pause_process_carries_the_sandbox_id(self):
        pause = [e["process"] for e in vh.of_type(self.events, "process_exec")
                 if e["process"].get("arguments") == "100000" and e["process"].get("docker") == self.pod[:31]]
        self.assertEqual(len(pause), 1)


SCOPED_POLICY = """\
apiVersion: cilium.io/v1alpha1
kind: %(kind)s
metadata:
  name: "%(name)s"
%(namespace)sspec:
%(selector)s  tracepoints:
  - subsystem: "sched"
    event: "sched_process_exec"
    raw: true
    args:
    - index: 2
      type: "linux_binprm"
    selectors:
    - matchArgs:
      - index: 2
        operator: "Postfix"
        values: ["/%(victim)s"]
      matchActions:
      - action: Sigkill
"""


@vh.require_root
class ScopedPolicies(unittest.TestCase):
    """Policies scoped to workloads, decided in the kernel: a TracingPolicyNamespaced kills
    in its namespace and leaves the same binary in another namespace and on the host alone;
    a podSelector follows a pod created after the policy; a containerSelector picks one
    container of a pod."""

    @classmethod
    def setUpClass(cls):
        marker = os.path.join(vh.PROGS, "marker")
        cls.tmp = tempfile.mkdtemp(prefix="vigil-scoped-")
        names = ("victim-ns", "victim-pod", "victim-ctr")
        host = {n: os.path.join(cls.tmp, n) for n in names}
        for path in host.values():
            shutil.copy(marker, path)
        policies = os.path.join(cls.tmp, "policies")
        os.makedirs(policies)
        docs = {
            "ns": {"kind": "TracingPolicyNamespaced", "name": "kill-in-team-a", "namespace": "  namespace: team-a\n",
                   "selector": "", "victim": "victim-ns"},
            "pod": {"kind": "TracingPolicy", "name": "kill-in-late-pods", "namespace": "",
                    "selector": "  podSelector:\n    matchLabels:\n      app: late\n"
                                "    matchExpressions:\n    - {key: tier, operator: NotIn, values: [safe]}\n",
                    "victim": "victim-pod"},
            "ctr": {"kind": "TracingPolicy", "name": "kill-in-sidecars", "namespace": "",
                    "selector": "  containerSelector:\n    matchLabels:\n      name: sidecar\n",
                    "victim": "victim-ctr"},
        }
        for k, d in docs.items():
            with open(os.path.join(policies, k + ".yaml"), "w") as f:
                f.write(SCOPED_POLICY % d)
        run = "/bin/sleep 1.5; /bin/%s /tmp/ran; /bin/busybox true done-%s"
        try:
            with crihost.Containerd(extra={"/bin/" + n: host[n] for n in names}) as ctd:
                a = ctd.run_pod("a-1", "team-a", str(uuid.uuid4()), {"app": "early"})
                b = ctd.run_pod("b-1", "team-b", str(uuid.uuid4()), {"app": "early"})
                with vh.Agent("--node-name", "scoped", "--cri-endpoint", ctd.sock,
                              "--tracing-policy-dir", policies) as agent:
                    cls.status = agent.status()
                    # created after the policies
                    late = ctd.run_pod("late-1", "team-b", str(uuid.uuid4()), {"app": "late"})
                    safe = ctd.run_pod("late-2", "team-b", str(uuid.uuid4()), {"app": "late", "tier": "safe"})
                    cls.ids = {
                        "a-ns": ctd.run_container(a, "app", "/bin/sh", "-c", run % ("victim-ns", "a-ns")),
                        "b-ns": ctd.run_container(b, "app", "/bin/sh", "-c", run % ("victim-ns", "b-ns")),
                        "late-pod": ctd.run_container(late, "app", "/bin/sh", "-c", run % ("victim-pod", "late-pod")),
                        "safe-pod": ctd.run_container(safe, "app", "/bin/sh", "-c", run % ("victim-pod", "safe-pod")),
                        "b-pod": ctd.run_container(b, "other", "/bin/sh", "-c", run % ("victim-pod", "b-pod")),
                        "a-sidecar": ctd.run_container(a, "sidecar", "/bin/sh", "-c", run % ("victim-ctr", "a-sidecar")),
                        "a-ctr": ctd.run_container(a, "main", "/bin/sh", "-c", run % ("victim-ctr", "a-ctr")),
                    }
                    cls.host_rc = {n: subprocess.run([host[n], os.path.join(cls.tmp, n + ".ran")]).returncode
                                   for n in names}
                    time.sleep(3.0)
                    cls.events = agent.events("json")
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def exit_of(self, key, victim):
        exits = [e for e in vh.of_type(self.events, "process_exit")
                 if e["process"].get("binary") == "/bin/" + victim and e["process"].get("docker") == self.ids[key][:31]]
        self.assertEqual(len(exits), 1, (key, [e["process"].get("docker") for e in vh.of_type(self.events, "process_exit")
                                               if e["process"].get("binary") == "/bin/" + victim]))
        return exits[0]

    def assert_killed(self, key, victim):
        self.assertEqual(self.exit_of(key, victim).get("signal"), "SIGKILL", key)

    def assert_spared(self, key, victim):
        e = self.exit_of(key, victim)
        self.assertNotIn("signal", e, key)
        self.assertNotIn("status", e, key)   # exit 0: marker created its file

    def test_namespaced_policy_kills_in_its_namespace(self):
        self.assert_killed("a-ns", "victim-ns")

    def test_namespaced_policy_spares_another_namespace_and_the_host(self):
        self.assert_spared("b-ns", "victim-ns")
        self.assertEqual(self.host_rc["victim-ns"], 0)

    def test_pod_selector_follows_a_pod_created_after_the_policy(self):
        self.assert_killed("late-pod", "victim-pod")
        self.assert_spared("safe-pod", "victim-pod")
        self.assert_spared("b-pod", "victim-pod")
        self.assertEqual(self.host_rc["victim-pod"], 0)

    def test_container_selector_picks_the_named_container(self):
        self.assert_killed("a-sidecar", "victim-ctr")
        self.assert_spared("a-ctr", "victim-ctr")
        self.assertEqual(self.host_rc["victim-ctr"], 0)

    def test_the_kill_is_reported_with_the_pod(self):
        kp = [e["process_tracepoint"] for e in self.events if "process_tracepoint" in e
              and e["process_tracepoint"].get("policy_name") == "kill-in-team-a"]
        self.assertEqual(len(kp), 1, kp)
        self.assertEqual(kp[0]["action"], "KPROBE_ACTION_SIGKILL")
        self.assertEqual(kp[0]["process"]["pod"]["namespace"], "team-a")


if __name__ == "__main__":
    unittest.main(verbosity=2)
