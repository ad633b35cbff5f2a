#!/bin/sh
# A blade's power-on for ipmi_sim's `startcmd`: its firmware boots from an iSCSI LUN, played by qemu.
#
# Usage: blade-qemu.sh CONFIG. CONFIG is the blade's boot configuration (what a real blade keeps in
# its iSCSI boot firmware), shell assignments written by blade-qemu.ts:
#   BLADE_PORTAL, BLADE_TARGET, BLADE_LUN, BLADE_INITIATOR  the LUN to boot and the name to log in with
#   BLADE_KERNEL, BLADE_INITRD, BLADE_APPEND, BLADE_MEMORY_MIB  what the firmware loads (the test disk has no boot loader)
#   BLADE_CONSOLE    the serial console log, appended to
#   BLADE_BMC_PORT   ipmi_sim's VM port: the BMC's chassis control reaches the guest through it
#   BLADE_PIDFILE    where qemu writes its PID
#   BLADE_UUID, BLADE_SERIAL  optional SMBIOS identity
#
# The script execs qemu, so the process ipmi_sim started is qemu itself: ipmi_sim signals only that
# PID on power off (SIGTERM, then SIGKILL after kill_wait) and would orphan any child. Connected to the
# BMC (ipmi-bmc-extern), `chassis power soft` presses the ACPI power button and `chassis power off`
# ends qemu at once. Without a configuration, or when the LUN refuses the login, qemu exits with an
# error on the console, so the blade powers itself off as real hardware finding no boot disk stops.
set -eu
conf=${1:?usage: blade-qemu.sh CONFIG}
if [ ! -r "$conf" ]; then
  echo "blade firmware: no boot configuration at $conf; no bootable device" >&2
  exit 1
fi
. "$conf"
# qemu splits option values at commas; a doubled comma is a literal one.
opt() { printf '%s' "$1" | sed 's/,/,,/g'; }
echo "blade firmware: booting iscsi://$BLADE_PORTAL/$BLADE_TARGET/$BLADE_LUN as $BLADE_INITIATOR" >>"$BLADE_CONSOLE"
set -- -name guest=blade -accel tcg -m "${BLADE_MEMORY_MIB:-512}" -smp 1 -nodefaults -display none -no-reboot \
  -kernel "$BLADE_KERNEL" -initrd "$BLADE_INITRD" -append "$BLADE_APPEND" \
  -drive "driver=iscsi,transport=tcp,portal=$(opt "$BLADE_PORTAL"),target=$(opt "$BLADE_TARGET"),lun=$BLADE_LUN,initiator-name=$(opt "$BLADE_INITIATOR"),if=virtio" \
  -chardev "file,id=console,path=$(opt "$BLADE_CONSOLE"),append=on" -serial chardev:console \
  -chardev "socket,id=bmc,host=127.0.0.1,port=$BLADE_BMC_PORT,reconnect=1" \
  -device ipmi-bmc-extern,id=bmc0,chardev=bmc -device isa-ipmi-kcs,bmc=bmc0 \
  -nic none -pidfile "$BLADE_PIDFILE"
if [ -n "${BLADE_UUID:-}" ]; then set -- "$@" -uuid "$BLADE_UUID"; fi
if [ -n "${BLADE_SERIAL:-}" ]; then set -- "$@" -smbios "type=1,serial=$(opt "$BLADE_SERIAL")"; fi
# qemu's own errors (a refused login) go to the console too, where the operator of a blade sees them.
exec qemu-system-x86_64 "$@" 2>>"$BLADE_CONSOLE"
