"""Host lane: network argument types and socket tracking on this kernel, through raw
tracepoints that hand the program the same pointers the kprobe forms get (the vm lane's
cases 30..34 prove the kprobe forms):

- skb (net/net_dev_queue): the packet's addresses, ports and protocol read from its own
  headers, filtered in the kernel by DAddr, Protocol and DPort; skb_arg as Tetragon writes it.
- net_device (net/net_dev_start_xmit): the device's name, filtered by Equal "lo".
- TrackSock (sock/inet_sock_set_state at SYN_SENT, in the connecting process) and a later
  event on that sock in another task's context (sock/sk_data_ready, run while the server
  sends on loopback): the event names the sock's owner. A second, untracked client is the
  control: its event names whoever ran the receive path, not the client. The clients run as
  an unprivileged user: tracking is the kernel's record of who created the sock, nothing the
  user can steer to another process.
"""
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

# connect from a fixed source port, print our pid, wait for one byte
CLIENT = textwrap.dedent("""\
    import os, socket, sys
    s = socket.socket()
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.connect(("127.0.0.1", int(sys.argv[2])))
    print(os.getpid(), flush=True)
    s.recv(1)
""")


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def policy(udp_port, tcp_port, tracked_port):
    return textwrap.dedent(f"""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "net-args"
        spec:
          tracepoints:
          - subsystem: "net"
            event: "net_dev_queue"
            raw: true
            args:
            - index: 0
              type: "skb"
              label: "packet"
            selectors:
            - matchArgs:
              - index: 0
                operator: "DAddr"
                values: ["127.0.0.0/8"]
              - index: 0
                operator: "Protocol"
                values: ["IPPROTO_UDP"]
              - index: 0
                operator: "DPort"
                values: ["{udp_port}"]
              - index: 0
                operator: "NotSAddr"
                values: ["10.0.0.0/8"]
          - subsystem: "net"
            event: "net_dev_start_xmit"
            raw: true
            args:
            - index: 0
              type: "skb"
            - index: 1
              type: "net_device"
            selectors:
            - matchArgs:
              - index: 1
                operator: "Equal"
                values: ["lo"]
              - index: 0
                operator: "DPort"
                values: ["{udp_port}"]
          - subsystem: "sock"
            event: "inet_sock_set_state"
            raw: true
            args:
            - index: 0
              type: "sock"
            - index: 2
              type: "int"
            selectors:
            - matchArgs:
              - index: 2
                operator: "Equal"
                values: ["2"]
              - index: 0
                operator: "SPort"
                values: ["{tracked_port}"]
              matchActions:
              - action: TrackSock
                argSock: 0
              - action: NoPost
          - subsystem: "sock"
            event: "sk_data_ready"
            raw: true
            args:
            - index: 0
              type: "sock"
            selectors:
            - matchArgs:
              - index: 0
                operator: "DPort"
                values: ["{tcp_port}"]
        """)


@vh.require_root
class NetArgs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-netargs-")
        cls.udp_port = free_udp_port()
        cls.tcp_port = vh.free_port()
        cls.tracked_port, cls.plain_port = vh.free_port(), vh.free_port()
        path = os.path.join(cls.tmp, "net.yaml")
        with open(path, "w") as f:
            f.write(policy(cls.udp_port, cls.tcp_port, cls.tracked_port))
        with vh.Agent() as agent:
            cls.added = subprocess.run([vh.VIGIL, "tracingpolicy", "add", path, "--control", agent.control],
                                       capture_output=True, text=True)
            time.sleep(0.2)
            cls.sender = cls.send_udp()
            cls.client_pids = cls.tcp_exchange()
            cls.events = agent.events("json")

    @classmethod
    def send_udp(cls):
        """Two datagrams from a child: one to the filtered port, one to the port after it."""
        code = ("import socket, sys\n"
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "s.bind(('127.0.0.1', 0))\n"
                "print(s.getsockname()[1], flush=True)\n"
                f"s.sendto(b'vigil-skb-marker', ('127.0.0.1', {cls.udp_port}))\n"
                f"s.sendto(b'other', ('127.0.0.1', {cls.udp_port + 1}))\n")
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return {"sport": int(p.stdout.split()[0])}

    @classmethod
    def tcp_exchange(cls):
        """Two unprivileged clients connect; the server (this process) sends each a byte."""
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", cls.tcp_port))
        srv.listen(4)
        pids = {}
        clients = []
        for port in (cls.tracked_port, cls.plain_port):
            c = subprocess.Popen(NOBODY + [sys.executable, "-c", CLIENT, str(port), str(cls.tcp_port)],
                                 stdout=subprocess.PIPE, text=True)
            pids[port] = int(c.stdout.readline())
            conn, _ = srv.accept()
            clients.append((c, conn))
        time.sleep(0.2)      # both clients are asleep in recv: the receive path runs in our context
        for c, conn in clients:
            conn.send(b"x")
            c.wait(timeout=10)
            c.stdout.close()
            conn.close()
        srv.close()
        return pids

    def mine(self, event_name):
        return [e["process_tracepoint"] for e in self.events
                if e.get("process_tracepoint", {}).get("policy_name") == "net-args"
                and e["process_tracepoint"].get("event") == event_name]

    def test_policy_loads(self):
        self.assertEqual(self.added.returncode, 0, self.added.stderr)

    def test_skb_fields_and_filters(self):
        evs = self.mine("net_dev_queue")
        self.assertEqual(len(evs), 1, evs)      # the datagram to port + 1 is filtered out
        arg = evs[0]["args"][0]
        self.assertEqual(arg["label"], "packet")
        skb = arg["skb_arg"]
        self.assertEqual(skb["saddr"], "127.0.0.1")
        self.assertEqual(skb["daddr"], "127.0.0.1")
        self.assertEqual(skb["sport"], self.sender["sport"])
        self.assertEqual(skb["dport"], self.udp_port)
        self.assertEqual(skb["proto"], 17)
        self.assertEqual(skb["protocol"], "IPPROTO_UDP")
        self.assertEqual(skb["family"], "AF_INET")
        # 14 (ethernet) + 20 (IP) + 8 (UDP) + the payload: the device sees the whole frame
        self.assertEqual(skb["len"], 14 + 20 + 8 + len(b"vigil-skb-marker"))

    def test_net_device_name(self):
        evs = self.mine("net_dev_start_xmit")
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]["args"][1], {"net_dev_arg": {"name": "lo"}})
        self.assertEqual(evs[0]["args"][0]["skb_arg"]["dport"], self.udp_port)

    def test_tracked_sock_reports_its_owner(self):
        evs = {e["args"][0]["sock_arg"]["sport"]: e for e in self.mine("sk_data_ready")}
        self.assertIn(self.tracked_port, evs, evs)
        self.assertIn(self.plain_port, evs, evs)
        tracked, plain = evs[self.tracked_port], evs[self.plain_port]
        self.assertEqual(tracked["process"]["pid"], self.client_pids[self.tracked_port])
        self.assertEqual(tracked["process"]["uid"], 65534)
        # the control: the same event on an untracked sock names the task it ran in
        self.assertNotEqual(plain["process"]["pid"], self.client_pids[self.plain_port])
        self.assertEqual(tracked["args"][0]["sock_arg"]["dport"], self.tcp_port)

    def test_track_action_posts_nothing_with_nopost(self):
        self.assertEqual(self.mine("inet_sock_set_state"), [])


if __name__ == "__main__":
    vh.main()
