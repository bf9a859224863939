#!/bin/sh
# policy-corpus.sh - load every TracingPolicy file under DIR into a running vigild, one at a
# time, and say which load and which are refused, with vigil's reason, then the totals.
#
#   scripts/policy-corpus.sh [--control URL] [--bin DIR] DIR
#
# Without --control it starts its own vigild (no policies, private bus and control sockets in
# a fresh 0700 directory) and stops it at the end. Each policy is deleted again after it
# loaded, so policies that share a name (Tetragon's examples do) are each measured alone.
# A policy that loads with hooks left detached counts as OK and the line says which.
# A policy written as a template (Tetragon's docs run such files through envsubst first, e.g.
# ${PODCIDR}) is loaded with the documented example value of each variable (the table below),
# and its line says which; a variable without one is refused by this tool, not by vigil.
# Lines: "OK FILE", "OK FILE (detached: HOOK via MECH: NOTE; ...)", "OK FILE (template:
# VAR=VALUE ...)", "REFUSED FILE: REASON";
# last "TOTAL: N files, K load, R refused (P%)". Exit 0 when every file was judged.
# POSIX sh (busybox too: the vm lane runs it); needs jq. Run as root.
set -u

control= bin= own_dir= agent_pid=
while [ $# -gt 0 ]; do
	case $1 in
	--control) control=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) echo "policy-corpus: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 [--control URL] [--bin DIR] DIR" >&2; exit 2; }
dir=$1
command -v jq >/dev/null || { echo "policy-corpus: jq is needed" >&2; exit 2; }
if [ -z "$bin" ]; then
	# a build tree next to this script, else PATH
	here=$(cd "$(dirname "$0")/.." && pwd)
	if [ -x "$here/build/core/cli/vigild" ]; then bin=$here/build/core/cli; fi
fi
vigil=${bin:+$bin/}vigil
vigild=${bin:+$bin/}vigild

stop() {
	if [ -n "$agent_pid" ]; then
		kill -TERM "$agent_pid" 2>/dev/null
		wait "$agent_pid" 2>/dev/null
	fi
	[ -n "$own_dir" ] && rm -rf "$own_dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

if [ -z "$control" ]; then
	own_dir=$(mktemp -d /tmp/policy-corpus.XXXXXX) || exit 1
	chmod 700 "$own_dir"
	control=ipc://$own_dir/control.sock
	"$vigild" --bus "ipc://$own_dir/events.sock" --control "$control" --tracing-policy-dir "" \
		--node-name corpus >"$own_dir/vigild.log" 2>&1 &
	agent_pid=$!
	i=0
	until "$vigil" status --control "$control" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 "$agent_pid" 2>/dev/null; then
			echo "policy-corpus: vigild did not start:" >&2
			tail -n 20 "$own_dir/vigild.log" >&2
			exit 1
		fi
		sleep 0.2
	done
fi

# delete_all: the agent back to no policies (the one just loaded, under whatever name)
delete_all() {
	"$vigil" tracingpolicy list -o json --control "$control" 2>/dev/null |
		jq -r '.policies[]?.name' | while read -r name; do
			"$vigil" tracingpolicy delete "$name" --control "$control" >/dev/null 2>&1
		done
}

# template_value VAR: the example value Tetragon's docs give a template variable, or nothing
# (policylibrary/egress.yaml: the node's pod CIDR and the cluster's service CIDR, here
# kubeadm's and flannel's defaults)
template_value() {
	case $1 in
	PODCIDR) echo 10.244.0.0/16 ;;
	SERVICECIDR) echo 10.96.0.0/12 ;;
	esac
}

out=$(mktemp) || exit 1
filled=$(mktemp) || exit 1
total=0 ok=0
for f in $(find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' \) | sort); do
	total=$((total + 1))
	load=$f template= missing=
	for var in $(grep -o '[$][{][A-Za-z_][A-Za-z0-9_]*[}]' "$f" | tr -d '${}' | sort -u); do
		value=$(template_value "$var")
		if [ -z "$value" ]; then
			missing="$missing \${$var}"
		else
			template="$template $var=$value"
		fi
	done
	if [ -n "$missing" ]; then
		echo "REFUSED $f: a template (envsubst) with no documented value for:$missing"
		continue
	fi
	if [ -n "$template" ]; then
		cp "$f" "$filled"
		for pair in $template; do
			sed -i "s|[$][{]${pair%%=*}[}]|${pair#*=}|g" "$filled"
		done
		load=$filled
	fi
	if "$vigil" tracingpolicy add "$load" --control "$control" >"$out" 2>&1; then
		ok=$((ok + 1))
		detached=$("$vigil" status -o json --control "$control" 2>/dev/null |
			jq -r '[.policies[]? | .hooks[]? | select(.attached | not) |
				.hook + " via " + .mechanism + (if .note then ": " + .note else "" end)] | join("; ")')
		echo "OK $f${detached:+ (detached: $detached)}${template:+ (template:$template)}"
		delete_all
	else
		# the agent's reason, without the CLI's own prefix and the file name it repeats
		why=$(tr '\n' ' ' <"$out" | sed -e 's/^vigil tracingpolicy: //' -e "s|^$load:||" -e 's/ *$//')
		echo "REFUSED $f: $why${template:+ (template:$template)}"
	fi
done
rm -f "$out" "$filled"
pct=0
[ $total -gt 0 ] && pct=$((ok * 100 / total))
echo "TOTAL: $total files, $ok load, $((total - ok)) refused ($pct%)"
