#!/usr/bin/env python3
"""Benchmark credkit side by side with the tools people use today.

Runs each command the same number of times, interleaved so that both see the
same machine state, and prints median wall time and the ratio
credkit / peer (below 1.0 means credkit is faster).

    python3 bench/run.py [--runs N] [--binary target/release/credkit]

It builds the release binary first unless --binary is given.
"""
import argparse
import os
import shutil
import tempfile
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "fixtures")


def timed(cmd, env):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"command failed ({r.returncode}): {' '.join(cmd)}")
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--binary")
    args = ap.parse_args()
    binary = args.binary
    if not binary:
        subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "credkit")
    env = dict(os.environ, CREDKIT_PASSWORD="changeit", LANG="C.UTF-8")

    cases = []
    for name, legacy in [
        ("p12/openssl3-aes-auth.p12", False),
        ("p12/openssl3-legacy-auth.p12", True),
        ("p12/keytool-business-pair.p12", False),
    ]:
        f = os.path.join(FIX, name)
        peer = ["openssl", "pkcs12", "-info", "-nokeys", "-passin", "pass:changeit", "-in", f]
        if legacy:
            peer.append("-legacy")
        cases.append((f"inspect {name}", [binary, "inspect", f], "openssl pkcs12 -info -nokeys", peer))
    for name, st in [("jks/business-pair.jks", "JKS"), ("p12/keytool-business-pair.p12", "PKCS12")]:
        f = os.path.join(FIX, name)
        peer = ["keytool", "-list", "-v", "-storetype", st, "-keystore", f, "-storepass", "changeit"]
        cases.append((f"inspect {name}", [binary, "inspect", f], "keytool -list -v", peer))

    tmp = tempfile.mkdtemp(prefix="credkit-bench-")
    for name in ["p12/openssl3-aes-auth.p12", "p12/keytool-business-pair.p12"]:
        f = os.path.join(FIX, name)
        ours = [binary, "-q", "convert", f, "-o", os.path.join(tmp, "o.pem"), "--force", "--no-encrypt"]
        peer = ["openssl", "pkcs12", "-in", f, "-passin", "pass:changeit", "-nodes", "-out", os.path.join(tmp, "p.pem")]
        cases.append((f"convert {name} -> PEM", ours, "openssl pkcs12 -nodes", peer))
    for name in ["p12/openssl3-aes-auth.p12", "p12/keytool-business-pair.p12"]:
        f = os.path.join(FIX, name)
        ours = [binary, "-q", "convert", f, "-o", os.path.join(tmp, "o.jks"), "--force"]
        dest = os.path.join(tmp, "p.jks")
        peer = ["sh", "-c", f"rm -f {dest} && keytool -importkeystore -noprompt -srcstoretype PKCS12 "
                f"-srckeystore {f} -srcstorepass changeit -deststoretype JKS -destkeystore {dest} "
                "-deststorepass changeit >/dev/null 2>&1"]
        cases.append((f"convert {name} -> JKS", ours, "keytool -importkeystore", peer))

    print(f"{'case':48} {'credkit ms':>10} {'peer':30} {'peer ms':>9} {'ratio':>7}")
    worst = 0.0
    for label, ours, peer_label, peer in cases:
        a, b = [], []
        # Warm the page cache and the JVM's class data once.
        timed(ours, env)
        timed(peer, env)
        for _ in range(args.runs):
            a.append(timed(ours, env))
            b.append(timed(peer, env))
        ma, mb = statistics.median(a) * 1000, statistics.median(b) * 1000
        ratio = ma / mb
        if peer_label.startswith("openssl pkcs12 -info"):
            worst = max(worst, ratio)
        print(f"{label:48} {ma:10.2f} {peer_label:30} {mb:9.2f} {ratio:7.3f}")
    # jwt mint --count 10000 against openssl speed (one core, signatures per second).
    print(f"\n{'signing rate':48} {'credkit /s':>10} {'peer':30} {'peer /s':>9} {'ratio':>7}")
    for label, key, alg, speed_arg, pattern in [
        ("jwt mint --count 10000 RS256", "p12/openssl3-aes-auth.p12", "RS256", "rsa2048", "rsa 2048 bits"),
        ("jwt mint --count 10000 ES256", "p12/openssl3-ec-p256.p12", "ES256", "ecdsap256", "256 bits ecdsa"),
    ]:
        cmd = [binary, "-q", "jwt", "mint", "--key", os.path.join(FIX, key), "--iss", "bench",
               "--aud", "https://as.example/token", "--alg", alg, "--count", "10000"]
        best = min(timed(cmd, env) for _ in range(3))
        ours = 10000 / best
        out = subprocess.run(["openssl", "speed", "-seconds", "3", speed_arg], capture_output=True, text=True).stdout
        line = next(l for l in out.splitlines() if l.strip().startswith(pattern))
        theirs = float(line.split()[-2])
        print(f"{label:48} {ours:10.0f} {'openssl speed ' + speed_arg:30} {theirs:9.0f} {ours / theirs:7.3f}")
    print("targets: RS256 >= 0.90 and ES256 >= 0.50 of openssl's rate")

    token_bench(binary, env, args.runs)

    print(f"\nworst inspect ratio against openssl pkcs12 -info: {worst:.3f} (target: <= 1.0)")
    print("targets: convert -> PEM ratio <= 1.0 against openssl; convert -> JKS ratio <= 0.05 (20x) against keytool")
    shutil.rmtree(tmp, ignore_errors=True)


def token_bench(binary, env, runs):
    """credkit token: a cached answer, and mint + exchange against a loopback
    server (tests/peer/maskinporten-errors.mjs, which answers a token without
    verifying) next to the same mint + exchange in Python (PyJWT + requests)."""
    peer_dir = os.path.join(ROOT, "tests", "peer")
    if not os.path.isdir(os.path.join(peer_dir, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=peer_dir, check=True)
    server = subprocess.Popen(["node", os.path.join(peer_dir, "maskinporten-errors.mjs")],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    cache = tempfile.mkdtemp(prefix="credkit-bench-cache-")
    try:
        base = server.stdout.readline().strip().removeprefix("listening on ")
        endpoint = base + "/token"
        p12 = os.path.join(FIX, "p12/openssl3-aes-auth.p12")
        tenv = dict(env, XDG_CACHE_HOME=cache, XDG_CONFIG_HOME=cache)
        common = [binary, "-q", "token", "--key", p12, "--alias", "auth", "--env", "test",
                  "--token-endpoint", endpoint, "--client-id", "bench-client"]
        cached = common + ["--scope", "bench:cached"]
        timed(cached, tenv)  # fills the cache
        t = sorted(timed(cached, tenv) for _ in range(runs))
        print(f"\n{'credkit token, cached':48} {statistics.median(t) * 1000:10.2f} ms median (target: < 5 ms)")

        ours = common + ["--scope", "bench:fresh", "--no-cache"]
        peer = [sys.executable, os.path.join(ROOT, "bench", "pyjwt_token.py"), p12, "changeit", endpoint,
                "bench-client", "bench:fresh"]
        timed(ours, tenv)
        timed(peer, tenv)
        a, b = [], []
        for _ in range(runs):
            a.append(timed(ours, tenv))
            b.append(timed(peer, tenv))
        ma, mb = statistics.median(a) * 1000, statistics.median(b) * 1000
        print(f"{'credkit token --no-cache (mint + exchange)':48} {ma:10.2f} {'pyjwt + requests':30} {mb:9.2f} {ma / mb:7.3f}")
        print(f"credkit is {mb / ma:.1f}x faster (target: >= 10x)")
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
