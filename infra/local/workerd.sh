#!/bin/sh
# workerd as Miniflare starts it (MINIFLARE_WORKERD_PATH points here), in a session of its own (out of
# reach of the terminal's Ctrl-C: the stack stops it in order) and tied to the life of the process
# that starts it: setpriv has the kernel send workerd SIGKILL when that process dies, however it dies,
# and then execs it, so workerd keeps this PID. SIGKILL, not SIGTERM: on SIGTERM workerd drains its
# requests, and one waiting on a hung DynamoDB Local would keep it forever; it keeps no state to save.
# ENCOMPASS_WORKERD_BIN is the real binary.
umask 077
exec setsid setpriv --pdeathsig SIGKILL "${ENCOMPASS_WORKERD_BIN:?set by infra/local/functions.ts}" "$@"
