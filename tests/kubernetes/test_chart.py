"""The Kubernetes chart, offline: rendered, validated against the Kubernetes API's schemas,
and checked against the agent it deploys.

Helm is packaged neither by Debian 12 nor on npm, so integrations/kubernetes/render.py renders
the chart (the template subset it uses). Each rendered object is validated by
validate.mjs against the API's OpenAPI schemas as the kubernetes-models npm package compiles
them (ServiceMonitor: the Prometheus Operator's CRD schema), unknown fields included; the
npm packages are installed from package-lock.json into the build tree on first use.
Then what the schemas cannot know: the agent's flags exist in the vigild that was built, the
capabilities cover what the agent keeps (core/agent/privileges.c), the ConfigMaps hold the
shipped policies and rules byte for byte, the Fluent Bit sidecar runs the shipped pipeline,
names line up between objects, and manifests/vigil.yaml is the current render.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

SOURCE = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("VIGIL_BUILD_DIR", os.path.join(SOURCE, "build"))
KDIR = os.path.join(SOURCE, "integrations", "kubernetes")
CHART = os.path.join(KDIR, "chart")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, KDIR)
import render  # noqa: E402

VIGILD = os.path.join(BUILD, "core", "cli", "vigild")
NPM_DIR = os.path.join(BUILD, "tests", "kubernetes", "npm")


def objects(text):
    return [d for d in yaml.safe_load_all(text) if d]


def by_kind(objs, kind, suffix=""):
    found = [o for o in objs if o["kind"] == kind and o["metadata"]["name"].endswith(suffix)]
    assert len(found) == 1, "%d %s objects named *%s" % (len(found), kind, suffix)
    return found[0]


def ensure_validator():
    """kubernetes-models from the npm registry, as locked, into the build tree."""
    if os.path.isdir(os.path.join(NPM_DIR, "node_modules", "kubernetes-models")):
        return
    os.makedirs(NPM_DIR, exist_ok=True)
    for f in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(HERE, f), NPM_DIR)
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NPM_DIR,
                       capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise RuntimeError("npm ci failed (the npm registry is needed once):\n" + r.stderr[-3000:])


def validate(objs):
    shutil.copy(os.path.join(HERE, "validate.mjs"), NPM_DIR)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(objs, f)
    try:
        return subprocess.run(["node", os.path.join(NPM_DIR, "validate.mjs"), f.name], capture_output=True,
                              text=True, timeout=120)
    finally:
        os.unlink(f.name)


class Chart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ensure_validator()
        cls.default = objects(render.render_chart(CHART))
        cls.full = objects(render.render_chart(CHART, [os.path.join(HERE, "values-all.yaml")]))
        cls.privileged = objects(render.render_chart(CHART, sets=["securityContext.privileged=true"]))

    def agent(self, objs):
        ds = by_kind(objs, "DaemonSet")
        return ds, next(c for c in ds["spec"]["template"]["spec"]["containers"] if c["name"] == "vigil")

    # ---- the committed plain manifests ----

    def test_committed_manifests_are_the_current_render(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "vigil.yaml")
            subprocess.run([os.path.join(KDIR, "update-manifests.sh"), out], check=True)
            with open(out) as f, open(os.path.join(KDIR, "manifests", "vigil.yaml")) as g:
                self.assertTrue(f.read() == g.read(),
                                "integrations/kubernetes/manifests/vigil.yaml is stale: run "
                                "integrations/kubernetes/update-manifests.sh and commit it")

    # ---- the API's schemas ----

    def test_every_object_validates_against_the_api_schema(self):
        for name, objs in (("default", self.default), ("values-all", self.full), ("privileged", self.privileged)):
            r = validate(objs)
            self.assertEqual(r.returncode, 0, "%s render:\n%s%s" % (name, r.stdout, r.stderr))
            self.assertIn("%d objects checked, 0 problems" % len(objs), r.stdout)

    def test_the_validator_catches_a_typo_and_a_wrong_type(self):
        objs = json.loads(json.dumps(self.default))
        ds, c = self.agent(objs)
        ds["spec"]["template"]["spec"]["hostPid"] = True
        c["ports"][0]["containerPort"] = "2112"
        r = validate(objs)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("/spec/template/spec/hostPid: unknown field", r.stdout)
        self.assertIn("containerPort", r.stdout)

    def test_kinds(self):
        kinds = sorted(o["kind"] for o in self.default)
        self.assertEqual(kinds, ["ConfigMap", "ConfigMap", "DaemonSet", "Service", "ServiceAccount"])
        kinds = sorted(o["kind"] for o in self.full)
        self.assertEqual(kinds, ["ConfigMap"] * 4 + ["DaemonSet", "Service", "ServiceAccount", "ServiceMonitor"])

    # ---- the agent it deploys ----

    def test_agent_flags_exist_in_the_built_vigild(self):
        helptext = subprocess.run([VIGILD, "--help"], capture_output=True, text=True, check=True).stdout
        known = set(re.findall(r"(--[a-z][a-z0-9-]+)", helptext))
        for objs in (self.default, self.full):
            _, c = self.agent(objs)
            self.assertEqual(c["command"], ["/usr/sbin/vigild"])
            for arg in c["args"]:
                if not arg.startswith("--"):
                    continue
                flag = arg.split("=", 1)[0]
                self.assertIn(flag, known, "the chart passes %s, which vigild --help does not list" % flag)

    def test_observe_by_default(self):
        _, c = self.agent(self.default)
        self.assertIn("--default-policy-mode=monitor", c["args"])
        _, c = self.agent(self.full)
        self.assertFalse([a for a in c["args"] if a.startswith("--default-policy-mode")])

    def test_capabilities_cover_what_the_agent_keeps_and_not_privileged(self):
        with open(os.path.join(SOURCE, "core", "agent", "privileges.c")) as f:
            kept = set(re.findall(r"\{CAP_([A-Z_]+), \"", f.read()))
        self.assertEqual(kept, {"SYS_ADMIN", "SYS_PTRACE", "KILL", "DAC_READ_SEARCH"})
        ds, c = self.agent(self.default)
        sc = c["securityContext"]
        self.assertFalse(sc["privileged"])
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        self.assertTrue(kept <= set(sc["capabilities"]["add"]))
        self.assertTrue({"BPF", "PERFMON", "SYS_RESOURCE", "NET_ADMIN"} <= set(sc["capabilities"]["add"]))
        self.assertTrue(ds["spec"]["template"]["spec"]["hostPID"])
        self.assertEqual(ds["spec"]["template"]["spec"]["tolerations"], [{"operator": "Exists"}])
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        self.assertEqual(mounts["/sys/fs/bpf"]["mountPropagation"], "HostToContainer")
        for path in ("/sys/fs/bpf", "/sys/kernel/tracing", "/sys/kernel/btf", "/sys/fs/cgroup"):
            self.assertIn(path, mounts)
        # Kubernetes allows Bidirectional propagation in privileged containers only
        _, c = self.agent(self.privileged)
        self.assertTrue(c["securityContext"]["privileged"])
        self.assertEqual({m["mountPath"]: m for m in c["volumeMounts"]}["/sys/fs/bpf"]["mountPropagation"],
                         "Bidirectional")

    def test_probes_and_resources(self):
        _, c = self.agent(self.default)
        for probe in ("readinessProbe", "livenessProbe"):
            self.assertEqual(c[probe]["exec"]["command"][:2], ["/usr/bin/vigil", "status"])
        self.assertEqual(c["resources"]["requests"]["memory"], "128Mi")
        self.assertNotIn("cpu", c["resources"]["limits"])

    def test_policy_and_rules_configmaps_are_the_shipped_files_mounted_where_the_agent_reads(self):
        ds, c = self.agent(self.default)
        vols = {v["name"]: v for v in ds["spec"]["template"]["spec"]["volumes"]}
        mounts = {m["name"]: m for m in c["volumeMounts"]}
        for cm_suffix, vol, flag, src, ext in (("-policies", "policies", "--tracing-policy-dir", "policies", ".yaml"),
                                               ("-rules", "rules", "--rules-dir", "lua", ".lua")):
            cm = by_kind(self.default, "ConfigMap", cm_suffix)
            shipped = {}
            sdir = os.path.join(SOURCE, "rules", src)
            for n in sorted(os.listdir(sdir)):
                if n.endswith(ext):
                    with open(os.path.join(sdir, n)) as f:
                        shipped[n] = f.read()
            self.assertEqual(cm["data"], shipped)
            self.assertEqual(vols[vol]["configMap"]["name"], cm["metadata"]["name"])
            self.assertIn("%s=%s" % (flag, mounts[vol]["mountPath"]), c["args"])
            self.assertTrue(mounts[vol]["readOnly"])    # the agent trusts a read-only mount
        cm = by_kind(self.full, "ConfigMap", "-policies")
        self.assertNotIn("block-cryptominers.yaml", cm["data"])
        self.assertIn("test-extra.yaml", cm["data"])
        self.assertEqual(list(by_kind(self.full, "ConfigMap", "-rules")["data"]), ["test-rule.lua"])

    def test_fluent_bit_sidecar_runs_the_shipped_pipeline_aimed_at_the_url(self):
        self.assertEqual(len(self.agent(self.default)[0]["spec"]["template"]["spec"]["containers"]), 1)
        ds, _ = self.agent(self.full)
        pod = ds["spec"]["template"]["spec"]
        names = [c["name"] for c in pod["containers"]]
        self.assertEqual(names, ["vigil", "vigil-forward", "fluent-bit"])
        cfg = yaml.safe_load(by_kind(self.full, "ConfigMap", "-fluent-bit")["data"]["fluent-bit.yaml"])
        with open(os.path.join(SOURCE, "integrations", "fluentbit", "pipeline-elasticsearch.yaml")) as f:
            shipped = yaml.safe_load(f)
        out = cfg["pipeline"]["outputs"][0]
        self.assertEqual((out.pop("host"), out.pop("port"), out.pop("index")), ("es.logging.svc", 9243, "vigil-events"))
        self.assertEqual((out.pop("tls"), out.pop("tls.verify")), ("on", "off"))
        for k in ("host", "port", "index"):
            shipped["pipeline"]["outputs"][0].pop(k)
        self.assertEqual(cfg, shipped, "the sidecar's pipeline differs from the shipped one beyond its target")
        # vigil-forward feeds the pipeline's input socket; Fluent Bit's storage is on the node
        fwd = pod["containers"][1]
        sock = cfg["pipeline"]["inputs"][0]["unix_path"]
        self.assertIn("--to=unix://" + sock, fwd["args"])
        fb = pod["containers"][2]
        self.assertIn(cfg["service"]["storage.path"], [m["mountPath"] for m in fb["volumeMounts"]])
        # without a url the render fails, saying so
        with self.assertRaises(render.TemplateError) as e:
            render.render_chart(CHART, sets=["export.elasticsearch.enabled=true"])
        self.assertIn("export.elasticsearch.url is required", str(e.exception))

    def test_metrics_service_and_service_monitor_line_up(self):
        _, c = self.agent(self.full)
        self.assertIn("--metrics-server=0.0.0.0:2112", c["args"])
        port = next(p for p in c["ports"] if p["name"] == "metrics")
        svc = by_kind(self.full, "Service")
        self.assertEqual(svc["spec"]["ports"][0]["targetPort"], port["name"])
        self.assertEqual(svc["spec"]["ports"][0]["port"], 2112)
        sm = by_kind(self.full, "ServiceMonitor")
        self.assertEqual(sm["spec"]["endpoints"][0]["port"], svc["spec"]["ports"][0]["name"])
        self.assertEqual(sm["spec"]["selector"]["matchLabels"], svc["spec"]["selector"])
        self.assertEqual(sm["metadata"]["labels"]["release"], "prometheus")

    def test_every_mount_has_its_volume(self):
        for objs in (self.default, self.full):
            ds, _ = self.agent(objs)
            pod = ds["spec"]["template"]["spec"]
            vols = {v["name"] for v in pod["volumes"]}
            for c in pod["containers"]:
                for m in c["volumeMounts"]:
                    self.assertIn(m["name"], vols, "%s mounts %s" % (c["name"], m["name"]))
            for v in pod["volumes"]:
                if "configMap" in v:
                    by_kind(objs, "ConfigMap", v["configMap"]["name"][len("vigil"):])

    # ---- the renderer refuses what it does not implement ----

    def test_renderer_refuses_unknown_functions(self):
        with tempfile.TemporaryDirectory() as d:
            shutil.copy(os.path.join(CHART, "Chart.yaml"), d)
            with open(os.path.join(d, "values.yaml"), "w") as f:
                f.write("a: 1\n")
            os.mkdir(os.path.join(d, "templates"))
            with open(os.path.join(d, "templates", "x.yaml"), "w") as f:
                f.write("v: {{ .Values.a | sha256sum }}\n")
            with self.assertRaises(render.TemplateError) as e:
                render.render_chart(d)
            self.assertIn("sha256sum", str(e.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
