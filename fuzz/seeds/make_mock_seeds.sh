#!/usr/bin/env bash
# Seeds of the mock_token fuzz target: token-request bodies whose grants are
# valid for the target's mock (fixtures/ca, client c1 of org 123456785, its
# clock 2026-11-23T17:00:00Z), so the fuzzer starts deep in the checks.
#   bash fuzz/seeds/make_mock_seeds.sh [path/to/credkit]
set -euo pipefail
cd "$(dirname "$0")/../.."
credkit=${1:-target/debug/credkit}
out=fuzz/seeds/mock_token
mkdir -p "$out"
key=fixtures/p12/openssl3-aes-auth.p12
mint() {
    CREDKIT_PASSWORD=changeit "$credkit" --now 2026-11-23T17:00:00Z jwt mint --key "$key" \
        --profile maskinporten --aud http://127.0.0.1:7824/ --force --x5c "$@"
}
i=0
seed() {
    i=$((i + 1))
    printf 'grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer&assertion=%s' "$(mint "$@")" > "$out/grant-$i.form"
}
seed --iss c1 --scope test:read
seed --iss c1 --scope 'test:read test:write' --resource https://api.example/
seed --iss c2 --scope test:read --consumer-org 123456785
seed --iss c1 --scope test:restricted --claim pid=12345678901
seed --iss c1 --scope test:read --claim 'authorization_details=[{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"iso6523-actorid-upis","ID":"0192:987654325"}}]'
seed --iss c1 --scope openid --lifetime 200s
printf 'grant_type=client_credentials&scope=x' > "$out/wrong-grant.form"
echo "wrote $i grants to $out"
