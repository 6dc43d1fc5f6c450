#!/bin/sh
# `npm test`: set up what is missing, run the whole suite, and end with one
# plain "N passed, N failed" line that CI reads.
set -eu
cd "$(dirname "$0")/.."
sh test/setup.sh
mkdir -p .cache
rc=0
# The tests and helpers are type-checked too (vitest itself only strips types).
npx tsc -p tsconfig.test.json
# In a private mount namespace: the sysroot tests mount tmpfs file systems for
# their fake sysroots (ostree admin deploy freezes the file system it writes
# to), and whatever they mount vanishes with the namespace, even on a crash.
# The helper in test/helpers/sysroot.ts checks both ids before it mounts anything.
export DEBLAYER_HOST_MNT_NS
DEBLAYER_HOST_MNT_NS=$(readlink /proc/self/ns/mnt)
unshare --mount --propagation private sh -c '
  DEBLAYER_PRIVATE_MNT_NS=$(readlink /proc/self/ns/mnt) exec npx vitest run "$@"' vitest \
  --reporter=default --reporter=json --outputFile.json=.cache/vitest-results.json "$@" || rc=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(".cache/vitest-results.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || rc=1
exit $rc
