#!/usr/bin/env bash
# The main job: install, build, and run the agent in the foreground printing compact events.
# Extra arguments go to vigild (e.g. -o json). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build >&2	# build chatter to stderr: stdout carries the events
exec build/core/cli/vigild --output compact "$@"
