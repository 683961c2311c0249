#!/bin/bash
# kernel-libipsec's bookkeeping of the policies it installs: a peer's route
# stays while any CHILD_SA (a rekeyed one, a make-before-break
# reauthentication's) holds its policies, goes with the last one, and a
# flush takes them all (testing/bench/kernel-libipsec-install -c, in a
# network namespace of its own)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/testing/bench/kernel-libipsec-install" -c
