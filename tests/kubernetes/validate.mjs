// validate.mjs - every object of a rendered chart against the Kubernetes API's schemas
// (kubernetes-models: the API's OpenAPI schemas compiled to validators; the Prometheus
// Operator's CRDs for ServiceMonitor). The API's schemas allow unknown fields, which the API
// server then drops (a typo in a field name passes them silently): the validator runs on a
// proxy of the object that records which fields it looked at, and a field it never looked at
// is reported as unknown, as `kubectl apply --validate=strict` would.
//   node validate.mjs objects.json   -> prints one line per problem; exit 1 if any
import { readFileSync } from "node:fs";

const SCHEMAS = {
  "v1/ConfigMap": ["kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap"],
  "v1/Service": ["kubernetes-models/_schemas/IoK8sApiCoreV1Service"],
  "v1/ServiceAccount": ["kubernetes-models/_schemas/IoK8sApiCoreV1ServiceAccount"],
  "apps/v1/DaemonSet": ["kubernetes-models/_schemas/IoK8sApiAppsV1DaemonSet"],
  "monitoring.coreos.com/v1/ServiceMonitor": [
    "@kubernetes-models/prometheus-operator/_schemas/ComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1ServiceMonitor"],
};

// a proxy that records, per JSON pointer, the keys the validator read
function tracked(value, path, reads) {
  if (value === null || typeof value !== "object") return value;
  if (!reads.has(path)) reads.set(path, new Set());
  const seen = reads.get(path);
  return new Proxy(value, {
    get(target, prop) {
      if (typeof prop !== "string") return target[prop];
      seen.add(prop);
      return tracked(target[prop], path + "/" + prop, reads);
    },
    ownKeys(target) {      // for-in over a map type: every key is allowed
      for (const k of Reflect.ownKeys(target)) seen.add(String(k));
      return Reflect.ownKeys(target);
    },
  });
}

function unknownFields(value, path, reads, out) {
  if (value === null || typeof value !== "object") return;
  const seen = reads.get(path) || new Set();
  for (const k of Object.keys(value)) {
    if (!Array.isArray(value) && !seen.has(k)) out.push(path + "/" + k);
    else unknownFields(value[k], path + "/" + k, reads, out);
  }
}

const objects = JSON.parse(readFileSync(process.argv[2], "utf8"));
let problems = 0;
for (const obj of objects) {
  const id = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
  const key = `${obj.apiVersion}/${obj.kind}`;
  if (!SCHEMAS[key]) {
    console.log(`${id}: no schema for ${key} here: add it to validate.mjs`);
    problems++;
    continue;
  }
  // each schema module exports one validate function; the Prometheus Operator package does
  // not export its _schemas, so they are imported by file
  const mod = await import(new URL("./node_modules/" + SCHEMAS[key][0] + ".js", import.meta.url));
  const reads = new Map();
  const ok = mod.validate(tracked(obj, "", reads));
  if (!ok) {
    for (const e of mod.validate.errors) {
      console.log(`${id}: ${e.instancePath || "/"}: ${e.message || e.keyword} ${JSON.stringify(e.params)}`);
      problems++;
    }
  }
  const unknown = [];
  unknownFields(obj, "", reads, unknown);
  for (const u of unknown) {
    console.log(`${id}: ${u}: unknown field (not in the ${key} schema)`);
    problems++;
  }
}
console.log(`${objects.length} objects checked, ${problems} problems`);
process.exit(problems ? 1 : 0);
