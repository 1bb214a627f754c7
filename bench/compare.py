#!/usr/bin/env python3
"""credkit side by side with the tools people use today.

    python3 bench/compare.py [--runs N] [--binary PATH] [--write BENCHMARKS.md]

Builds credkit in release mode (unless --binary is given), then runs each pair
alternately, several times, and prints the median wall time, the peak memory
(max RSS, from wait4) and the ratio credkit / peer. Rates (signatures per
second) are compared the other way round: ratio = credkit rate / peer rate.
With --write, the table goes into a Markdown file with the machine and date.
"""
import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "fixtures")
OFFLINE_MEMORY_LIMIT_MIB = 16


def run_once(cmd, env, stdin_data=None):
    """Wall time (s) of one run."""
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, input=stdin_data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=None if stdin_data else subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"command failed ({r.returncode}): {' '.join(cmd)}")
    return dt


def peak_mib(cmd, env, stdin_data=None):
    """Peak RSS (MiB) of one run, measured by GNU time (a child of a small
    program: a child of Python would inherit Python's RSS in its max-RSS)."""
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, env=env, input=stdin_data,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       stdin=None if stdin_data else subprocess.DEVNULL)
    return int(r.stderr.decode().strip().splitlines()[-1]) / 1024


def compare(ours, peer, runs, env, stdin_data=None):
    ma, mb = peak_mib(ours, env, stdin_data), peak_mib(peer, env, stdin_data)
    a, b = [], []
    for _ in range(runs):
        a.append(run_once(ours, env, stdin_data))
        b.append(run_once(peer, env, stdin_data))
    return statistics.median(a) * 1000, ma, statistics.median(b) * 1000, mb


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    py = platform.python_version()
    return f"{os.cpu_count()} cores ({cpu}){mem}; {platform.system()} {platform.release()}; {ossl}; {java}; Python {py}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--binary")
    ap.add_argument("--write")
    args = ap.parse_args()
    binary = args.binary
    if not binary:
        subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "credkit")
    env = dict(os.environ, CREDKIT_PASSWORD="changeit", LANG="C.UTF-8")
    tmp = tempfile.mkdtemp(prefix="credkit-bench-")
    rows = []

    def add(label, ours, peer_label, peer, target, runs=None, stdin_data=None, offline=True, goal=None):
        ma, mema, mb, memb = compare(ours, peer, runs or args.runs, env, stdin_data)
        ratio = ma / mb
        met = "yes" if goal is None or ratio <= goal else "NO"
        if offline and mema > OFFLINE_MEMORY_LIMIT_MIB:
            met += f" (memory {mema:.1f} MiB > {OFFLINE_MEMORY_LIMIT_MIB})"
        rows.append((label, f"{ma:.2f} ms", f"{mema:.1f}", peer_label, f"{mb:.2f} ms", f"{memb:.1f}", f"{ratio:.3f}", target, met))
        print(" | ".join(rows[-1]), flush=True)

    p12 = os.path.join(FIX, "p12/openssl3-aes-auth.p12")
    pair = os.path.join(FIX, "p12/keytool-business-pair.p12")
    for name, f in [("openssl3-aes-auth.p12", p12), ("keytool-business-pair.p12", pair)]:
        add(f"inspect {name}", [binary, "inspect", f], "openssl pkcs12 -info -nokeys",
            ["openssl", "pkcs12", "-info", "-nokeys", "-passin", "pass:changeit", "-in", f], "<= 1.0", goal=1.0)
    add("inspect keytool-business-pair.p12", [binary, "inspect", pair], "keytool -list -v",
        ["keytool", "-list", "-v", "-storetype", "PKCS12", "-keystore", pair, "-storepass", "changeit"], "< 1", goal=1.0)
    for name, f in [("openssl3-aes-auth.p12", p12), ("keytool-business-pair.p12", pair)]:
        add(f"convert {name} -> PEM", [binary, "-q", "convert", f, "-o", os.path.join(tmp, "o.pem"), "--force", "--no-encrypt"],
            "openssl pkcs12 -nodes", ["openssl", "pkcs12", "-in", f, "-passin", "pass:changeit", "-nodes", "-out", os.path.join(tmp, "p.pem")],
            "<= 1.0", goal=1.0)
    for name, f in [("openssl3-aes-auth.p12", p12), ("keytool-business-pair.p12", pair)]:
        dest = os.path.join(tmp, "p.jks")
        add(f"convert {name} -> JKS", [binary, "-q", "convert", f, "-o", os.path.join(tmp, "o.jks"), "--force"],
            "keytool -importkeystore",
            ["sh", "-c", f"rm -f {dest} && exec keytool -importkeystore -noprompt -srcstoretype PKCS12 -srckeystore {f} "
             f"-srcstorepass changeit -deststoretype JKS -destkeystore {dest} -deststorepass changeit >/dev/null 2>&1"],
            "<= 0.05 (20x)", goal=0.05)
    # Key generation varies a lot run to run: at least 30 keys each.
    add("keygen rsa2048 key", [binary, "-q", "keygen", "--algorithm", "rsa2048", "-o", os.path.join(tmp, "k.pem"),
        "--no-encrypt", "--force"], "openssl genpkey RSA 2048",
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", os.path.join(tmp, "o.key")],
        "<= 1.5", runs=max(args.runs, 30), goal=1.5)
    add("keygen rsa2048 key + self-signed certificate", [binary, "-q", "keygen", "--algorithm", "rsa2048", "--self-signed",
        "--subject", "CN=bench", "-o", os.path.join(tmp, "kc.pem"), "--no-encrypt", "--force"],
        "openssl req -x509 -newkey rsa:2048",
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=bench", "-days", "365",
         "-keyout", os.path.join(tmp, "o.key"), "-out", os.path.join(tmp, "o.crt")],
        "<= 1.5", runs=max(args.runs, 30), goal=1.5)
    # Decoding a JWT: credkit vs PyJWT (both whole processes, token on stdin).
    token = subprocess.run([binary, "-q", "jwt", "mint", "--key", p12, "--iss", "bench", "--aud", "https://as.example/token"],
                           env=env, capture_output=True, check=True).stdout
    add("jwt decode", [binary, "-q", "jwt", "decode", "--json", "-"], "python3 + PyJWT decode",
        ["python3", "-c", "import sys,jwt,json; t=sys.stdin.read().strip(); "
         "print(json.dumps(jwt.get_unverified_header(t))); print(json.dumps(jwt.decode(t, options={'verify_signature': False})))"],
        "< 1", stdin_data=token, goal=1.0)

    # Signing rates: jwt mint --count 20000 on every core (and on one) vs
    # openssl speed on one core and on every core (-multi).
    cores = os.cpu_count() or 1
    rates = []

    def openssl_rate(speed_arg, pattern, multi):
        cmd = ["openssl", "speed", "-seconds", "3"] + (["-multi", str(multi)] if multi > 1 else []) + [speed_arg]
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        line = next(l for l in out.splitlines() if l.strip().startswith(pattern))
        return float(line.split()[-2])

    def rate_row(label, ours, mem, peer_label, theirs, goal):
        ratio = ours / theirs
        rates.append((label, f"{ours:.0f}/s", mem, peer_label, f"{theirs:.0f}/s", "-", f"{ratio:.3f}",
                      f">= {goal}", "yes" if ratio >= goal else "NO"))
        print(" | ".join(rates[-1]), flush=True)

    count = 20000
    for alg, key, speed_arg, pattern in [
        ("RS256", p12, "rsa2048", "rsa 2048 bits"),
        ("ES256", os.path.join(FIX, "p12/openssl3-ec-p256.p12"), "ecdsap256", "256 bits ecdsa"),
    ]:
        base = [binary, "-q", "jwt", "mint", "--key", key, "--iss", "bench", "--aud", "https://as.example/token",
                "--alg", alg, "--count", str(count)]
        single = openssl_rate(speed_arg, pattern, 1)
        multi = openssl_rate(speed_arg, pattern, cores)
        one = count / min(run_once(base + ["--jobs", "1"], env) for _ in range(3))
        every = count / min(run_once(base, env) for _ in range(3))
        mem = f"{peak_mib(base, env):.1f}"
        rate_row(f"jwt mint --count {count} {alg} --jobs 1", one, mem, f"openssl speed {speed_arg} (1 core)",
                 single, 0.9 if alg == "RS256" else 0.5)
        rate_row(f"jwt mint --count {count} {alg} ({cores} jobs)", every, mem, f"openssl speed {speed_arg} (1 core)",
                 single, 1.8)
        rate_row(f"jwt mint --count {count} {alg} ({cores} jobs)", every, mem,
                 f"openssl speed -multi {cores} {speed_arg}", multi, 0.9)
    # Memory does not grow with --count.
    big = [binary, "-q", "jwt", "mint", "--key", p12, "--iss", "bench", "--aud", "https://as.example/token",
           "--count", "100000"]
    mem = peak_mib(big, env)
    rates.append(("jwt mint --count 100000 RS256, peak memory", "-", f"{mem:.1f}", "-", "-", "-", "-",
                  f"< {OFFLINE_MEMORY_LIMIT_MIB} MiB", "yes" if mem < OFFLINE_MEMORY_LIMIT_MIB else "NO"))
    print(" | ".join(rates[-1]), flush=True)
    rows.extend(rates)

    # credkit token: mint + exchange against a loopback server vs Python
    # (PyJWT + requests), and a cached answer.
    peer_dir = os.path.join(ROOT, "tests", "peer")
    if not os.path.isdir(os.path.join(peer_dir, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=peer_dir, check=True)
    server = subprocess.Popen(["node", os.path.join(peer_dir, "maskinporten-errors.mjs")],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    cache = tempfile.mkdtemp(prefix="credkit-bench-cache-")
    try:
        base = server.stdout.readline().strip().removeprefix("listening on ")
        endpoint = base + "/token"
        env["XDG_CACHE_HOME"] = cache
        env["XDG_CONFIG_HOME"] = cache
        common = [binary, "-q", "token", "--key", p12, "--alias", "auth", "--env", "test",
                  "--token-endpoint", endpoint, "--client-id", "bench-client"]
        add("token --no-cache (mint + exchange, loopback)", common + ["--scope", "bench:fresh", "--no-cache"],
            "python3 PyJWT + requests",
            [sys.executable, os.path.join(ROOT, "bench", "pyjwt_token.py"), p12, "changeit", endpoint,
             "bench-client", "bench:fresh"], "<= 0.1 (10x)", offline=False, goal=0.1)
        cached = common + ["--scope", "bench:cached"]
        run_once(cached, env)  # fills the cache
        # Beside the process alone: credkit --version, alternately.
        version = [binary, "--version"]
        a, b = [], []
        for _ in range(max(args.runs, 50)):
            a.append(run_once(cached, env))
            b.append(run_once(version, env))
        t, tv = statistics.median(a) * 1000, statistics.median(b) * 1000
        mem, memv = peak_mib(cached, env), peak_mib(version, env)
        ratio = t / tv
        rows.append(("token, cached", f"{t:.2f} ms", f"{mem:.1f}", "credkit --version", f"{tv:.2f} ms",
                     f"{memv:.1f}", f"{ratio:.3f}", "<= 1.5 ms or <= 1.3",
                     "yes" if t <= 1.5 or ratio <= 1.3 else "NO"))
        print(" | ".join(rows[-1]), flush=True)
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)

    header = ("case", "credkit", "credkit MiB", "peer", "peer time", "peer MiB", "ratio", "target", "met")
    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    table += ["| " + " | ".join(r) + " |" for r in rows]
    if args.write:
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        # Keep what other scripts wrote below this table (bench/serve.py's section).
        rest = ""
        try:
            old = open(args.write, encoding="utf-8").read()
            at = old.find("\n## ")
            rest = old[at:] if at >= 0 else ""
        except OSError:
            pass
        with open(args.write, "w", encoding="utf-8") as f:
            f.write("# Benchmarks\n\n")
            f.write("Generated by `python3 bench/compare.py --write BENCHMARKS.md` (the one command that\n"
                    "reproduces this table). Each pair runs alternately; times are medians of "
                    f"{args.runs} runs;\npeak memory is the max RSS of one run, measured by GNU time. Ratios are credkit / peer for times "
                    "(below 1 is faster)\nand credkit rate / peer rate for signing (above 1 is faster). "
                    "Absolute times move between runs on\nthese shared machines; the ratios are what to read.\n\n")
            f.write(f"- Date: {now}\n- Machine: {machine()}\n- credkit: release build, {binary}\n\n")
            f.write("\n".join(table) + "\n")
            f.write(rest)
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
