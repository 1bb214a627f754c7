#!/usr/bin/env python3
"""`credkit serve` under load, side by side with a peer, with wrk on loopback.

    python3 bench/serve.py [--binary PATH] [--seconds N] [--write BENCHMARKS.md]

Each server runs on one core (taskset -c 0; credkit with one tokio worker
thread, its blocking pool pinned to the same core); wrk runs on the other core
(taskset -c 1). Needs wrk and taskset (apt: wrk, util-linux),
node and tests/peer's npm packages (`npm ci` in tests/peer).

- broker: cached-token requests per second, `credkit serve broker` vs a Node
  token server doing the same checks (bench/node_broker.mjs). Target: at least
  5,000 per second with no errors.
- mock: valid jwt-bearer grants per second (each with its own jti, so each is
  verified, checked for replay and answered with a new RS256 token),
  `credkit serve mock-maskinporten` vs the RFC 7523 handler on panva's
  oidc-provider in tests/peer/server.mjs (jose's jwtVerify, oidc-provider's
  replay store, an RS256 JWT access token). Target: at least 1,000 per second
  with no errors. The grants are minted in advance by `credkit jwt mint
  --count`, so the mock runs with --iat-skew 300s (the grants are older than
  Maskinporten's 10 s when they arrive).

Ratios are credkit rate / peer rate (above 1 is faster).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "fixtures")
P12 = os.path.join(FIX, "p12", "openssl3-aes-auth.p12")
GRANT = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="

WRK_GRANTS = r"""
local grants, i = {}, 0
init = function(args)
  for line in io.lines(args[1]) do grants[#grants + 1] = line end
end
request = function()
  i = i + 1
  local g = grants[i]
  if g == nil then g = "exhausted" end
  return wrk.format("POST", "/token", {["Content-Type"] = "application/x-www-form-urlencoded"}, g)
end
"""


def start(cmd, env=None, cwd=None):
    """Start a server that prints its URL (or a JSON line) first; return (proc, first line)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                         env=env, cwd=cwd, text=True)
    line = p.stdout.readline()
    if not line:
        sys.exit(f"did not start: {' '.join(cmd)}")
    return p, line.strip()


def wrk(url, seconds, conns, script=None, script_args=(), headers=()):
    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    if script_args:
        cmd += ["--"] + list(script_args)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)) else 0
    sockerr = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    p99 = m.group(1) if (m := re.search(r"99%\s+(\S+)", out)) else "?"
    return {"rate": rate, "requests": total, "errors": non2xx + sockerr, "p99": p99}


def mint(binary, n, iss, aud, extra, path):
    env = dict(os.environ, CREDKIT_PASSWORD="changeit")
    r = subprocess.run([binary, "-q", "jwt", "mint", "--key", P12, "--count", str(n), "--iss", iss,
                        "--aud", aud, "--lifetime", "120s"] + extra, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"jwt mint failed: {r.stderr}")
    with open(path, "w") as f:
        for line in r.stdout.split():
            f.write(GRANT + line + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--write")
    args = ap.parse_args()
    for tool in ("wrk", "taskset", "node"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (apt-get install wrk util-linux nodejs)")
    binary = args.binary
    if not binary:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "credkit")
    tmp = tempfile.mkdtemp(prefix="credkit-bench-serve-")
    procs = []
    rows = []
    try:
        peer_dir = os.path.join(ROOT, "tests", "peer")
        # ---- broker: cached tokens ----
        upstream, line = start(["node", os.path.join(peer_dir, "maskinporten-errors.mjs")], cwd=peer_dir)
        procs.append(upstream)
        base = line.split()[-1]
        cfg = os.path.join(tmp, "config.toml")
        with open(cfg, "w") as f:
            f.write(f'[profiles.bench]\nkey = "{P12}"\nalias = "auth"\npassword_env = "BENCH_PW"\n'
                    f'client_id = "bench"\nscope = "bench:read"\nissuer = "{base}/"\njwt_profile = "maskinporten"\n')
        env = dict(os.environ, BENCH_PW="changeit")
        broker, line = start(["taskset", "-c", "0", binary, "--json", "-q", "serve", "broker", "--config", cfg,
                              "--port", "0", "--threads", "1"], env=env)
        procs.append(broker)
        info = json.loads(line)
        url, secret = info["url"] + "/token/bench", info["secret"]
        warm = subprocess.run(["curl", "-s", "-H", f"X-Credkit-Secret: {secret}", url], capture_output=True, text=True)
        token = json.loads(warm.stdout)["access_token"]
        ours = wrk(url, args.seconds, 32, headers=[f"X-Credkit-Secret: {secret}"])
        node, line = start(["taskset", "-c", "0", "node", os.path.join(ROOT, "bench", "node_broker.mjs")],
                           env=dict(os.environ, SECRET=secret, TOKEN=token))
        procs.append(node)
        peer = wrk(line.split()[-1] + "/token/bench", args.seconds, 32, headers=[f"X-Credkit-Secret: {secret}"])
        rows.append(("broker: cached token, GET /token/<profile>", ours, "Node token server (bench/node_broker.mjs)",
                     peer, 5000))
        for p in (broker, node):
            p.terminate()

        # ---- mock: valid grants ----
        script = os.path.join(tmp, "grants.lua")
        with open(script, "w") as f:
            f.write(WRK_GRANTS)
        clients = os.path.join(tmp, "clients.toml")
        with open(clients, "w") as f:
            f.write('[[client]]\nclient_id = "bench"\norg = "123456785"\nscopes = ["test:read"]\n')
        mock, line = start(["taskset", "-c", "0", binary, "--json", "-q", "serve", "mock-maskinporten",
                            "--ca", os.path.join(FIX, "ca", "chain.pem"), "--clients", clients, "--port", "0",
                            "--threads", "1", "--iat-skew", "300s"])
        procs.append(mock)
        info = json.loads(line)
        n = 5000 * args.seconds
        grants = os.path.join(tmp, "mock-grants.txt")
        mint(binary, n, "bench", info["issuer"], ["--profile", "maskinporten", "--x5c", "--force",
                                                  "--scope", "test:read"], grants)
        ours = wrk(info["token_endpoint"], args.seconds, 16, script, [grants])
        oidc, line = start(["taskset", "-c", "0", "node", os.path.join(peer_dir, "server.mjs")], cwd=peer_dir)
        procs.append(oidc)
        issuer = line.split()[-1]
        grants2 = os.path.join(tmp, "oidc-grants.txt")
        mint(binary, n, "mp-client", issuer, ["--profile", "generic", "--scope", "api:read",
                                              "--kid", "nQmRFZpVyMPAKaTCfmrLppWdDUkubMDbru-LMPAU6O4"], grants2)
        peer = wrk(issuer + "/token", args.seconds, 16, script, [grants2])
        rows.append(("mock-maskinporten: valid grant → token, POST /token", ours,
                     "oidc-provider jwt-bearer (tests/peer/server.mjs)", peer, 1000))
    finally:
        for p in procs:
            p.terminate()
        shutil.rmtree(tmp, ignore_errors=True)

    head = ("case", "credkit req/s", "errors", "p99", "peer", "peer req/s", "peer errors", "ratio", "target", "met")
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for label, o, peer_label, p, target in rows:
        met = "yes" if o["rate"] >= target and o["errors"] == 0 else "NO"
        lines.append(f"| {label} | {o['rate']:.0f} | {o['errors']} | {o['p99']} | {peer_label} | {p['rate']:.0f} | "
                     f"{p['errors']} | {o['rate'] / p['rate']:.2f} | ≥ {target}/s, no errors | {met} |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        section = (f"\n## serve under load\n\n`python3 bench/serve.py --write {args.write}`, "
                   f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu}, "
                   f"{os.cpu_count()} cores, {platform.system()} {platform.release()}.\n"
                   f"Each server on one core (taskset -c 0; credkit: one tokio worker, its blocking pool on the same core), wrk on the other "
                   f"(-t1, {args.seconds} s; 32 connections for the brokers, 16 for the token endpoints).\n"
                   "Ratio = credkit rate / peer rate. Errors = non-2xx answers plus socket errors.\n\n"
                   + table + "\n")
        path = args.write
        text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
        text = re.sub(r"\n## serve under load\n.*?(?=\n## |\Z)", "", text, flags=re.S)
        open(path, "w").write(text.rstrip("\n") + "\n" + section)


if __name__ == "__main__":
    main()
