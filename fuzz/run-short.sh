#!/usr/bin/env bash
# Run every fuzz target for a short while (default 30 s each), one job, at the
# lowest CPU priority. For CI or a quick local check; see FUZZING.md.
#
#   bash fuzz/run-short.sh            # all targets, 30 s each
#   SECONDS_PER_TARGET=600 bash fuzz/run-short.sh pkcs12 jks
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). libFuzzer needs nightly
# compiler flags: the default (stable) toolchain is used with
# RUSTC_BOOTSTRAP=1; FUZZ_TOOLCHAIN=nightly uses `cargo +nightly` instead.
# Exits non-zero when a target finds a crash (kept in fuzz/artifacts/TARGET/).
# The timeout is 30 s: credkit accepts up to 10 million KDF iterations per
# file, about 2 s in a release build and several times that under coverage
# instrumentation; libFuzzer reports such inputs as slow units, not crashes.
set -euo pipefail
cd "$(dirname "$0")"

secs="${SECONDS_PER_TARGET:-30}"
all=(pkcs12 ber jks pem_der jwk jwt load config token_json mock_token mock_clients)
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=("${all[@]}")

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run-short.sh: installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz
fi
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
    fuzz=(cargo "+$FUZZ_TOOLCHAIN" fuzz)
else
    # The installed stable toolchain, allowed the nightly-only flags
    # libFuzzer needs (-Zsanitizer, -Cpasses=sancov-module).
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

# Seeds: the committed fixtures of each format (read only; libFuzzer writes
# new inputs to the first directory, fuzz/corpus/TARGET).
seeds() {
    local f=../fixtures
    case "$1" in
        pkcs12) echo "$f/p12 $f/check $f/corrupt" ;;
        ber) echo "$f/p12 $f/der" ;;
        jks) echo "$f/jks $f/jceks" ;;
        pem_der) echo "$f/pem $f/der $f/ca $f/business $f/keys" ;;
        jwk) echo "$f/jwk" ;;
        jwt) echo "seeds/jwt" ;;
        load) echo "$f/p12 $f/jks $f/jceks $f/pem $f/der $f/jwk $f/hostile $f/keys" ;;
        config) echo "seeds/config" ;;
        token_json) echo "seeds/token_json" ;;
        mock_token) echo "seeds/mock_token" ;;
        mock_clients) echo "seeds/mock_clients" ;;
    esac
}

flags=(-s none --debug-assertions)
nice -n 19 "${fuzz[@]}" build "${flags[@]}"
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    # shellcheck disable=SC2046
    if ! nice -n 19 "${fuzz[@]}" run "${flags[@]}" "$t" "corpus/$t" $(seeds "$t") -- \
        -max_total_time="$secs" -rss_limit_mb=512 -timeout=30 -max_len=65536 \
        -print_final_stats=1 2>"corpus/$t.log"; then
        echo "fuzz/run-short.sh: $t FAILED (see fuzz/corpus/$t.log and fuzz/artifacts/$t/)" >&2
        tail -40 "corpus/$t.log" >&2
        status=1
    else
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "corpus/$t.log" | grep -o '[0-9]*$' || true)
        echo "fuzz/run-short.sh: $t ok, ${execs:-?} executions in ${secs} s"
    fi
done
exit "$status"
