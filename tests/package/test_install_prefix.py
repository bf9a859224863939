"""Package lane: `cmake --install` puts every file under the prefix it is given.

`cmake --install build --prefix DIR` chooses the prefix after configuration; the shipped
policies and rules (/etc/vigil), the units (/lib/systemd/system) and the plugins
(/usr/lib/vigil) were absolute destinations and went to the real ones whatever DIR said.
Installed as nobody (root's writes would land in / when the rules are wrong: nobody's are
refused, and the test sees where each file was meant to go in cmake's log), under:
- `--prefix DIR`: every file under DIR, with etc/vigil, lib/systemd/system and lib/vigil;
- the configured /usr prefix with DESTDIR: the .deb's layout (etc/vigil, lib/systemd/system
  beside usr/), nothing outside DESTDIR.
Root (for runuser) says why it skips.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "host"))
import vigilhost as vh  # noqa: E402

BUILD = os.environ.get("VIGIL_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))


def install_as_nobody(root, *args, env=None):
    """cmake --install as nobody into root (owned by nobody): the paths cmake installed to."""
    os.chown(root, 65534, 65534)
    r = subprocess.run(["runuser", "-u", "nobody", "--", "env"] + (env or []) +
                       ["cmake", "--install", BUILD] + list(args), capture_output=True, text=True, timeout=120)
    paths = [l.split(": ", 1)[1] for l in r.stdout.splitlines()
             if l.startswith(("-- Installing: ", "-- Up-to-date: "))]
    # the one failure allowed: the manifest cmake writes into the (root's) build tree
    errors = [l for l in r.stderr.splitlines() if l.strip() and "install_manifest" not in l
              and "file failed to open for writing" not in l and "CMake Error at" not in l]
    return paths, errors


@vh.require_root
class InstallPrefix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-prefix-")
        os.chmod(cls.tmp, 0o755)
        cls.prefix = os.path.join(cls.tmp, "prefix")
        cls.destdir = os.path.join(cls.tmp, "destdir")
        os.mkdir(cls.prefix)
        os.mkdir(cls.destdir)
        cls.at_prefix, cls.prefix_errors = install_as_nobody(cls.prefix, "--prefix", cls.prefix)
        cls.at_destdir, cls.destdir_errors = install_as_nobody(cls.destdir, env=["DESTDIR=" + cls.destdir])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_prefix_holds_every_file(self):
        self.assertEqual(self.prefix_errors, [])
        self.assertGreater(len(self.at_prefix), 50)
        self.assertEqual([p for p in self.at_prefix if not p.startswith(self.prefix + "/")], [])
        for f in ("etc/vigil/policies/deny-outbound-cidr.yaml", "etc/vigil/rules/cryptominer.lua",
                  "lib/systemd/system/vigild.service", "lib/vigil/vigil-forward", "sbin/vigild", "bin/vigil",
                  "share/vigil/policytests/shipped.yaml"):
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, f)), f)

    def test_destdir_holds_the_packages_layout(self):
        self.assertEqual(self.destdir_errors, [])
        self.assertEqual([p for p in self.at_destdir if not p.startswith(self.destdir + "/")], [])
        for f in ("etc/vigil/policies/deny-outbound-cidr.yaml", "lib/systemd/system/vigild.service",
                  "usr/lib/vigil/vigil-forward", "usr/sbin/vigild", "usr/share/vigil/policytests/shipped.yaml"):
            self.assertTrue(os.path.isfile(os.path.join(self.destdir, f)), f)
        self.assertFalse(os.path.exists(os.path.join(self.destdir, "usr/etc")))


if __name__ == "__main__":
    vh.main()
