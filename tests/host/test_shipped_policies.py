"""Host lane: every policy in rules/policies loads on this kernel, fires on the activity it
is written for, and leaves a close innocent neighbour alone. (The enforcement policies have
their own tests in test_enforcement.py.) All traffic stays on the loopback.
"""
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

SOURCE = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
POLICIES = os.path.join(SOURCE, "rules", "policies")
MARKER = os.path.join(vh.PROGS, "marker")
CAPRAISE = os.path.join(vh.PROGS, "capraise")
PY = sys.executable
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def pyrun(code, prefix=()):
    """Run python code in a child; return its pid and exit code."""
    p = subprocess.Popen(list(prefix) + [PY, "-c", code])
    p.wait()
    return p.pid, p.returncode


@vh.require_root
class ShippedPolicies(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        t = cls.tmp = tempfile.mkdtemp(prefix="vigil-shipped-")
        os.chmod(t, 0o755)
        # the deny list of deny-outbound-cidr, pointed at the loopback for the test
        local = os.path.join(t, "deny-local.yaml")
        with open(os.path.join(POLICIES, "deny-outbound-cidr.yaml")) as f:
            text = f.read().replace('"deny-outbound-cidr"', '"deny-outbound-local"')
        assert '["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"]' in text, "the shipped deny list changed: update this copy"
        text = text.replace('["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"]', '["127.0.0.2/32"]')
        with open(local, "w") as f:
            f.write(text)
        cls.tmpexe = os.path.join(t, "dropped")
        shutil.copy(MARKER, cls.tmpexe)
        cls.capexe = os.path.join(t, "capraise")
        cls.capexe_plain = os.path.join(t, "capraise-plain")
        shutil.copy(CAPRAISE, cls.capexe)
        shutil.copy(CAPRAISE, cls.capexe_plain)
        subprocess.run(["setcap", "cap_sys_admin+p", cls.capexe], check=True)
        mnt = os.path.join(t, "mnt")
        os.mkdir(mnt)
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]

        r = cls.r = {}
        with vh.Agent("--tracing-policy-dir", POLICIES, "--tracing-policy", local, outputs=("json",)) as agent:
            cls.policies = agent.status()["policies"]
            # write-etc-boot
            p = subprocess.run(["sh", "-c", "echo x > /etc/vigil-shipped-test; rm -f /etc/vigil-shipped-test"])
            r["etc_read_pid"] = subprocess.Popen(["cat", "/etc/hostname"], stdout=subprocess.DEVNULL).pid
            # kernel-module-load: finit_module(-1) fails with EBADF after the hook saw it
            r["mod_pid"], _ = pyrun("import ctypes; ctypes.CDLL(None).syscall(313, -1, b'', 0)")
            r["mod_innocent_pid"], _ = pyrun("import os; os.getpid()")
            # ptrace-attach
            victim = subprocess.Popen(["sleep", "5"])
            r["ptrace_pid"], _ = pyrun("import ctypes, time; l = ctypes.CDLL(None); "
                                       "l.ptrace(16, %d, 0, 0); time.sleep(0.1); l.ptrace(17, %d, 0, 0)"
                                       % (victim.pid, victim.pid))
            r["peek_pid"], _ = pyrun("import ctypes; ctypes.CDLL(None).ptrace(2, %d, 0, 0)" % victim.pid)
            victim.kill()
            victim.wait()
            # bpf-load-unprivileged: BPF_PROG_LOAD with no attr fails; the call is what counts
            r["bpf_nobody_pid"], _ = pyrun("import ctypes; ctypes.CDLL(None).syscall(321, 5, 0, 0)", NOBODY)
            r["bpf_root_pid"], _ = pyrun("import ctypes; ctypes.CDLL(None).syscall(321, 5, 0, 0)")
            # mount-in-container
            r["mount_ns_rc"] = subprocess.run(["unshare", "--mount", "--fork", "mount", "-t", "tmpfs", "vigiltest",
                                               mnt]).returncode
            r["mount_host_rc"] = subprocess.run(["mount", "-t", "tmpfs", "vigilhost", mnt]).returncode
            subprocess.run(["umount", mnt])
            # deny-outbound-cidr (loopback copy)
            for addr, key in ((("127.0.0.2", 9), "deny"), (("127.0.0.3", 9), "allow")):
                s = socket.socket()
                try:
                    s.connect(addr)
                    r["connect_" + key] = "connected"
                except OSError as e:
                    r["connect_" + key] = e.errno
                s.close()
            # exec-from-tmp
            r["tmp_exec_rc"] = subprocess.run([cls.tmpexe, os.path.join(t, "dropped.marker")]).returncode
            r["true_pid"] = subprocess.Popen(["/usr/bin/true"]).pid
            # reverse-shell-connect: bash dials out through /dev/tcp; python does not count
            r["bash_rc"] = subprocess.run(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/%d" % port]).returncode
            r["py_connect_pid"], _ = pyrun("import socket; socket.create_connection(('127.0.0.1', %d))" % port)
            # lua-network, observed from the cgroup connect programs: user nobody's connect, and
            # nobody's TCP Fast Open sendto, which opens a connection with no connect() syscall
            cls.port = port
            r["nobody_connect_pid"], _ = pyrun("import socket; socket.create_connection(('127.0.0.1', %d))" % port,
                                               NOBODY)
            r["tfo_pid"], r["tfo_rc"] = pyrun("import socket; s = socket.socket(); "
                                              "s.sendto(b'x', socket.MSG_FASTOPEN, ('127.0.0.1', %d))" % port, NOBODY)
            # setuid-exec and detect-privilege-escalation
            r["su_host"] = subprocess.run(["/usr/bin/su", "--version"], capture_output=True).returncode
            r["su_ns"] = subprocess.run(["unshare", "--pid", "--fork", "/usr/bin/su", "--version"],
                                        capture_output=True).returncode
            r["id_pid"] = subprocess.Popen(["/usr/bin/id"], stdout=subprocess.DEVNULL).pid
            # capability-gain: +p file capability raised to effective after exec, as nobody
            r["cap_rc"] = subprocess.run(NOBODY + [cls.capexe]).returncode
            r["cap_plain_rc"] = subprocess.run(NOBODY + [cls.capexe_plain]).returncode
            cls.events = agent.events("json")
        server.close()
        shutil.rmtree(t, ignore_errors=True)

    def of(self, name):
        out = []
        for e in self.events:
            for k in ("process_kprobe", "process_tracepoint", "process_lsm"):
                if k in e and e[k]["policy_name"] == name:
                    out.append(e[k])
        return out

    def pids(self, name):
        return {e["process"]["pid"] for e in self.of(name)}

    def test_all_shipped_policies_load_on_this_kernel(self):
        names = {p["name"] for p in self.policies}
        shipped = {f[:-5] for f in os.listdir(POLICIES) if f.endswith(".yaml")}
        self.assertLessEqual(shipped, names)

    def test_write_under_etc_reported_read_not(self):
        paths = [e["args"][0]["string_arg"] for e in self.of("write-etc-boot")]
        self.assertIn("/etc/vigil-shipped-test", paths)
        self.assertNotIn(self.r["etc_read_pid"], self.pids("write-etc-boot"))

    def test_module_load_reported_other_syscalls_not(self):
        self.assertIn(self.r["mod_pid"], self.pids("kernel-module-load"))
        self.assertNotIn(self.r["mod_innocent_pid"], self.pids("kernel-module-load"))

    def test_ptrace_attach_reported_peek_not(self):
        evs = [e for e in self.of("ptrace-attach") if e["process"]["pid"] == self.r["ptrace_pid"]]
        self.assertEqual(len(evs), 1)
        self.assertEqual(evs[0]["args"][0], {"long_arg": "16", "label": "request"})
        self.assertNotIn(self.r["peek_pid"], self.pids("ptrace-attach"))

    def test_bpf_load_without_caps_reported_root_not(self):
        self.assertIn(self.r["bpf_nobody_pid"], self.pids("bpf-load-unprivileged"))
        self.assertNotIn(self.r["bpf_root_pid"], self.pids("bpf-load-unprivileged"))

    def test_mount_in_new_mount_namespace_reported_host_mount_not(self):
        self.assertEqual(self.r["mount_ns_rc"], 0)
        self.assertEqual(self.r["mount_host_rc"], 0)
        # unshare's own mount(NULL, "/", MS_PRIVATE) comes first, with unreadable NULL strings
        sources = [e["args"][0].get("string_arg") for e in self.of("mount-in-container")]
        self.assertIn("vigiltest", sources)
        self.assertNotIn("vigilhost", sources)

    def test_connect_to_denied_network_fails_with_eperm_others_untouched(self):
        import errno
        self.assertEqual(self.r["connect_deny"], errno.EPERM)
        self.assertEqual(self.r["connect_allow"], errno.ECONNREFUSED)
        evs = self.of("deny-outbound-local")
        self.assertEqual(len(evs), 1)
        self.assertEqual(evs[0]["action"], "KPROBE_ACTION_OVERRIDE")
        self.assertEqual(evs[0]["args"][0], {"sockaddr_arg": {"family": "AF_INET", "addr": "127.0.0.2", "port": 9},
                                             "label": "address"})

    def test_shipped_deny_list_leaves_the_package_mirrors_reachable(self):
        """This network answers deb.debian.org and registry.npmjs.org with 203.0.113.80, in
        RFC 5737's TEST-NET-3, which the example denied: loaded in enforce mode it cut the
        machine off its package mirrors."""
        import ipaddress
        import re
        with open(os.path.join(POLICIES, "deny-outbound-cidr.yaml")) as f:
            values = re.search(r'values: \[(.*)\]', f.read()).group(1)
        nets = [ipaddress.ip_network(v.strip(' "')) for v in values.split(",")]
        self.assertTrue(nets)
        for host in ("deb.debian.org", "registry.npmjs.org"):
            try:
                addrs = {a[4][0] for a in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)}
            except socket.gaierror:
                continue	# no resolver here: nothing to cut off
            for a in addrs:
                self.assertFalse(any(ipaddress.ip_address(a) in n for n in nets), (host, a, values))

    def test_exec_from_tmp_reported_usr_bin_not(self):
        self.assertEqual(self.r["tmp_exec_rc"], 0)
        paths = [e["args"][0]["linux_binprm_arg"]["path"] for e in self.of("exec-from-tmp")]
        self.assertIn(self.tmpexe, paths)
        self.assertNotIn(self.r["true_pid"], self.pids("exec-from-tmp"))

    def test_shell_connecting_out_reported_python_not(self):
        self.assertEqual(self.r["bash_rc"], 0)
        evs = self.of("reverse-shell-connect")
        self.assertTrue(any(e["process"]["binary"].endswith("bash") for e in evs), evs)
        self.assertNotIn(self.r["py_connect_pid"], self.pids("reverse-shell-connect"))

    def test_connects_observed_from_cgroup_programs_fast_open_too(self):
        hooks = {h["hook"]: h for p in self.policies if p["name"] == "lua-network" for h in p["hooks"]}
        self.assertIn("cgroup connect4/connect6", hooks["tracepoint syscalls/sys_enter_connect"]["mechanism"])
        self.assertEqual(self.r["tfo_rc"], 0)
        want = {"sockaddr_arg": {"family": "AF_INET", "addr": "127.0.0.1", "port": self.port}, "label": "addr"}
        for key in ("nobody_connect_pid", "tfo_pid"):
            evs = [e for e in self.of("lua-network") if e["process"]["pid"] == self.r[key]]
            self.assertEqual(len(evs), 1, (key, evs))
            self.assertEqual(evs[0]["args"][0], want)
            self.assertEqual(evs[0]["process"]["uid"], 65534)

    def test_setuid_program_exec_reported_id_not(self):
        self.assertEqual(self.r["su_host"], 0)
        self.assertTrue(any(e["args"][0]["linux_binprm_arg"]["path"] == "/usr/bin/su" for e in self.of("setuid-exec")))
        self.assertNotIn(self.r["id_pid"], self.pids("setuid-exec"))

    def test_su_in_container_is_escalation_su_on_host_is_not(self):
        evs = self.of("detect-privilege-escalation")
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]["args"][0]["linux_binprm_arg"]["path"], "/usr/bin/su")

    def test_capability_raised_after_exec_reported_plain_binary_not(self):
        self.assertEqual(self.r["cap_rc"], 0)
        bins = [e["process"]["binary"] for e in self.of("capability-gain")]
        self.assertIn(self.capexe, bins)
        self.assertNotIn(self.capexe_plain, bins)


if __name__ == "__main__":
    vh.main()
