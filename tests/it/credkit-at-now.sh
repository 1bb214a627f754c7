#!/bin/sh
# The `credkit` the snapshot cases (tests/cmd/*.toml) and README.md's console
# examples run: the binary cargo built, with the clock pinned to the test
# suite's moment (tests/it/support.rs NOW), like `credkit --now NOW ARGS...`.
# tests/it/snapshots.rs sets both variables.
exec "$CREDKIT_TEST_BIN" --now "$CREDKIT_TEST_NOW" "$@"
