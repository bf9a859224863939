"""crihost - a private containerd with its CRI plugin for the host tests, and a CRI client.

containerd (Debian's 1.6) runs with its own root, state and socket in a temporary
directory, the native snapshotter, and a sandbox image imported from a busybox-static
rootfs (Podman builds and saves it; nothing is pulled). Pods share the node's network (no
CNI). restrict_oom_score_adj: our hosts withhold CAP_SYS_RESOURCE, and a pod sandbox asks
for oom_score_adj -998, which runc then cannot set. Pods and containers are made through
the CRI API (tests/host/cri/cri_client.py, run by Debian's python3 with python3-grpcio and
python3-grpc-tools) with the labels kubelet sets.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "cri", "cri_client.py")
DEBIAN_PYTHON = "/usr/bin/python3"
BUSYBOX = "/bin/busybox"
APPLETS = ("sh", "true", "sleep", "touch", "cat")
IMAGE = "localhost/vigil-test-pause:1"


def need(cmd, package, part="containers"):
    """A tool the test needs: CI installs it (scripts/deps.d/<part>.txt)."""
    if shutil.which(cmd) or os.path.exists(cmd):
        return
    msg = "%s not found (Debian package %s, scripts/deps.d/%s.txt)" % (cmd, package, part)
    if os.environ.get("CI"):
        raise RuntimeError(msg)
    raise unittest.SkipTest(msg)


def busybox_rootfs_tar(dir, extra=None):
    """A busybox rootfs as a tar; extra maps paths in it to host files copied there."""
    rootfs = os.path.join(dir, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    os.makedirs(os.path.join(rootfs, "tmp"))
    shutil.copy(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
    for dst, src in (extra or {}).items():
        shutil.copy(src, os.path.join(rootfs, dst.lstrip("/")))
    for a in APPLETS:
        os.symlink("busybox", os.path.join(rootfs, "bin", a))
    tar = os.path.join(dir, "rootfs.tar")
    subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
    return tar


CONFIG = """version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{image}"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{d}/cni"
"""


class Containerd:
    def __init__(self, extra=None):
        self.extra = extra
        for cmd, pkg in (("containerd", "containerd"), ("runc", "runc"), ("podman", "podman"),
                         (BUSYBOX, "busybox-static")):
            need(cmd, pkg)
        r = subprocess.run([DEBIAN_PYTHON, "-c", "import grpc, grpc_tools"], capture_output=True)
        if r.returncode:
            need("/nonexistent/python3-grpc-tools", "python3-grpcio python3-grpc-tools")
        self.dir = tempfile.mkdtemp(prefix="vigil-cri-")
        self.sock = os.path.join(self.dir, "containerd.sock")
        self.proc = None
        self.pods = []

    def __enter__(self):
        d = self.dir
        os.makedirs(os.path.join(d, "cni"))
        cfg = os.path.join(d, "config.toml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(d=d, image=IMAGE))
        self.log = open(os.path.join(d, "containerd.log"), "w")
        self.proc = subprocess.Popen(["containerd", "--config", cfg], stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
            self._import_image()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _ctr(self, *args, timeout=120):
        return subprocess.run(["ctr", "-a", self.sock, "-n", "k8s.io"] + list(args), capture_output=True,
                              text=True, timeout=timeout)

    def _wait_ready(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("containerd exited early")
            if os.path.exists(self.sock) and self._ctr("version", timeout=10).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("containerd not ready")

    def _import_image(self):
        tar = busybox_rootfs_tar(self.dir, self.extra)
        store = ["podman", "--root", os.path.join(self.dir, "podman"), "--runroot",
                 os.path.join(self.dir, "podman-run"), "--storage-driver", "vfs"]
        subprocess.run(store + ["import", "--change", 'CMD ["/bin/sleep","100000"]', tar, IMAGE],
                       check=True, capture_output=True)
        oci = os.path.join(self.dir, "image.tar")
        subprocess.run(store + ["save", "--format", "oci-archive", "-o", oci, IMAGE], check=True, capture_output=True)
        r = self._ctr("images", "import", "--snapshotter", "native", "--all-platforms", oci)
        if r.returncode:
            raise RuntimeError("ctr import: " + r.stderr)

    def client(self, *args):
        r = subprocess.run([DEBIAN_PYTHON, CLIENT] + [args[0], self.sock] + list(args[1:]), capture_output=True,
                           text=True, timeout=120)
        if r.returncode:
            raise RuntimeError("cri_client %s: %s" % (args[0], r.stderr[-2000:]))
        return json.loads(r.stdout) if r.stdout.strip() else None

    def run_pod(self, name, namespace, uid, labels=None):
        pod = self.client("run-pod", name, namespace, uid,
                          *["%s=%s" % kv for kv in (labels or {}).items()])["pod"]
        self.pods.append(pod)
        return pod

    def run_container(self, pod, name, *argv):
        return self.client("run-container", pod, name, IMAGE, *argv)["container"]

    def __exit__(self, *exc):
        for pod in self.pods:
            try:
                self.client("remove-pod", pod)
            except Exception:
                pass
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        # shims of removed pods exit on their own; the snapshots are plain directories
        subprocess.run(["umount", "-R", os.path.join(self.dir, "state")], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        return False
