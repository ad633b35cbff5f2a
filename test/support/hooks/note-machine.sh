#!/bin/sh
# A hook of the test stack's agent that runs on a machine: notes what it was told about the machine
# in $1/<machine name>, and fails when it was given a credential.
set -eu
env | grep -qi 'password\|secret' && { echo "a credential reached the hook" >&2; exit 3; }
printf '%s %s %s\n' "$ENCOMPASS_MACHINE_ID" "$ENCOMPASS_MACHINE_KIND" "$ENCOMPASS_MACHINE_SETTINGS" > "$1/$ENCOMPASS_MACHINE"
echo "noted $ENCOMPASS_MACHINE"
