"""Host lane: GetUrl and DnsLookup, the actions the agent carries out in user space.

A selector with GetUrl makes the agent GET argUrl from a local HTTP listener, one with
DnsLookup makes it send an A query for argFqdn to a local DNS responder (--dns-lookup-server):
both written here with the python stdlib, on loopback. The events say KPROBE_ACTION_GETURL /
KPROBE_ACTION_DNSLOOKUP as Tetragon's do.

https: two TLS listeners with self-signed certificates (openssl), the agent told to trust the
first one's (--get-url-ca-file): the first gets its GET, the second none (its certificate does
not verify, so no request is made: counted failed). They sit in a policy of their own, whose
rate-limit bucket is not the loop's.

Metrics: the canary counters are served on /metrics as vigil_canary_requests_total{kind,result},
the same numbers `vigil status` gives.

Abuse: a real unprivileged user triggers the GetUrl selector 20,000 times in a loop. The
agent may not become a request flood: the listener sees at most the policy's burst plus its
refill over the loop's duration, the rest is counted (canary_rate_limited), the events of
the loop still come out, and the agent keeps answering its control socket meanwhile.
"""
import http.server
import os
import pwd
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

PID = os.getpid()
BURST, PER_MINUTE = 5, 30	# core/canary/canary.h
LOOPS = 20000
FIRST = 4	# the requests before the loop: one per selector (url, dns, https trusted, untrusted)


class Listener(http.server.ThreadingHTTPServer):
    def __init__(self, cert=None):
        self.paths = []
        self.cert = cert

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(h):
                self.paths.append((time.monotonic(), h.path))
                h.send_response(204)
                h.end_headers()

            def log_message(h, *a):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        if cert:	# TLS: the handshake runs in the handler's thread, on first read
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert[0], cert[1])
            self.socket = ctx.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def handle_error(self, request, client_address):
        pass	# the untrusted listener's handshakes fail: expected


def self_signed(directory, name):
    """A self-signed certificate for 127.0.0.1 (its own CA): (cert.pem, key.pem)."""
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", key,
                    "-out", cert, "-subj", "/CN=vigil-test-" + name, "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class DnsResponder:
    """Answers every query with its id, QR set, no records; keeps the names asked."""

    def __init__(self):
        self.names = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            q, peer = self.sock.recvfrom(512)
            labels, i = [], 12
            while i < len(q) and q[i]:
                labels.append(q[i + 1:i + 1 + q[i]].decode())
                i += 1 + q[i]
            self.names.append(".".join(labels))
            self.sock.sendto(q[:2] + bytes([0x81, 0x80]) + q[4:6] + b"\0\0\0\0\0\0" + q[12:i + 5], peer)


def policy(url, fqdn, url_dir, dns_dir):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "canary-%d"
        spec:
          tracepoints:
          - subsystem: "syscalls"
            event: "sys_enter_chdir"
            args:
            - index: 5
              type: "string"
            selectors:
            - matchArgs:
              - index: 5
                operator: "Equal"
                values: ["%s"]
              matchActions:
              - action: GetUrl
                argUrl: "%s"
            - matchArgs:
              - index: 5
                operator: "Equal"
                values: ["%s"]
              matchActions:
              - action: DnsLookup
                argFqdn: "%s"
        """) % (PID, url_dir, url, dns_dir, fqdn)


def tls_policy(good_url, bad_url, good_dir, bad_dir):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "canary-tls-%d"
        spec:
          tracepoints:
          - subsystem: "syscalls"
            event: "sys_enter_chdir"
            args:
            - index: 5
              type: "string"
            selectors:
            - matchArgs:
              - index: 5
                operator: "Equal"
                values: ["%s"]
              matchActions:
              - action: GetUrl
                argUrl: "%s"
            - matchArgs:
              - index: 5
                operator: "Equal"
                values: ["%s"]
              matchActions:
              - action: GetUrl
                argUrl: "%s"
        """) % (PID, good_dir, good_url, bad_dir, bad_url)


def samples(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def wait_until(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


@vh.require_root
class Canary(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.http, cls.dns = Listener(), DnsResponder()
        cls.tmp = tempfile.mkdtemp(prefix="vigil-canary-")
        os.chmod(cls.tmp, 0o755)
        cls.url_dir, cls.dns_dir = os.path.join(cls.tmp, "url"), os.path.join(cls.tmp, "dns")
        os.mkdir(cls.url_dir)
        os.mkdir(cls.dns_dir)
        cls.url_path = "/canary-%d" % PID
        cls.fqdn = "canary-%d.vigil.test" % PID
        path = os.path.join(cls.tmp, "canary.yaml")
        with open(path, "w") as f:
            f.write(policy("http://127.0.0.1:%d%s" % (cls.http.server_address[1], cls.url_path), cls.fqdn,
                           cls.url_dir, cls.dns_dir))
        # https: a listener whose CA the agent trusts, one whose it does not
        trusted, untrusted = self_signed(cls.tmp, "trusted"), self_signed(cls.tmp, "untrusted")
        cls.tls_good, cls.tls_bad = Listener(trusted), Listener(untrusted)
        cls.good_dir, cls.bad_dir = os.path.join(cls.tmp, "tls-good"), os.path.join(cls.tmp, "tls-bad")
        os.mkdir(cls.good_dir)
        os.mkdir(cls.bad_dir)
        tls_path = os.path.join(cls.tmp, "canary-tls.yaml")
        with open(tls_path, "w") as f:
            f.write(tls_policy("https://127.0.0.1:%d%s-tls" % (cls.tls_good.server_address[1], cls.url_path),
                               "https://127.0.0.1:%d%s-bad" % (cls.tls_bad.server_address[1], cls.url_path),
                               cls.good_dir, cls.bad_dir))
        cls.metrics_port = vh.free_port()
        cls.user = "vgcan%d" % (PID % 100000)
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", cls.user], check=True)
        pw = pwd.getpwnam(cls.user)
        try:
            with vh.Agent("--tracing-policy", path, "--tracing-policy", tls_path, "--dns-lookup-server",
                          "127.0.0.1:%d" % cls.dns.port, "--get-url-ca-file", trusted[0],
                          "--metrics-server", "127.0.0.1:%d" % cls.metrics_port) as agent:
                cwd = os.getcwd()
                os.chdir(cls.url_dir)
                os.chdir(cls.dns_dir)
                os.chdir(cls.good_dir)
                os.chdir(cls.bad_dir)
                os.chdir(cwd)
                cls.first_url = wait_until(lambda: cls.http.paths)
                cls.first_dns = wait_until(lambda: cls.dns.names)
                cls.first_tls = wait_until(lambda: cls.tls_good.paths)

                def tls_failed():
                    c = agent.status()
                    return c.get("counters", c)["canary_failed"] >= 1
                cls.bad_failed = wait_until(tls_failed)
                # the abuse: an unprivileged loop on the GetUrl selector
                loop = subprocess.Popen(["setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid),
                                         "--clear-groups", "--", "/bin/sh", "-c",
                                         'i=0; while [ $i -lt %d ]; do cd %s; i=$((i+1)); done'
                                         % (LOOPS, cls.url_dir)])
                t0 = time.monotonic()
                cls.status_secs = []
                while loop.poll() is None:
                    s0 = time.monotonic()
                    agent.status()
                    cls.status_secs.append(time.monotonic() - s0)
                    time.sleep(0.1)
                cls.loop_rc = loop.wait()
                cls.loop_secs = time.monotonic() - t0
                # the reader may still be behind the loop (a sanitizer build): wait until every
                # record is decoded or counted lost, and the counters' snapshot shows it
                def caught_up():
                    c = agent.status()
                    c = c.get("counters", c)
                    done = c["canary_requested"] + c["kernel_ringbuf_full"] >= LOOPS + FIRST
                    return done and c["events_policy"] >= c["canary_requested"]
                wait_until(caught_up, timeout=60)
                cls.settle_secs = time.monotonic() - t0 - cls.loop_secs
                cls.status = agent.status()
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % cls.metrics_port, timeout=10) as r:
                    cls.metrics = samples(r.read().decode())
                cls.events = agent.events("json", settle=1.0)
        finally:
            subprocess.run(["userdel", cls.user], capture_output=True)

    def tracepoints(self):
        return [e["process_tracepoint"] for e in self.events
                if e.get("process_tracepoint", {}).get("policy_name") == "canary-%d" % PID]

    def test_get_url_reaches_the_listener(self):
        self.assertTrue(self.first_url, "no GET arrived")
        self.assertEqual(self.http.paths[0][1], self.url_path)
        evs = [ev for ev in self.tracepoints() if ev["args"][0]["string_arg"] == self.url_dir]
        self.assertTrue(evs)
        self.assertEqual(evs[0].get("action"), "KPROBE_ACTION_GETURL", evs[0])

    def test_dns_lookup_reaches_the_responder(self):
        self.assertTrue(self.first_dns, "no query arrived")
        self.assertEqual(self.dns.names, [self.fqdn])
        evs = [ev for ev in self.tracepoints() if ev["args"][0]["string_arg"] == self.dns_dir]
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0].get("action"), "KPROBE_ACTION_DNSLOOKUP", evs[0])

    def test_https_get_url_reaches_a_listener_whose_ca_is_trusted(self):
        self.assertTrue(self.first_tls, "no GET arrived over TLS")
        self.assertEqual([p for _, p in self.tls_good.paths], [self.url_path + "-tls"])

    def test_https_get_url_to_an_untrusted_certificate_makes_no_request(self):
        self.assertTrue(self.bad_failed, "the untrusted GET was not counted failed")
        self.assertEqual(self.tls_bad.paths, [])
        c = self.status["counters"] if "counters" in self.status else self.status
        self.assertEqual(c["canary_failed"], 1, c)

    def test_canary_counters_are_served_in_metrics(self):
        c = self.status["counters"] if "counters" in self.status else self.status
        m = self.metrics

        def get(kind, result):
            return m['vigil_canary_requests_total{kind="%s",result="%s"}' % (kind, result)]
        self.assertEqual(get("dns", "sent"), 1, m)
        self.assertEqual(get("url", "failed"), 1, m)
        self.assertEqual(get("url", "sent") + get("dns", "sent"), c["canary_sent"])
        self.assertEqual(get("url", "rate_limited") + get("dns", "rate_limited"), c["canary_rate_limited"])
        self.assertEqual(get("url", "requested") + get("dns", "requested"), c["canary_requested"])
        self.assertGreater(get("url", "rate_limited"), LOOPS // 2, m)

    def test_unprivileged_loop_cannot_make_a_request_flood(self):
        self.assertEqual(self.loop_rc, 0)
        c = self.status["counters"] if "counters" in self.status else self.status
        # one token went on the first GET; refill is PER_MINUTE a minute over the loop and
        # the settle after it, plus one for rounding
        bound = BURST + int((self.loop_secs + self.settle_secs + 2) * PER_MINUTE / 60) + 1
        self.assertLessEqual(len(self.http.paths), bound, (len(self.http.paths), self.loop_secs))
        self.assertGreaterEqual(len(self.http.paths), 2)
        # the events still flow, every one decoded (the bus subscriber here may drop some,
        # counted, when it cannot keep up): the limit is on the requests, not the events
        # every trigger asked, unless the ring buffer lost its record (counted)
        self.assertLessEqual(c["canary_requested"], LOOPS + FIRST, c)
        self.assertGreaterEqual(c["canary_requested"] + c["kernel_ringbuf_full"], LOOPS + FIRST, c)
        self.assertGreater(c["canary_requested"], LOOPS // 2, c)
        self.assertEqual(c["events_policy"], c["canary_requested"], c)
        self.assertEqual(c["canary_rate_limited"] + c["canary_queue_full"],
                         c["canary_requested"] - c["canary_sent"] - c["canary_failed"], c)
        self.assertEqual(c["canary_sent"], len(self.http.paths) + len(self.dns.names) + len(self.tls_good.paths), c)
        self.assertLess(max(self.status_secs), 2.0, self.status_secs)


if __name__ == "__main__":
    vh.main()
