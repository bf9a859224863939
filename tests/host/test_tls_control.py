#!/usr/bin/env python3
"""The control socket over mutual TLS (tetra's --server-address HOST:PORT and --tls-* flags,
vigild's --server-tls-*), against one real agent.

A throwaway CA, a server certificate and client certificates are made with the openssl
command at test time, plus a second CA whose client certificate carries the admin's very
name. Shown: status, tp list and a real exec event over TLS with good certificates; no
certificate, another CA's certificate, the wrong server name and plain TCP refused and
counted; read-only clients refused what changes the agent, an admin-listed one (by a URI
subjectAltName) allowed; garbage frames, oversized lengths and a connection flood dropped
and counted while the agent keeps serving; and nobody, without key material, reaches
nothing."""
import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tarfile
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

STATUS_REQ = b"\x81\xa3cmd\xa6status"          # msgpack {"cmd": "status"}
MAX_CONNS = 4
ADMIN_URI = "spiffe://vigil.test/ops"
SERVER_NAME = "agent.vigil.test"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".pem", "-subj", "/CN=" + name, "-days", "1", cwd=d)


def make_leaf(d, ca, name, cn, sans):
    """name.pem / name.key signed by ca, subject CN cn, subjectAltName sans (or none)."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=d)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n" + ("subjectAltName=" + sans + "\n" if sans else ""))
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "1", "-extfile", ext, cwd=d)


@vh.require_root
class TlsControl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-tls-")      # root's, 0700: nobody reads the keys
        d = cls.tmp
        make_ca(d, "ca")
        make_ca(d, "rogue-ca")
        make_leaf(d, "ca", "server", "vigil-agent", "DNS:%s,IP:127.0.0.1" % SERVER_NAME)
        make_leaf(d, "ca", "reader", "dashboard", None)
        make_leaf(d, "ca", "siem", "siem", None)
        make_leaf(d, "ca", "ops", "ops-laptop", "URI:" + ADMIN_URI)
        # another CA's certificate with the admin's very names
        make_leaf(d, "rogue-ca", "rogue", "ops-laptop", "URI:" + ADMIN_URI)
        cls.port = vh.free_port()
        cls.address = "127.0.0.1:%d" % cls.port
        cls.marker = os.path.join(d, "vigil-tls-marker")
        shutil.copy("/bin/true", cls.marker)
        cls.journal = os.path.join(d, "journal")
        cls.agent = vh.Agent("--server-address", cls.address,
                             "--server-tls-cert-file", os.path.join(d, "server.pem"),
                             "--server-tls-key-file", os.path.join(d, "server.key"),
                             "--server-tls-client-ca-files", os.path.join(d, "ca.pem"),
                             "--server-tls-admin-names", "someone-else," + ADMIN_URI,
                             "--server-tls-events-names", "siem",
                             "--server-tls-max-connections", str(MAX_CONNS),
                             "--journal-dir", cls.journal, outputs=())
        cls.agent.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.agent.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers ----

    def tls_flags(self, who, ca="ca", name=SERVER_NAME):
        flags = ["--server-address", self.address, "--tls-ca-cert-files", os.path.join(self.tmp, ca + ".pem")]
        if who:
            flags += ["--tls-cert-file", os.path.join(self.tmp, who + ".pem"),
                      "--tls-key-file", os.path.join(self.tmp, who + ".key")]
        if name:
            flags += ["--tls-server-name", name]
        return flags

    def vigil(self, *args, who="reader", timeout=20, **kw):
        r = subprocess.run([vh.VIGIL, *args, *self.tls_flags(who, **kw)], capture_output=True, text=True,
                           timeout=timeout)
        self.assertNotIn("Sanitizer", r.stderr)    # a refusal is a clean exit, in the ASan tree too
        return r

    def counters(self):
        return self.agent.status()["counters"]

    def raw_tls(self, who="reader", ctx=None):
        """A TLS connection of our own (Python's ssl), verified, as who."""
        if not ctx:
            ctx = ssl.create_default_context(cafile=os.path.join(self.tmp, "ca.pem"))
            ctx.load_cert_chain(os.path.join(self.tmp, who + ".pem"), os.path.join(self.tmp, who + ".key"))
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)    # as vigil's client
        return ctx.wrap_socket(s, server_hostname=SERVER_NAME)

    @staticmethod
    def request(conn, body):
        conn.sendall(struct.pack(">I", len(body)) + body)
        head = b""
        while len(head) < 4:
            chunk = conn.recv(4 - len(head))
            if not chunk:
                raise ConnectionError("closed")
            head += chunk
        n = struct.unpack(">I", head)[0]
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def assert_dropped(self, conn):
        """The agent closed conn: a read ends (EOF or a reset), within a second."""
        conn.settimeout(2)
        try:
            self.assertEqual(conn.recv(64), b"")
        except (ConnectionError, ssl.SSLError):
            pass
        conn.close()

    # ---- what the agent refuses to start ----

    def test_0_no_plain_tcp_listener_and_no_tls_without_client_certificates(self):
        d = self.tmp
        cert = ["--server-tls-cert-file", os.path.join(d, "server.pem"),
                "--server-tls-key-file", os.path.join(d, "server.key")]
        cas = ["--server-tls-client-ca-files", os.path.join(d, "ca.pem")]
        for args, why in (([], "no plain TCP"),
                          (cert, "no plain TCP"),
                          (cert + cas + ["--server-tls-require-client-cert=false"], "always required"),
                          (cas, "not given")):
            argv = ([] if why == "not given" else ["--server-address", "127.0.0.1:%d" % vh.free_port()]) + args
            r = subprocess.run([vh.VIGILD, *argv], capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 2, (argv, r.stderr))
            self.assertIn(why, r.stderr, argv)
        # the client will not check a certificate against an empty name
        r = subprocess.run([vh.VIGIL, "status", "--server-address", ":%d" % self.port,
                            "--tls-ca-cert-files", os.path.join(d, "ca.pem")], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--tls-server-name", r.stderr)

    # ---- what works ----

    def test_a_status_and_tp_list_over_tls_with_a_good_client_certificate(self):
        r = self.vigil("status", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["health_status"][0]["details"], "running")
        r = self.vigil("tp", "list", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("policies", json.loads(r.stdout))
        # the address as an IP: the server certificate's IP subjectAltName is checked
        r = self.vigil("status", name=None)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_a_bugtool_over_tls_asks_the_remote_agent_and_leaves_this_machine_out(self):
        out = os.path.join(self.tmp, "bugtool.tar.gz")
        r = self.vigil("bugtool", "--out", out, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with tarfile.open(out) as t:
            files = {os.path.basename(n): n for n in t.getnames()}
            text = {f: t.extractfile(files[f]).read().decode() for f in
                    ("status.txt", "policies.json", "versions.txt", "remote.txt")}
        self.assertIn("status.json", files)
        self.assertIn("Health Status: running", text["status.txt"])      # the children asked over TLS too
        self.assertIn("policies", json.loads(text["policies.json"]))
        self.assertIn("over TLS", text["remote.txt"])
        for local in ("probe.txt", "bpftool-prog.json", "log.txt", "uname.txt"):
            self.assertNotIn(local, files)

    def test_b_request_latency_over_tls(self):
        """Numbers for the report (not asserted: this machine is shared): a request on an
        open connection, and a new connection with its handshake."""
        conn = self.raw_tls()
        times = []
        for _ in range(50):
            t0 = time.perf_counter()
            reply = self.request(conn, STATUS_REQ)
            times.append(time.perf_counter() - t0)
            self.assertIn(b"ok", reply[:8])
        conn.close()
        fresh = []
        ctx = ssl.create_default_context(cafile=os.path.join(self.tmp, "ca.pem"))
        ctx.load_cert_chain(os.path.join(self.tmp, "reader.pem"), os.path.join(self.tmp, "reader.key"))
        for _ in range(10):
            t0 = time.perf_counter()
            c = self.raw_tls(ctx=ctx)
            self.request(c, STATUS_REQ)
            fresh.append(time.perf_counter() - t0)
            c.close()
        cli = {}     # the client's CPU time (user + system), which the machine's load does not inflate
        for name, argv in (("local", ["--control", self.agent.control]), ("tls", self.tls_flags("reader"))):
            t0 = os.times()
            for _ in range(10):
                subprocess.run([vh.VIGIL, "status", *argv], check=True, capture_output=True)
            t1 = os.times()
            cli[name] = (t1.children_user + t1.children_system - t0.children_user - t0.children_system) / 10
        times.sort()
        fresh.sort()
        print("status over TLS: median %.2f ms on an open connection, %.2f ms with a new handshake; "
              "`vigil status` takes %.1f ms of CPU locally, %.1f ms over TLS"
              % (times[len(times) // 2] * 1e3, fresh[len(fresh) // 2] * 1e3, cli["local"] * 1e3, cli["tls"] * 1e3),
              file=sys.stderr)

    def test_c_getevents_over_tls_receives_a_real_exec_event(self):
        p = subprocess.Popen([vh.VIGIL, "getevents", "-o", "json", "--process", self.marker, "--count", "1",
                              *self.tls_flags("siem")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while p.poll() is None and time.time() < deadline:
            subprocess.run([self.marker])      # until the stream is up and the event arrived
            time.sleep(0.1)
        if p.poll() is None:
            p.kill()
        out, err = p.communicate(timeout=5)
        self.assertEqual(p.returncode, 0, err)
        event = json.loads(out.splitlines()[0])
        self.assertEqual(event["process_exec"]["process"]["binary"], self.marker)
        self.assertGreaterEqual(self.counters()["control_tls_subscribers"], 1)
        # the journal's cursor over TLS too (--reliable --from-seq 0: the oldest kept)
        r = subprocess.run([vh.VIGIL, "getevents", "-o", "json", "--from-seq", "0", "--process", self.marker,
                            "--count", "1", *self.tls_flags("siem")], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout.splitlines()[0])["process_exec"]["process"]["binary"], self.marker)
        # a read-only certificate may not stream events, nor read the journal
        for how in ([], ["--from-seq", "0"]):
            r = subprocess.run([vh.VIGIL, "getevents", "--count", "1", "--duration", "5s", *how,
                                *self.tls_flags("reader")], capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 1, how)
            self.assertIn("permission denied", r.stderr, how)
            self.assertIn("--server-tls-events-names", r.stderr, how)

    # ---- who is refused ----

    def test_d_no_cert_another_ca_the_wrong_name_and_plain_tcp_are_refused_and_counted(self):
        before = self.counters()["control_tls_handshake_failed"]
        r = self.vigil("status", who=None)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("certificate required", r.stderr)
        r = self.vigil("status", who="rogue")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown ca", r.stderr)
        r = self.vigil("status", name="wrong.vigil.test")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("hostname mismatch", r.stderr)
        # the client checks the server too: a server of another CA is not believed
        r = self.vigil("status", ca="rogue-ca")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("certificate verify failed", r.stderr)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"GET /status HTTP/1.0\r\n\r\n")
            s.settimeout(5)
            try:
                while s.recv(4096):
                    pass
            except ConnectionError:
                pass
        for _ in range(20):     # each refusal is counted by its connection's thread
            if self.counters()["control_tls_handshake_failed"] - before >= 5:
                break
            time.sleep(0.1)
        self.assertEqual(self.counters()["control_tls_handshake_failed"] - before, 5)

    def test_e_read_only_client_cannot_change_the_agent_the_admin_can(self):
        policy = os.path.join(self.tmp, "tls-exec.yaml")
        with open(policy, "w") as f:
            f.write(vh.exec_policy("tls-exec", self.marker))
        before = self.counters()["control_refused"]
        for args in (["tp", "add", policy], ["loglevel", "set", "debug"]):
            r = self.vigil(*args)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn("permission denied", r.stderr, args)
            self.assertIn("--server-tls-admin-names", r.stderr, args)
        # an events name is no admin name either
        self.assertNotEqual(self.vigil("loglevel", "set", "debug", who="siem").returncode, 0)
        self.assertEqual(self.counters()["control_refused"] - before, 3)
        listing = json.loads(self.vigil("tp", "list", "-o", "json").stdout)
        self.assertNotIn("tls-exec", [p["name"] for p in listing.get("policies", [])])
        r = self.vigil("loglevel", "set", "debug", who="ops")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.vigil("loglevel", "set", "info", who="ops").returncode, 0)
        r = self.vigil("tp", "add", policy, who="ops", timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        listing = json.loads(self.vigil("tp", "list", "-o", "json").stdout)
        self.assertIn("tls-exec", [p["name"] for p in listing["policies"]])
        self.assertEqual(self.vigil("tp", "delete", "tls-exec", who="ops").returncode, 0)

    # ---- what a hostile peer gets ----

    def test_f_garbage_frames_and_oversized_lengths_are_dropped_and_counted(self):
        before = self.counters()["control_tls_bad_frames"]
        conn = self.raw_tls()
        conn.sendall(struct.pack(">I", 0xFFFFFFFF) + b"x" * 16)     # 4 GiB announced
        self.assert_dropped(conn)
        conn = self.raw_tls()
        conn.sendall(struct.pack(">I", 6) + b"\x00\x01\xc1junk")   # not one msgpack map
        self.assert_dropped(conn)
        conn = self.raw_tls()
        conn.sendall(struct.pack(">I", 0))                         # empty
        self.assert_dropped(conn)
        conn = self.raw_tls()
        conn.sendall(struct.pack(">I", 5) + b"\xdf\xff\xff\xff\xff")  # a map32 of 4 G entries
        self.assert_dropped(conn)
        self.assertEqual(self.counters()["control_tls_bad_frames"] - before, 4)
        # the agent goes on serving, over TLS and locally
        self.assertEqual(self.vigil("status").returncode, 0)

    def test_g_a_connection_flood_is_bounded_and_counted(self):
        before = self.counters()
        held = [socket.create_connection(("127.0.0.1", self.port), timeout=5) for _ in range(MAX_CONNS)]
        try:
            time.sleep(0.5)
            extra = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            extra.settimeout(3)
            try:
                self.assertEqual(extra.recv(16), b"")       # closed at once, not held
            except ConnectionError:
                pass
            extra.close()
            self.assertEqual(self.counters()["control_tls_busy"] - before["control_tls_busy"], 1)
            # the local socket is not affected by a network flood
            self.assertEqual(subprocess.run([vh.VIGIL, "status", "--control", self.agent.control],
                                            capture_output=True).returncode, 0)
        finally:
            for s in held:
                s.close()
        # once the flood goes, clients are served again
        for _ in range(50):
            if self.counters()["control_tls_open"] == 0:
                break
            time.sleep(0.1)
        self.assertEqual(self.vigil("status").returncode, 0)

    def test_h_nobody_without_key_material_reaches_nothing(self):
        nobody = pwd.getpwnam("nobody")
        as_nobody = ["setpriv", "--reuid", str(nobody.pw_uid), "--regid", str(nobody.pw_gid), "--clear-groups", "--"]
        tries = [
            # no certificate at all, with the system's CAs or none
            [vh.VIGIL, "status", "--server-address", self.address],
            [vh.VIGIL, "status", "--server-address", self.address, "--tls-skip-verify"],
            [vh.VIGIL, "getevents", "--count", "1", "--duration", "3s", "--server-address", self.address,
             "--tls-skip-verify"],
            # root's key files, which nobody cannot read
            [vh.VIGIL, "tp", "list"] + self.tls_flags("ops"),
            # the local socket, in root's 0700 directory
            [vh.VIGIL, "status", "--server-address", self.agent.control],
        ]
        for argv in tries:
            r = subprocess.run(as_nobody + argv, capture_output=True, text=True, timeout=20)
            self.assertNotEqual(r.returncode, 0, argv)
            self.assertNotIn("Sanitizer", r.stderr, argv)
            self.assertNotIn("running", r.stdout, argv)
            self.assertNotIn("process_exec", r.stdout, argv)

    def wait_counter(self, key, at_least):
        for _ in range(50):
            if self.counters()[key] >= at_least:
                return
            time.sleep(0.1)
        self.fail("%s never reached %d" % (key, at_least))

    def peer_cert(self, conn):
        return conn.getpeercert(binary_form=True)

    def test_i_sighup_reads_renewed_certificates_and_keeps_serving_on_bad_ones(self):
        """A renewed server certificate (same paths, new contents) serves from the next
        handshake after SIGHUP; a connection opened before keeps working; files that do
        not load are refused, counted, and the last good certificate keeps serving."""
        d, before = self.tmp, self.counters()
        old_conn = self.raw_tls()
        old_cert = self.peer_cert(old_conn)
        make_leaf(d, "ca", "server2", "vigil-agent", "DNS:%s,IP:127.0.0.1" % SERVER_NAME)
        for ext in ("pem", "key"):      # as a renewal writes them: a new file renamed over the old
            shutil.copy(os.path.join(d, "server2." + ext), os.path.join(d, "server.new"))
            os.rename(os.path.join(d, "server.new"), os.path.join(d, "server." + ext))
        self.agent.proc.send_signal(signal.SIGHUP)
        self.wait_counter("control_tls_reloads", before["control_tls_reloads"] + 1)
        conn = self.raw_tls()
        renewed = self.peer_cert(conn)
        self.assertNotEqual(renewed, old_cert)
        with open(os.path.join(d, "server2.pem")) as f:
            self.assertEqual(ssl.DER_cert_to_PEM_cert(renewed).strip(), f.read().strip())
        self.assertIn(b"running", self.request(conn, STATUS_REQ))
        conn.close()
        self.assertIn(b"running", self.request(old_conn, STATUS_REQ))   # opened before: still served
        old_conn.close()
        # a half-written certificate: refused, counted, the renewed one still serves
        with open(os.path.join(d, "server.pem"), "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\ntruncated\n")
        self.agent.proc.send_signal(signal.SIGHUP)
        self.wait_counter("control_tls_reload_failed", before["control_tls_reload_failed"] + 1)
        conn = self.raw_tls()
        self.assertEqual(self.peer_cert(conn), renewed)
        conn.close()
        self.assertEqual(self.vigil("status").returncode, 0)
        self.assertEqual(self.counters()["control_tls_reloads"], before["control_tls_reloads"] + 1)
        shutil.copy(os.path.join(d, "server2.pem"), os.path.join(d, "server.pem"))
        self.assertIn("reload failed", self.agent.read_log())

    def test_j_one_client_address_is_rate_limited_before_the_handshake_and_its_requests_wait(self):
        """--server-tls-client-rate per address (an agent of its own at 5 a second, 10 in a
        burst, so that a slow accept loop, as under ASan, cannot refill it as fast as the
        flood comes): a flood of connections from one address is closed before any
        handshake and counted; a verified client's request storm is slowed, never refused;
        the address is served again once its bucket refills."""
        d, port = self.tmp, vh.free_port()
        with vh.Agent("--server-address", "127.0.0.1:%d" % port,
                      "--server-tls-cert-file", os.path.join(d, "server.pem"),
                      "--server-tls-key-file", os.path.join(d, "server.key"),
                      "--server-tls-client-ca-files", os.path.join(d, "ca.pem"),
                      "--server-tls-client-rate", "5", outputs=()) as agent:
            t0 = time.monotonic()
            for _ in range(60):
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
            flood_s = time.monotonic() - t0
            time.sleep(0.3)
            c = agent.status()["counters"]
            self.assertEqual(c["control_tls_accepted"], 60)
            # at most the burst and what refilled meanwhile got through
            self.assertGreaterEqual(c["control_tls_rate_limited"], 60 - 10 - int(5 * (flood_s + 0.3)) - 1, flood_s)
            self.assertEqual(c["control_tls_rate_limited"] + c["control_tls_handshake_failed"] + c["control_tls_busy"],
                             60)
            time.sleep(2.1)         # the bucket refills: served again
            ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
            ctx.load_cert_chain(os.path.join(d, "reader.pem"), os.path.join(d, "reader.key"))
            conn = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                                   server_hostname=SERVER_NAME)
            t0 = time.monotonic()
            for _ in range(15):     # 9 in hand after the handshake's token: 6 wait 0.2 s each
                self.assertIn(b"running", self.request(conn, STATUS_REQ))
            storm_s = time.monotonic() - t0
            conn.close()
            self.assertGreater(agent.status()["counters"]["control_tls_throttled"], 0)
            self.assertGreater(storm_s, 0.9)
            self.assertEqual(agent.stop(), 0)

    def test_z_the_agent_stops_cleanly_after_all_that(self):
        """Under ASan/UBSan (the build-asan lane) a leak or a bad access in the listener, its
        connection threads or the relay would show here."""
        open_now = self.counters()["control_tls_open"]
        self.assertLessEqual(open_now, 1)          # at most a connection still closing
        self.assertEqual(self.agent.stop(), 0, self.agent.read_log()[-3000:])
        log = self.agent.read_log()
        self.assertNotIn("Sanitizer", log)
        self.assertNotIn("runtime error", log)


if __name__ == "__main__":
    vh.main()
