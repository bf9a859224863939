#!/usr/bin/env python3
"""render.py - render the vigil Helm chart without Helm.

Helm is in neither Debian 12 nor the npm registry, so this renders the subset of Go
templates and Sprig functions that chart/templates uses, the way `helm template` does:
values.yaml merged with -f files and --set, .Release, .Chart, .Files, `define`/`include`,
if/else/range/with, pipelines, and each rendered document printed under a
"# Source: <chart>/templates/<file>" comment in Helm's install order. A template feature
outside the subset is an error naming the file and the action, never silently skipped.

  integrations/kubernetes/render.py integrations/kubernetes/chart [-f values.yaml]
      [--set key.path=value] [--name vigil] [--namespace kube-system] > vigil.yaml

With Helm at hand, `helm template` gives the same objects (key order and quoting may differ).
"""
import argparse
import base64
import fnmatch
import json
import os
import re
import sys
import urllib.parse

import yaml


class TemplateError(Exception):
    pass


# ---- YAML as Helm's toYaml writes it: sorted keys, block style, multi-line strings as | ----

class _Dumper(yaml.SafeDumper):
    pass


def _str_rep(dumper, s):
    if "\n" in s:
        return dumper.represent_scalar("tag:yaml.org,2002:str", s, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", s)


_Dumper.add_representer(str, _str_rep)


def to_yaml(v):
    if v is None:
        return "null"
    out = yaml.dump(v, Dumper=_Dumper, default_flow_style=False, sort_keys=True, allow_unicode=True, width=4096)
    if out.endswith("...\n"):
        out = out[:-4]
    return out.rstrip("\n")


# ---- lexing: text and {{ actions }} with Go's trim markers ----

ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)


def lex(src, name):
    items, pos = [], 0
    for m in ACTION.finditer(src):
        text = src[pos:m.start()]
        if m.group(1):
            text = text.rstrip(" \t\r\n")
        if items and items[-1][0] == "trim_next":
            items.pop()
            text = text.lstrip(" \t\r\n")
        items.append(("text", text))
        body = m.group(2).strip()
        if not (body.startswith("/*") and body.endswith("*/")):
            items.append(("action", body, name))
        if m.group(3):
            items.append(("trim_next",))
        pos = m.end()
    text = src[pos:]
    if items and items[-1][0] == "trim_next":
        items.pop()
        text = text.lstrip(" \t\r\n")
    items.append(("text", text))
    return items


# ---- expressions ----

TOKEN = re.compile(r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*")|(?P<raw>`[^`]*`)|(?P<num>-?\d+)|
    (?P<assign>:=)|(?P<eq>=)|(?P<pipe>\|)|(?P<lp>\()|(?P<rp>\))|(?P<comma>,)|
    (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)|(?P<field>(?:\.[A-Za-z0-9_]+)+|\.)|
    (?P<ident>[A-Za-z_][A-Za-z0-9_]*))""", re.X)


def tokenize(s, where):
    out, pos = [], 0
    s = s.strip()
    while pos < len(s):
        m = TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise TemplateError("%s: cannot parse %r" % (where, s[pos:]))
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "str":
            val = json.loads(val)
            kind = "lit"
        elif kind == "raw":
            val, kind = val[1:-1], "lit"
        elif kind == "num":
            val, kind = int(val), "lit"
        elif kind == "ident" and val in ("true", "false", "nil"):
            val, kind = {"true": True, "false": False, "nil": None}[val], "lit"
        out.append((kind, val))
        pos = m.end()
    return out


def parse_pipeline(tokens, where):
    """[(cmd, [args])...]; an arg is ('lit', v) | ('field', path) | ('var', path) | ('pipe', p)."""
    cmds, cur = [], []
    i = 0

    def operand(i):
        kind, val = tokens[i]
        if kind == "lp":
            depth, j = 1, i + 1
            while j < len(tokens) and depth:
                depth += {"lp": 1, "rp": -1}.get(tokens[j][0], 0)
                j += 1
            if depth:
                raise TemplateError("%s: unbalanced (" % where)
            return ("pipe", parse_pipeline(tokens[i + 1:j - 1], where)), j
        if kind in ("lit", "field", "var", "ident"):
            return (kind, val), i + 1
        raise TemplateError("%s: unexpected %r" % (where, val))

    while i < len(tokens):
        if tokens[i][0] == "pipe":
            if not cur:
                raise TemplateError("%s: empty command" % where)
            cmds.append(cur)
            cur = []
            i += 1
            continue
        op, i = operand(i)
        cur.append(op)
    if cur:
        cmds.append(cur)
    return cmds


def truthy(v):
    """Go's: false, 0, nil and empty strings, lists and maps are false."""
    if v is None or v is False:
        return False
    if isinstance(v, bool):
        return True
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, (str, list, dict, tuple)):
        return len(v) > 0
    return True


def go_str(v):
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"), sort_keys=True)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def lookup(base, path):
    for part in [p for p in path.split(".") if p]:
        if base is None:
            return None
        if isinstance(base, dict):
            base = base.get(part)
        elif hasattr(base, part):
            base = getattr(base, part)
        else:
            return None
    return base


class Files:
    def __init__(self, root):
        self.root = root

    def _all(self):
        for d, _, names in os.walk(self.root, followlinks=True):  # Helm follows them too
            for n in names:
                p = os.path.relpath(os.path.join(d, n), self.root)
                if not p.startswith("templates" + os.sep) and not n.startswith("."):
                    yield p

    def Get(self, path):
        with open(os.path.join(self.root, path)) as f:
            return f.read()

    def Glob(self, pattern):
        return {p: self.Get(p) for p in sorted(self._all()) if fnmatch.fnmatch(p, pattern)}


class Renderer:
    def __init__(self, chart_dir, values, release, namespace):
        with open(os.path.join(chart_dir, "Chart.yaml")) as f:
            chart = yaml.safe_load(f)
        self.chart_name = chart["name"]
        self.top = {
            "Values": values,
            "Release": {"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": True,
                        "IsUpgrade": False, "Revision": 1},
            "Chart": {k[0].upper() + k[1:]: v for k, v in chart.items()},
            "Files": Files(chart_dir),
            "Capabilities": {"APIVersions": []},
        }
        self.defines = {}
        self.dir = chart_dir

    # -- tree building --
    def parse(self, items):
        """Nested node lists from the lexed items."""
        root = []
        stack = [(root, None)]
        for it in items:
            if it[0] == "text":
                if it[1]:
                    stack[-1][0].append(("text", it[1]))
                continue
            body, where = it[1], it[2] + ": {{ " + it[1] + " }}"
            word = body.split(None, 1)[0] if body else ""
            rest = body[len(word):].strip()
            if word in ("if", "range", "with"):
                node = {"kind": word, "expr": rest, "where": where, "body": [], "elifs": [], "else": None}
                stack[-1][0].append(("block", node))
                stack.append((node["body"], node))
            elif word == "define":
                name = json.loads(rest)
                node = {"kind": "define", "name": name, "body": []}
                self.defines[name] = node["body"]
                stack.append((node["body"], node))
            elif word == "else":
                node = stack[-1][1]
                if not node or node["kind"] not in ("if", "range", "with"):
                    raise TemplateError(where + ": else outside if/range/with")
                stack.pop()
                if rest.startswith("if "):
                    branch = {"expr": rest[3:].strip(), "body": []}
                    node["elifs"].append(branch)
                    stack.append((branch["body"], node))
                else:
                    node["else"] = []
                    stack.append((node["else"], node))
            elif word == "end":
                if len(stack) == 1:
                    raise TemplateError(where + ": end without a block")
                stack.pop()
            elif word in ("template", "block", "break", "continue"):
                raise TemplateError(where + ": not in this renderer's subset")
            else:
                stack[-1][0].append(("action", body, where))
        if len(stack) != 1:
            raise TemplateError("unclosed block %r" % stack[-1][1].get("expr", stack[-1][1].get("name")))
        return root

    # -- evaluation --
    def eval_arg(self, a, dot, scope, where):
        kind, val = a
        if kind == "lit":
            return val
        if kind == "field":
            return dot if val == "." else lookup(dot, val)
        if kind == "var":
            name, _, path = val.partition(".")
            if name == "$":
                base = scope["$"]
            elif name in scope:
                base = scope[name]
            else:
                raise TemplateError("%s: undefined variable %s" % (where, name))
            return lookup(base, path) if path else base
        if kind == "pipe":
            return self.eval_pipeline(val, dot, scope, where)
        if kind == "ident":
            return self.call(val, [], dot, scope, where)
        raise TemplateError("%s: bad operand %r" % (where, val))

    def eval_pipeline(self, cmds, dot, scope, where):
        result, have = None, False
        for cmd in cmds:
            prev = result
            head = cmd[0]
            if head[0] == "ident":
                args = [self.eval_arg(a, dot, scope, where) for a in cmd[1:]]
                if have:
                    args.append(result)
                result = self.call(head[1], args, dot, scope, where)
            else:
                result = self.eval_arg(head, dot, scope, where)
                if callable(result):    # a method: .Files.Get "path"
                    args = [self.eval_arg(a, dot, scope, where) for a in cmd[1:]]
                    result = result(*(args + ([prev] if have else [])))
                elif len(cmd) != 1 or have:
                    raise TemplateError("%s: cannot call a non-function" % where)
            have = True
        return result

    def call(self, fn, args, dot, scope, where):
        def need(n):
            if len(args) != n:
                raise TemplateError("%s: %s takes %d argument(s), got %d" % (where, fn, n, len(args)))
        if fn == "include":
            need(2)
            if args[0] not in self.defines:
                raise TemplateError("%s: no template %r" % (where, args[0]))
            return self.run(self.defines[args[0]], args[1], {"$": args[1]})
        if fn == "toYaml":
            need(1)
            return to_yaml(args[0])
        if fn == "fromYaml":
            need(1)
            return yaml.safe_load(args[0]) or {}
        if fn == "toJson":
            need(1)
            return json.dumps(args[0], separators=(",", ":"), sort_keys=True)
        if fn in ("nindent", "indent"):
            need(2)
            pad = " " * int(args[0])
            text = "\n".join(pad + line for line in go_str(args[1]).split("\n"))
            return ("\n" + text) if fn == "nindent" else text
        if fn == "quote":
            return " ".join(json.dumps(go_str(a)) for a in args)
        if fn == "default":
            need(2)
            return args[1] if truthy(args[1]) else args[0]
        if fn == "required":
            need(2)
            if args[1] is None or args[1] == "":
                raise TemplateError("%s: %s" % (where, args[0]))
            return args[1]
        if fn == "fail":
            need(1)
            raise TemplateError("%s: %s" % (where, args[0]))
        if fn == "printf":
            fmt = go_str(args[0]).replace("%v", "%s")
            return fmt % tuple(go_str(a) if isinstance(a, (dict, list, bool)) or a is None else a for a in args[1:])
        if fn in ("toString", "print"):
            return "".join(go_str(a) for a in args)
        if fn == "int":
            need(1)
            return int(args[0] or 0)
        if fn == "b64enc":
            need(1)
            return base64.b64encode(go_str(args[0]).encode()).decode()
        if fn == "trunc":
            need(2)
            return go_str(args[1])[:int(args[0])]
        if fn == "trimSuffix":
            need(2)
            s = go_str(args[1])
            return s[:-len(args[0])] if args[0] and s.endswith(args[0]) else s
        if fn == "trimPrefix":
            need(2)
            s = go_str(args[1])
            return s[len(args[0]):] if s.startswith(args[0]) else s
        if fn == "replace":
            need(3)
            return go_str(args[2]).replace(args[0], args[1])
        if fn == "base":
            need(1)
            return os.path.basename(go_str(args[0]))
        if fn == "urlParse":
            need(1)
            u = urllib.parse.urlsplit(go_str(args[0]))
            return {"scheme": u.scheme, "host": u.netloc.rpartition("@")[2], "hostname": u.hostname or "",
                    "path": u.path, "query": u.query, "fragment": u.fragment,
                    "userinfo": u.netloc.rpartition("@")[0]}
        if fn == "splitList":
            need(2)
            return go_str(args[1]).split(args[0])
        if fn in ("gt", "lt", "ge", "le"):
            need(2)
            a, b = args
            return {"gt": a > b, "lt": a < b, "ge": a >= b, "le": a <= b}[fn]
        if fn == "contains":
            need(2)
            return go_str(args[0]) in go_str(args[1])
        if fn == "hasSuffix":
            need(2)
            return go_str(args[1]).endswith(args[0])
        if fn == "hasPrefix":
            need(2)
            return go_str(args[1]).startswith(args[0])
        if fn == "has":
            need(2)
            return args[0] in (args[1] or [])
        if fn == "hasKey":
            need(2)
            return args[1] in (args[0] or {})
        if fn == "list":
            return list(args)
        if fn == "dict":
            return {go_str(args[i]): args[i + 1] for i in range(0, len(args), 2)}
        if fn == "set":
            need(3)
            args[0][args[1]] = args[2]
            return args[0]
        if fn == "index":
            v = args[0]
            for k in args[1:]:
                v = v[k] if isinstance(v, list) else (v or {}).get(k)
            return v
        if fn == "keys":
            return sorted(k for d in args for k in (d or {}))
        if fn == "join":
            need(2)
            return go_str(args[0]).join(go_str(x) for x in (args[1] or []))
        if fn == "empty":
            need(1)
            return not truthy(args[0])
        if fn == "not":
            need(1)
            return not truthy(args[0])
        if fn == "and":
            v = True
            for v in args:
                if not truthy(v):
                    return v
            return v
        if fn == "or":
            v = False
            for v in args:
                if truthy(v):
                    return v
            return v
        if fn in ("eq", "ne"):
            need(2)
            return (args[0] == args[1]) == (fn == "eq")
        if fn == "len":
            need(1)
            return len(args[0] or [])
        if fn == "ternary":
            need(3)
            return args[0] if truthy(args[2]) else args[1]
        if fn == "lower":
            need(1)
            return go_str(args[0]).lower()
        raise TemplateError("%s: function %r is not in this renderer's subset" % (where, fn))

    def run(self, nodes, dot, scope):
        out = []
        for node in nodes:
            if node[0] == "text":
                out.append(node[1])
            elif node[0] == "action":
                body, where = node[1], node[2]
                toks = tokenize(body, where)
                if len(toks) > 2 and toks[0][0] == "var" and toks[1][0] in ("assign", "eq"):
                    scope[toks[0][1]] = self.eval_pipeline(parse_pipeline(toks[2:], where), dot, scope, where)
                    continue
                out.append(go_str(self.eval_pipeline(parse_pipeline(toks, where), dot, scope, where)))
            else:
                out.append(self.run_block(node[1], dot, scope))
        return "".join(out)

    def run_block(self, n, dot, scope):
        where = n["where"]
        if n["kind"] == "if":
            if truthy(self.expr(n["expr"], dot, scope, where)):
                return self.run(n["body"], dot, scope)
            for b in n["elifs"]:
                if truthy(self.expr(b["expr"], dot, scope, where)):
                    return self.run(b["body"], dot, scope)
            return self.run(n["else"], dot, scope) if n["else"] is not None else ""
        if n["kind"] == "with":
            v = self.expr(n["expr"], dot, scope, where)
            if truthy(v):
                return self.run(n["body"], v, dict(scope))
            return self.run(n["else"], dot, scope) if n["else"] is not None else ""
        # range [$k, $v :=] pipeline
        m = re.match(r"^(\$\w*)\s*(?:,\s*(\$\w*))?\s*:=\s*(.*)$", n["expr"], re.S)
        names, expr = ((m.group(1), m.group(2)), m.group(3)) if m else ((None, None), n["expr"])
        coll = self.expr(expr, dot, scope, where)
        if isinstance(coll, dict):
            pairs = [(k, coll[k]) for k in sorted(coll)]
        elif isinstance(coll, (list, tuple)):
            pairs = list(enumerate(coll))
        elif isinstance(coll, int) and not isinstance(coll, bool):
            pairs = [(i, i) for i in range(coll)]
        elif coll is None:
            pairs = []
        else:
            raise TemplateError("%s: cannot range over %r" % (where, coll))
        if not pairs:
            return self.run(n["else"], dot, scope) if n["else"] is not None else ""
        out = []
        for k, v in pairs:
            inner = dict(scope)
            if names[1]:
                inner[names[0]], inner[names[1]] = k, v
            elif names[0]:
                inner[names[0]] = v
            out.append(self.run(n["body"], v, inner))
        return "".join(out)

    def expr(self, text, dot, scope, where):
        return self.eval_pipeline(parse_pipeline(tokenize(text, where), where), dot, scope, where)

    def render(self):
        tdir = os.path.join(self.dir, "templates")
        names = sorted(os.listdir(tdir))
        parsed = {}
        for name in names:     # helpers first: every define is known before any include
            with open(os.path.join(tdir, name)) as f:
                parsed[name] = self.parse(lex(f.read(), "templates/" + name))
        docs = []
        for name in names:
            if name.startswith("_") or not name.endswith((".yaml", ".yml")):
                continue
            text = self.run(parsed[name], self.top, {"$": self.top})
            for doc in re.split(r"(?m)^---\s*$", text):
                if not doc.strip():
                    continue
                obj = yaml.safe_load(doc)
                if obj is None:
                    continue
                docs.append((name, obj, doc.strip("\n")))
        docs.sort(key=lambda d: (KIND_ORDER.index(d[1].get("kind")) if d[1].get("kind") in KIND_ORDER
                                 else len(KIND_ORDER), d[0]))
        return docs


# Helm's install order (the kinds this chart uses among them)
KIND_ORDER = ["Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
              "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
              "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
              "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList",
              "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
              "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
              "IngressClass", "Ingress", "APIService"]


def merge(base, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = v
    return base


def set_value(values, assignment):
    key, _, raw = assignment.partition("=")
    v = yaml.safe_load(raw) if raw not in ("",) else ""
    parts = key.split(".")
    d = values
    for p in parts[:-1]:
        d = d.setdefault(p, {})
    d[parts[-1]] = v


def render_chart(chart, value_files=(), sets=(), name="vigil", namespace="kube-system"):
    with open(os.path.join(chart, "values.yaml")) as f:
        values = yaml.safe_load(f) or {}
    for vf in value_files:
        with open(vf) as f:
            merge(values, yaml.safe_load(f) or {})
    for s in sets:
        set_value(values, s)
    r = Renderer(chart, values, name, namespace)
    docs = r.render()
    return "".join("---\n# Source: %s/templates/%s\n%s\n" % (r.chart_name, src, text) for src, _, text in docs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("chart")
    ap.add_argument("-f", "--values", action="append", default=[])
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--name", default="vigil")
    ap.add_argument("--namespace", default="kube-system")
    a = ap.parse_args()
    try:
        sys.stdout.write(render_chart(a.chart, a.values, a.set, a.name, a.namespace))
    except (TemplateError, OSError, yaml.YAMLError) as e:
        print("render.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
