#!/usr/bin/env bash
# Render the chart with its default values into manifests/vigil.yaml, the plain manifests for
# clusters without Helm (namespace kube-system). Run after changing the chart or the shipped
# policies, rules or Fluent Bit pipeline it includes; tests/kubernetes/test_chart.py fails
# while the committed file is stale. An argument writes elsewhere (the test uses it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/manifests/vigil.yaml}
{
  echo "# vigil for clusters without Helm: the chart (integrations/kubernetes/chart) rendered"
  echo "# with its default values by integrations/kubernetes/update-manifests.sh. Do not edit:"
  echo "# change the chart and run the script. kubectl apply -f vigil.yaml"
  python3 "$here/render.py" "$here/chart" --name vigil --namespace kube-system
} > "$out.tmp"
mv "$out.tmp" "$out"
