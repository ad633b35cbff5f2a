#!/bin/sh
# A hook of the test stack's agent: writes /etc/version (its first argument) into the ext4 image
# at $ENCOMPASS_IMAGE, as an update applied offline would.
set -eu
[ -n "${ENCOMPASS_IMAGE:-}" ] || { echo "ENCOMPASS_IMAGE is not set" >&2; exit 2; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf '%s\n' "$1" > "$tmp"
debugfs -w -R "rm /etc/version" "$ENCOMPASS_IMAGE" >/dev/null 2>&1 || true
debugfs -w -R "write $tmp /etc/version" "$ENCOMPASS_IMAGE" >/dev/null 2>&1
debugfs -R "cat /etc/version" "$ENCOMPASS_IMAGE" 2>/dev/null | grep -qx "$1" || { echo "the image does not show version $1" >&2; exit 1; }
echo "version $1 written"
