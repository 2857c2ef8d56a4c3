#!/usr/bin/env python3
"""`make bench`: voiceswarm's benchmarks, on this machine, against loopback only.

1. backend: requests/s of the reference backend (--latency-scale 0) on /health and /api/v1/llm,
   pinned to CPU 0 with wrk on CPU 1.
2. overhead: bare Goose (examples/bare_goose.rs) vs voiceswarm running the same one-step scenario
   with all its measurement on; backend on CPU 0, generator on CPU 1, alternating runs, median ratio.
   instructions: the same comparison in instructions per request counted by callgrind, which
   shared-host noise does not move.
3. journeys: requests/s and CPU per 1,000 requests of the default journeys with no think time
   against the zero-latency backend; then CPU per request of the five HTTP journeys, voiceswarm
   against Locust FastHttpUser on benches/locustfile.py (when `locust` is installed).
4. memory: peak RSS per simulated caller, 1,000 and 10,000 voice-conversation users with their listen
   think times against the default latency model, per-user and shared HTTP clients; the marginal cost
   of a caller between the two sizes says whether it stays flat.
5. recorder: ns per sample, and merge + percentiles of 10 million samples (benches/recorder.rs).
6. startup: time from process start to the first request with 1,000 users configured.
8. capacity: a realistic capacity search (default journeys and targets, 8 workers per component).
9. calls: the most concurrent paced phone calls one generator core keeps within 5 ms of real time (frame
   lateness P99) with 0 failed calls, for twilio (benches/calls.json) and raw (benches/calls_raw.json), and with
   BENCH_CALL_PROTOCOLS=webrtc over WebRTC (benches/calls_webrtc.json: WHIP, Opus): doubling
   from BENCH_CALLS_START (100) up to BENCH_CALLS_MAX (4000), then bisecting to BENCH_CALLS_RESOLUTION (10) %;
   each step's CPU µs per call-second, memory per call and voice-to-voice against the bot's fixed stages.
   BENCH_CALL_SECONDS (30), BENCH_CALL_PROTOCOLS (twilio,raw; webrtc too when named).
9b. send_floor: the kernel's own cost of a call's frames (a 350-byte write per loopback connection every
   20 ms, one pinned thread, no WebSocket or runtime) at FLOOR_CONNS (500,1000,2000) (benches/send_floor.rs).
11. arrivals: how late arrivals start against their schedule at BENCH_ARRIVAL_RATE (1000/s) on one core.
12. trend: `voiceswarm trend` over 1,000 run folders (copies of one real run, a day apart), best of 3.
13. verdicts: the regression rule (`report --baseline`, the rule `trend` applies too) on BENCH_VERDICT_PAIRS (100)
   pairs of identical short runs (how many it flags: goal ≤ 1) and as many pairs whose second run's backend is 15 %
   slower (goal: flagged in ≥ 95 %), each run a few seconds of the company lookup with no think time against the
   in-process backend's seeded latency model, at least 2,000 samples; and how often each run's 95 % interval holds
   the true P90 (the P90 of all runs of its configuration pooled; goal 93–97 %). BENCH_VERDICT_USERS (48) and
   BENCH_VERDICT_SECONDS (2) size a run.
7. soak (only with BENCH_ONLY=soak, `make soak`): the medium profile for BENCH_SOAK_MINUTES (30);
   generator RSS at the start and the end of the hold.

Results are printed and written to bench-results/<UTC time>.md. Environment: BENCH_SECONDS (15),
BENCH_REPS (3), BENCH_USERS (50), BENCH_CALLERS (1000,10000), BENCH_ONLY (comma list of the names above),
BENCH_BIN (a voiceswarm binary to use instead of building target/release/voiceswarm).
"""
import csv as csvmod, json, os, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
# BENCH_BIN runs another build of voiceswarm (no release build is made then): the verdicts part
# measures the backend's sleeps, which an optimised test build times as well.
BIN = os.environ.get("BENCH_BIN", "target/release/voiceswarm")
BARE = "target/release/examples/bare_goose"
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
REPS = int(os.environ.get("BENCH_REPS", "3"))
USERS = int(os.environ.get("BENCH_USERS", "50"))
CALLERS = [int(n) for n in os.environ.get("BENCH_CALLERS", "1000,10000").split(",")]
ONLY = [x for x in os.environ.get("BENCH_ONLY", "").split(",") if x]
os.makedirs("bench-results", exist_ok=True)
OUT = os.path.join("bench-results", time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + ".md")
CORES = os.cpu_count() or 1


def say(line=""):
    print(line, flush=True)
    with open(OUT, "a") as f:
        f.write(line + "\n")


def pin(cpu):
    return ["taskset", "-c", str(cpu)] if CORES > 1 else []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Backend:
    def __init__(self, *flags, cpu=0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(pin(cpu) + [BIN, "serve", "--port", str(self.port), *flags],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1).read()
                return
            except Exception:
                if time.time() > deadline:
                    raise SystemExit("bench: the backend did not start")
                time.sleep(0.05)

    def requests(self):
        return json.load(urllib.request.urlopen(self.url + "/api/v1/stats", timeout=5))["requests"]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait()


def wrk(url, script=None):
    cmd = pin(1) + ["wrk", "-t1", "-c50", f"-d{SECONDS}s", url]
    if script:
        cmd[len(pin(1)) + 1:len(pin(1)) + 1] = ["-s", script]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise SystemExit("bench: no Requests/sec in wrk's output:\n" + out)


def goose_aggregate(report_json):
    """(requests per second, number of requests) of a Goose JSON report's Aggregated row."""
    d = json.load(open(report_json))
    for row in d["raw_request_metrics"]:
        if row["name"] == "Aggregated":
            return row["requests_per_second"], row["number_of_requests"]
    raise SystemExit(f"bench: no Aggregated row in {report_json}")


def timed(cmd):
    """Runs cmd under GNU time; returns (user+sys CPU seconds, peak RSS KiB)."""
    with tempfile.NamedTemporaryFile("r") as t:
        subprocess.run(["/usr/bin/time", "-o", t.name, "-f", "%U %S %M"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        u, s, m = t.read().split()[-3:]
        return float(u) + float(s), int(m)


def voiceswarm_run(host, *flags, cpu=None, out=None):
    out = out or tempfile.mkdtemp(prefix="vs-bench-")
    run_dir = os.path.join(out, "run")
    cmd = (pin(cpu) if cpu is not None else []) + [BIN, "run", "-H", host, "--out", run_dir, *flags]
    cpu_s, rss = timed(cmd)
    return run_dir, cpu_s, rss


def bench_backend():
    say("## 1. Reference backend (--latency-scale 0, pinned to one core, wrk -c50 on the other)")
    with Backend("--latency-scale", "0") as b:
        health = wrk(b.url + "/health")
        llm = wrk(b.url, "benches/llm.lua")
    say(f"- /health: {health:,.0f} requests/s")
    say(f"- /api/v1/llm (every request a cache miss: search scoring, cache write): {llm:,.0f} requests/s")
    say(f"  command: taskset -c 0 {BIN} serve --latency-scale 0; taskset -c 1 wrk -t1 -c50 -d{SECONDS}s")


def bench_overhead():
    say(f"## 2. Generator overhead vs bare Goose ({USERS} users, {SECONDS}s, backend CPU 0, generator CPU 1, {REPS} alternating pairs)")
    say("Throughput swings by up to ±25 % between runs on these machines (shared hosts), so the generator's own CPU")
    say("time per request is reported too: at saturation it is the inverse of its throughput, without the steal time.")
    common = ["-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s", "--no-reset-metrics", "-q", "--no-telnet"]
    rps_ratios, cpu_ratios, bare_all, vs_all = [], [], [], []
    with Backend("--latency-scale", "0") as b:
        for rep in range(REPS):
            tmp = tempfile.mkdtemp(prefix="vs-bench-")
            bare_report = os.path.join(tmp, "bare.json")
            bare_cpu, _ = timed(pin(1) + [BARE, "-H", b.url, *common, "--report-file", bare_report])
            run_dir, vs_cpu, _ = voiceswarm_run(b.url, "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s", "-q",
                                                "--scenario-file", "benches/one_step.json",
                                                "--targets", "benches/no_targets.json", cpu=1, out=tmp)
            (bare, bare_n), (vs, vs_n) = goose_aggregate(bare_report), goose_aggregate(os.path.join(run_dir, "report.json"))
            bare_us, vs_us = bare_cpu * 1e6 / bare_n, vs_cpu * 1e6 / vs_n
            bare_all.append(bare); vs_all.append(vs)
            rps_ratios.append(vs / bare); cpu_ratios.append(bare_us / vs_us)
            say(f"- pair {rep + 1}: bare Goose {bare:,.0f} req/s ({bare_us:.1f} µs CPU/request), "
                f"voiceswarm {vs:,.0f} req/s ({vs_us:.1f} µs CPU/request); throughput ratio {vs / bare:.3f}, CPU ratio {bare_us / vs_us:.3f}")
    say(f"- median: bare Goose {statistics.median(bare_all):,.0f} req/s, voiceswarm {statistics.median(vs_all):,.0f} req/s; "
        f"**throughput ratio {statistics.median(rps_ratios):.3f}**, **CPU-per-request ratio {statistics.median(cpu_ratios):.3f}** (goal ≥ 0.9)")


def instructions(cmd):
    """Instructions the command executes, counted by callgrind (repeatable, unlike seconds)."""
    with tempfile.TemporaryDirectory() as d:
        err = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg"] + cmd,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    for line in err.splitlines():
        if "Collected :" in line:
            return int(line.split()[-1])
    raise SystemExit("bench: callgrind reported no count:\n" + err[-2000:])


def bench_instructions():
    say("## 2b. Generator overhead vs bare Goose, in instructions per request (callgrind)")
    users, small, large = 10, 20, 220
    per_request = {}
    with Backend("--latency-scale", "0") as b:
        for name in ["bare Goose", "voiceswarm"]:
            counts = []
            for iterations in (small, large):
                tmp = tempfile.mkdtemp(prefix="vs-bench-")
                if name == "bare Goose":
                    cmd = [BARE, "-H", b.url, "-u", str(users), "-r", "100", "--iterations", str(iterations), "-q",
                           "--no-telnet", "--report-file", os.path.join(tmp, "bare.json")]
                else:
                    cmd = [BIN, "run", "-H", b.url, "-u", str(users), "-r", "100", "--iterations", str(iterations), "-q",
                           "--scenario-file", "benches/one_step.json", "--targets", "benches/no_targets.json",
                           "--out", os.path.join(tmp, "run")]
                counts.append(instructions(cmd))
            # The difference between a long and a short run is the requests alone: start-up,
            # reports and shutdown cancel out.
            per_request[name] = (counts[1] - counts[0]) / (users * (large - small))
            say(f"- {name}: {per_request[name]:,.0f} instructions per request")
    ratio = per_request["bare Goose"] / per_request["voiceswarm"]
    say(f"- **ratio {ratio:.3f}** (bare Goose's instructions per request over voiceswarm's; goal ≥ 0.9)")


def bench_accuracy():
    users = int(os.environ.get("BENCH_ACCURACY_USERS", "2000"))
    say(f"## 2c. Accuracy: {users} users, no think time, against exactly 100 ms of server time (backend CPU 0, generator CPU 1)")
    say("Ground truth is the backend's own sleep (100 ms, reported in Server-Timing). Client overhead = measured − 100 ms.")
    common = ["-u", str(users), "-r", str(users), "-t", f"{SECONDS}s", "-q"]
    with Backend("--fixed-latency-ms", "100", "--workers-per-component", "100000") as b:
        tmp = tempfile.mkdtemp(prefix="vs-acc-")
        bare_report = os.path.join(tmp, "bare.json")
        env = dict(os.environ, BARE_PATH="/api/v1/company/acme")
        subprocess.run(pin(1) + [BARE, "-H", b.url, *common, "--no-telnet", "--no-reset-metrics", "--report-file", bare_report],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        run_dir, _, _ = voiceswarm_run(b.url, *common, "--scenario-file", "benches/company.json",
                                       "--targets", "benches/no_targets.json", cpu=1, out=tmp)
    bare = json.load(open(bare_report))
    bare_row = next(r for r in bare["raw_response_metrics"] if r["name"] != "Aggregated")
    bare_rps, _ = goose_aggregate(bare_report)
    s = json.load(open(os.path.join(run_dir, "summary.json")))
    m = {x["name"]: x for x in s["metrics"]}
    vs_goose = next(r for r in json.load(open(os.path.join(run_dir, "report.json")))["raw_response_metrics"] if r["name"] != "Aggregated")
    vs_rps, _ = goose_aggregate(os.path.join(run_dir, "report.json"))
    say(f"- load (Goose's figures for both): bare Goose {bare_rps:,.0f} req/s, voiceswarm {vs_rps:,.0f} req/s")
    say("| percentile | bare Goose (headers, ms) | voiceswarm, Goose's view (headers, ms) | voiceswarm full response (ms) | server:company (ms) | server stage vs truth |")
    say("|---|---|---|---|---|---|")
    for p, key, gk in [(50, "median_ms", "percentile_50"), (90, "p90_ms", "percentile_90"), (99, "p99_ms", "percentile_99")]:
        stage = m["server:company"][key]
        say(f"| P{p} | {bare_row[gk]} (+{bare_row[gk] - 100}) | {vs_goose[gk]} (+{vs_goose[gk] - 100}) | "
            f"{m['company:lookup'][key]:.2f} (+{m['company:lookup'][key] - 100:.2f}) | {stage:.2f} | {100 * (stage - 100) / 100:+.2f} % |")


HTTP_JOURNEYS = "voiceconversation,clientpipeline,textchat,companylookup,monitoring"


def bench_journeys():
    say(f"## 3. Default journeys, no think time ({USERS} users, {SECONDS}s, zero-latency backend on CPU 0, generator on CPU 1)")
    with Backend("--latency-scale", "0") as b:
        run_dir, cpu_s, rss = voiceswarm_run(b.url, "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s", "-q",
                                             "--think-scale", "0", "--targets", "benches/no_targets.json", cpu=1)
        s = json.load(open(os.path.join(run_dir, "summary.json")))
        req = s["totals"]["requests"]
        say(f"- all six journeys: {s['totals']['rps']:,.0f} requests/s ({req:,} requests, {s['totals']['error_rate_percent']:.2f}% errors); "
            f"generator CPU {cpu_s:.1f} s = {cpu_s * 1000 / max(req, 1) * 1000:.1f} ms per 1,000 requests; peak RSS {rss / 1024:.0f} MiB")
        bare_report = os.path.join(tempfile.mkdtemp(prefix="vs-bench-"), "bare.json")
        bare_cpu, _ = timed(pin(1) + [BARE, "-H", b.url, "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s",
                                      "--no-reset-metrics", "-q", "--no-telnet", "--report-file", bare_report])
        say(f"- beside it, bare Goose's bare GET of /health: {bare_cpu * 1e6 / max(goose_aggregate(bare_report)[1], 1):.1f} µs CPU per request")
        locust = os.environ.get("BENCH_LOCUST") or shutil.which("locust")
        if not locust:
            say("- Locust side skipped: no `locust` on PATH (pip install locust, or BENCH_LOCUST=/path/to/locust)")
            return
        say(f"- the five HTTP journeys (the phone call left out: Locust has no paced audio), voiceswarm vs Locust FastHttpUser "
            f"(`benches/locustfile.py`, {subprocess.run([locust, '--version'], capture_output=True, text=True).stdout.split(' from')[0]}), "
            f"same users, both on CPU 1, {REPS} alternating pairs; CPU per request:")
        ours, theirs = [], []
        for _ in range(REPS):
            run_dir, cpu_s, _ = voiceswarm_run(b.url, "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s", "-q",
                                               "--think-scale", "0", "--scenarios", HTTP_JOURNEYS,
                                               "--targets", "benches/no_targets.json", cpu=1)
            s = json.load(open(os.path.join(run_dir, "summary.json")))
            ours.append((cpu_s / max(s["totals"]["requests"], 1) * 1e6, s["totals"]["requests"]))
            theirs.append(locust_run(locust, b.url))
        for who, runs in [("voiceswarm", ours), ("Locust FastHttpUser", theirs)]:
            say(f"  - {who}: median **{statistics.median(r[0] for r in runs):.1f} µs per request** "
                f"({', '.join(f'{us:.1f} µs over {n:,}' for us, n in runs)})")
        ratio = statistics.median(r[0] for r in theirs) / statistics.median(r[0] for r in ours)
        say(f"  - Locust needs **{ratio:.1f}x** voiceswarm's CPU per request (goal ≥ 5x: {'met' if ratio >= 5 else 'missed'}; "
            f"goal ≤ 35 µs: {'met' if statistics.median(r[0] for r in ours) <= 35 else 'missed, see benches/README.md'})")


def locust_run(locust, host):
    """(CPU µs per request, requests) of one headless Locust run of benches/locustfile.py on CPU 1."""
    out = tempfile.mkdtemp(prefix="vs-bench-locust-")
    csv = os.path.join(out, "run")
    cpu_s, _ = timed(pin(1) + [locust, "-f", "benches/locustfile.py", "--headless", "-u", str(USERS), "-r", str(USERS),
                               "-t", f"{SECONDS}s", "-H", host, "--csv", csv, "--only-summary", "--loglevel", "WARNING"])
    with open(csv + "_stats.csv") as f:
        for row in csvmod.DictReader(f):
            if row["Name"] == "Aggregated":
                requests = int(row["Request Count"])
                failures = int(row["Failure Count"])
                if failures > requests // 100:
                    raise SystemExit(f"bench: Locust saw {failures} failures in {requests} requests: is locustfile.py in step?")
                return cpu_s / max(requests, 1) * 1e6, requests
    raise SystemExit(f"bench: no Aggregated row in {csv}_stats.csv")


def bench_memory():
    sizes = ", ".join(f"{n:,}" for n in CALLERS)
    say(f"## 4. Memory per simulated caller ({sizes} voice-conversation users with listen think times, default latency model)")
    hold = max(SECONDS * 2, 30)
    with Backend("--workers-per-component", "4096", cpu=0) as b:
        base_dir, _, base_rss = voiceswarm_run(b.url, "-u", "1", "-r", "1", "-t", "3s", "-q", "--scenarios", "voiceconversation",
                                               "--targets", "benches/no_targets.json", cpu=1)
        say(f"- a 1-user run: peak RSS {base_rss / 1024:.0f} MiB")
        for mode in ["shared", "per-user"]:
            peaks = []
            for callers in CALLERS:
                run_dir, cpu_s, rss = voiceswarm_run(b.url, "-u", str(callers), "-r", str(max(callers // 10, 1)), "-t", f"{hold}s",
                                                     "-q", "--scenarios", "voiceconversation", "--client", mode,
                                                     "--targets", "benches/no_targets.json", cpu=1)
                s = json.load(open(os.path.join(run_dir, "summary.json")))
                peaks.append((callers, rss))
                say(f"- --client {mode}, {callers:,} callers: peak RSS {rss / 1024:.0f} MiB = **{rss / callers:.1f} KiB per caller** "
                    f"({(rss - base_rss) / callers:.1f} KiB above the 1-user run); "
                    f"{s['totals']['requests']:,} requests, {s['totals']['error_rate_percent']:.2f}% errors")
            goal = {"shared": 18, "per-user": 48}[mode]
            # Judged where fixed costs weigh least: the largest swarm, above the 1-user run.
            callers, rss = peaks[-1]
            cost = (rss - base_rss) / callers
            verdict = "met" if cost <= goal else f"missed by {cost - goal:.0f} KiB: each connection's read buffer, see benches/README.md"
            say(f"- --client {mode}: goal ≤ {goal} KiB per caller at {callers:,}: {cost:.1f} KiB, {verdict}")
            if len(peaks) > 1:
                (n0, r0), (n1, r1) = peaks[0], peaks[-1]
                say(f"- --client {mode}: each caller from {n0:,} to {n1:,} adds {(r1 - r0) / (n1 - n0):.1f} KiB")


def say_cargo_bench(name):
    """Runs `cargo bench --bench NAME` (benches/NAME.rs) and says each of its `NAME: …` lines as a bullet."""
    out = subprocess.run(["cargo", "bench", "--locked", "--bench", name], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith(f"{name}:"):
            say("- " + line[len(name) + 2:])


def bench_recorder():
    say("## 5. Recorder (cargo bench --bench recorder)")
    say_cargo_bench("recorder")


def bench_send_floor():
    say("## 9b. The send floor: the kernel's cost of a call's frames alone (cargo bench --bench send_floor)")
    say("One 350-byte write per loopback TCP connection every 20 ms from one thread on CPU 1, a reader on CPU 0; "
        "what voiceswarm spends per frame above this (calls, above) is its own.")
    say_cargo_bench("send_floor")


def bench_startup():
    say("## 6. Time to first request, 1,000 users configured (spawn rate 1,000/s)")
    times = []
    with Backend("--latency-scale", "0") as b:
        for _ in range(REPS):
            before = b.requests()
            tmp = tempfile.mkdtemp(prefix="vs-bench-")
            t0 = time.perf_counter()
            p = subprocess.Popen([BIN, "run", "-H", b.url, "--out", os.path.join(tmp, "run"), "-u", "1000", "-r", "1000", "-t", "2s", "-q",
                                  "--scenario-file", "benches/company.json", "--targets", "benches/no_targets.json"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while b.requests() == before:
                time.sleep(0.002)
            times.append(time.perf_counter() - t0)
            p.wait()
    say(f"- median {statistics.median(times) * 1000:.0f} ms over {REPS} runs ({', '.join(f'{t * 1000:.0f}' for t in times)} ms; goal ≤ 300 ms)")


def rss_kib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def bench_soak():
    minutes = float(os.environ.get("BENCH_SOAK_MINUTES", "30"))
    say(f"## 7. Soak: the medium profile (50 users, 5/s) for {minutes:g} minutes against the reference backend")
    with Backend(cpu=0) as b:
        tmp = tempfile.mkdtemp(prefix="vs-soak-")
        p = subprocess.Popen(pin(1) + [BIN, "run", "-H", b.url, "--profile", "medium", "-t", f"{int(minutes * 60)}s", "-q",
                                       "--out", os.path.join(tmp, "run")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples = []
        t0 = time.time()
        while p.poll() is None:
            r = rss_kib(p.pid)
            if r:
                samples.append((time.time() - t0, r))
            time.sleep(5)
    ramp = 10  # 50 users at 5 per second
    hold = [(t, r) for t, r in samples if t >= ramp + 5]
    if not hold:
        raise SystemExit("bench: the soak run ended before its hold")
    start, end = hold[0], hold[-1]
    peak = max(r for _, r in hold)
    s = json.load(open(os.path.join(tmp, "run", "summary.json")))
    say(f"- generator RSS at the start of the hold ({start[0]:.0f} s): {start[1] / 1024:.1f} MiB; at its end ({end[0]:.0f} s): "
        f"{end[1] / 1024:.1f} MiB; peak {peak / 1024:.1f} MiB; change {100 * (end[1] - start[1]) / start[1]:+.1f} %")
    say(f"- {s['totals']['requests']:,} requests, {s['totals']['error_rate_percent']:.2f}% errors, verdict exit code {s['exit_code']}")


def bench_capacity():
    step = os.environ.get("BENCH_CAPACITY_STEP", "20s")
    say(f"## 8. Capacity search: default journeys and targets against the reference backend with 8 workers per component ({step} steps)")
    with Backend("--workers-per-component", "8", cpu=0) as b:
        tmp = tempfile.mkdtemp(prefix="vs-cap-")
        t0 = time.time()
        subprocess.run([BIN, "capacity", "-H", b.url, "--step-time", step, "--out", os.path.join(tmp, "cap")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        took = time.time() - t0
    c = json.load(open(os.path.join(tmp, "cap", "capacity.json")))
    say(f"- maximum sustainable: {c['max_sustainable_users']} users, {c['max_sustainable_rps'] or 0:.1f} requests/s; "
        f"first failing: {c['first_failing_users']} users; {c['steps_run']} steps in {took:.0f} s")
    say(f"- stopped because: {c['stopped_because']}")
    for st in c["steps"]:
        m = ", ".join(f"{x['name']} p90 {x['p90_ms']:.0f}" for x in st["metrics"])
        say(f"  - {st['users']} users: {st['rps']:.1f} req/s, {st['error_rate_percent']:.2f}% errors, {'ok' if st['passed'] else 'broke ' + (st['broke'] or '')}; {m}")
    say(f"- chart: {os.path.join(tmp, 'cap', 'capacity.html')}")


# The bot's fixed stages in the calls bench, so voice-to-voice has a truth to be measured against:
# endpointing 300 + STT 20 + LLM 20 + TTS's first chunk 10 (half its 20 ms) after the last speech frame.
CALL_BOT = ["--workers-per-component", "100000", "--fixed-latency-ms", "20", "--endpoint-ms", "300", "--cache-ttl", "0"]
CALL_TRUTH_MS = 350.0
CALL_SCENARIOS = {"twilio": "benches/calls.json", "raw": "benches/calls_raw.json", "webrtc": "benches/calls_webrtc.json"}


def cpu_ticks(pid):
    """User + system CPU seconds a process has used so far."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def call_run(b, calls, hold, scenario="benches/calls.json", *flags):
    """A run of `calls` paced phone calls held for `hold` seconds after a ramp of calls/10 per second, generator on
    CPU 1 with a shared HTTP client; (summary, generator CPU seconds, peak RSS KiB, the bot's CPU seconds, run folder)."""
    ramp = max(calls // 10, 1)
    bot0 = cpu_ticks(b.proc.pid)
    run_dir, cpu_s, rss = voiceswarm_run(b.url, "-u", str(calls), "-r", str(ramp), "-t", f"{hold}s", "-q",
                                         "--scenario-file", scenario, "--targets", "benches/call_targets.json",
                                         "--client", "shared", *flags, cpu=1)
    try:
        s = json.load(open(os.path.join(run_dir, "summary.json")))
    except (OSError, ValueError):
        s = {"metrics": [], "totals": {"duration_s": 1}}
    return s, cpu_s, rss, cpu_ticks(b.proc.pid) - bot0, run_dir


def per_turn_agreement(run_dir, bot_log):
    """|voiceswarm's voice-to-voice − the bot's own gap| per turn, matched by call id and turn (calls.jsonl against
    `serve --bot-log`): (turns matched, median, P99, max) in ms and the turns beyond 5 ms by the side whose read was
    off (the bot's, ours); None without a match (WebRTC: the bot logs no turns)."""
    def turns(path):
        try:
            return [j for j in map(json.loads, open(path)) if j.get("event") == "turn"]
        except (OSError, ValueError):
            return []
    theirs = {(j["call"], j["turn"]): j for j in turns(bot_log)}
    pairs = [(j, theirs[(j["call_id"], j["turn"])]) for j in turns(os.path.join(run_dir, "calls.jsonl"))
             if (j.get("call_id"), j.get("turn")) in theirs and j.get("voice_to_voice_ms") is not None]
    d = sorted(abs(o["voice_to_voice_ms"] - t["gap_ms"]) for o, t in pairs)
    if not d:
        return None
    # Which side's read a turn beyond 5 ms is off on: the bot's of the caller's last speech frame
    # (its stamp vs. our send stamp), or ours of the bot's first reply frame (vs. its send stamp).
    # A reader more than a frame behind takes the later frame's stamp (voiceswarm-net's docs).
    bots = sum(abs(t.get("last_speech_in_ns", 0) - o.get("last_speech_sent_ns", 0)) > 5e6 for o, t in pairs)
    ours = sum(abs(o.get("first_reply_received_ns", 0) - t.get("first_reply_out_ns", 0)) > 5e6 for o, t in pairs)
    return len(d), d[len(d) // 2], d[int(0.99 * (len(d) - 1))], d[-1], bots, ours


def metric(s, name, field):
    return next((m[field] for m in s["metrics"] if m["name"] == name), float("nan"))


def call_step(b, n, hold, scenario, base_rss, bot_log):
    """One step of the search: its table row, and whether it held (lateness P99 ≤ 5 ms, 0 failed, calls done)."""
    load = os.getloadavg()[0]
    open(bot_log, "w").close()  # this step's turns only (call ids start again in each run)
    s, cpu_s, rss, bot_s, run_dir = call_run(b, n, hold, scenario)
    agreement = per_turn_agreement(run_dir, bot_log)
    agreed = "–" if agreement is None else "{1:.2f} / {2:.2f} / {3:.2f} ({0:,}) | {4:,} / {5:,}".format(*agreement)
    late = metric(s, "call:frame_lateness", "p99_ms")
    c = s["totals"].get("calls") or {}
    frames = next((m["count"] for m in s["metrics"] if m["name"] == "call:frame_lateness"), 0)
    call_s = frames * 0.020
    wall = s["totals"].get("duration_s") or 1
    v2v = metric(s, "call:voice_to_voice", "median_ms")
    # Calls cut short by the run's end are not failures; a step that started fewer calls than asked did not hold.
    # Reading too (WebSocket calls): a read over a frame late takes the next frame's stamp.
    read_lag = metric(s, "call:read_lag", "p99_ms")
    held = late <= 5.0 and c.get("failed", 1) == 0 and c.get("started", 0) >= n and not read_lag > 5.0
    row = (f"| {n:,} | {metric(s, 'call:frame_lateness', 'median_ms'):.2f} / {late:.2f} / {metric(s, 'call:frame_lateness', 'max_ms'):.1f} | {read_lag:.2f} | "
           f"{v2v:.1f} ({v2v - CALL_TRUTH_MS:+.1f}) / {metric(s, 'call:voice_to_voice', 'p90_ms'):.1f} | {agreed} | {frames / wall:,.0f} | "
           f"{c.get('started', 0)} / {c.get('completed', 0)} / {c.get('failed', 0)} | {1e6 * cpu_s / call_s if call_s else float('nan'):.0f} | "
           f"{100 * bot_s / wall:.0f} % | {rss / 1024:.0f} MiB | {(rss - base_rss) / n:.1f} KiB | {load:.2f} | {'✓' if held else '✗'} |")
    return row, held


def call_search(protocol, hold):
    """Doubles the calls from BENCH_CALLS_START until a step breaks, then bisects to BENCH_CALLS_RESOLUTION %."""
    start = int(os.environ.get("BENCH_CALLS_START", "100"))
    most = int(os.environ.get("BENCH_CALLS_MAX", "4000"))
    resolution = float(os.environ.get("BENCH_CALLS_RESOLUTION", "10"))
    scenario = CALL_SCENARIOS[protocol]
    say(f"### {protocol} ({scenario})")
    say("| calls | frame lateness P50 / P99 / max (ms) | read lag P99 (ms) | voice-to-voice P50 (− truth) / P90 (ms) | "
        "per turn, \\|ours − the bot's log\\| P50 / P99 / max (ms) (turns) | turns off > 5 ms: the bot's read / ours | frames out per s | "
        "calls started / done / failed | generator CPU µs per call-second | bot CPU (its core) | peak RSS | per call | load (1 min) | held |")
    say("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    good, bad = None, None
    bot_log = os.path.join(tempfile.mkdtemp(prefix="vs-bench-"), "bot.jsonl")
    with Backend(*CALL_BOT, "--bot-log", bot_log, cpu=0) as b:
        _, _, base_rss, _, _ = call_run(b, 1, 5, scenario)
        n = start
        while n:
            row, held = call_step(b, n, hold, scenario, base_rss, bot_log)
            say(row)
            if held:
                good = n
            else:
                bad = n
            if bad is None:
                n = n * 2 if n * 2 <= most else (most if n < most else 0)
            elif good is None or bad - good <= 1 or bad - good <= good * resolution / 100:
                n = 0
            else:
                n = (good + bad) // 2
    say(f"- **{protocol}: the most concurrent calls with frame lateness (and read lag) P99 ≤ 5 ms and 0 failed on one generator core: "
        f"{good or 'none of those tried'}** (first failing: {bad or 'none up to ' + str(most)})")
    return good


def bench_calls():
    hold = int(os.environ.get("BENCH_CALL_SECONDS", "30"))
    protocols = [p for p in os.environ.get("BENCH_CALL_PROTOCOLS", "twilio,raw").split(",") if p]
    say("## 9. Real-time calls: the most concurrent paced calls whose frame lateness and read lag P99 stay within 5 ms, 0 failed")
    say(f"Generator on CPU 1 (`--client shared`), the reference bot (`voiceswarm serve`, fixed 20 ms stages, 300 ms endpointing, "
        f"no cache) on CPU 0; each call 4 turns with a barge-in (about 20 s), runs of {hold} s (`-t`, the ramp of calls/10 per second included). Doubling "
        f"from BENCH_CALLS_START, then bisecting. Voice-to-voice truth: {CALL_TRUTH_MS:.0f} ms after the last speech frame "
        f"(endpointing 300 + STT 20 + LLM 20 + TTS's first chunk 10). CPU per call-second: the generator's user + system "
        f"CPU over the whole run (start-up and ramp included) over the seconds of audio it sent. Per call: peak RSS above a 1-call run.")
    return {p: call_search(p, hold) for p in protocols}


def bench_arrivals():
    rate = os.environ.get("BENCH_ARRIVAL_RATE", "1000/s")
    say(f"## 11. Arrival scheduling accuracy: {rate} Poisson arrivals of one GET, generator on CPU 1, zero-latency backend on CPU 0")
    with Backend("--latency-scale", "0", "--workers-per-component", "100000", cpu=0) as b:
        run_dir, cpu_s, rss = voiceswarm_run(b.url, "--arrival-rate", rate, "-t", f"{SECONDS}s", "-q", "--max-concurrency", "200",
                                             "--scenario-file", "benches/one_step.json", "--targets", "benches/no_targets.json", cpu=1)
    s = json.load(open(os.path.join(run_dir, "summary.json")))
    a = s["arrivals"]
    say(f"- {a['scheduled']:,} scheduled, {a['started']:,} started, {a['dropped']} dropped; mean in progress {a['mean_concurrency']:.1f}")
    say(f"- start lateness (arrival:start_delay, started − due): P50 {metric(s, 'arrival:start_delay', 'median_ms'):.3f} ms, "
        f"P99 **{metric(s, 'arrival:start_delay', 'p99_ms'):.3f} ms** (goal ≤ 2 ms), max {metric(s, 'arrival:start_delay', 'max_ms'):.1f} ms")


def bench_trend():
    say("## 12. Trend over 1,000 run folders (summary.json + run.json each, copies of one real 5 s run)")
    with Backend("--latency-scale", "0.2") as b:
        run_dir, _, _ = voiceswarm_run(b.url, "-u", "5", "-t", "5s", "-q")
    run = json.load(open(os.path.join(run_dir, "run.json")))
    summary = open(os.path.join(run_dir, "summary.json")).read()
    reports = tempfile.mkdtemp(prefix="vs-trend-")
    for i in range(1000):
        d = os.path.join(reports, f"run{i:04d}")
        os.makedirs(d)
        run["started_at"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(1.7e9 + i * 86400))
        json.dump(run, open(os.path.join(d, "run.json"), "w"))
        open(os.path.join(d, "summary.json"), "w").write(summary)
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([BIN, "trend", reports], stdout=subprocess.DEVNULL, check=False)
        took = time.perf_counter() - t0
        best = took if best is None else min(best, took)
    size = os.path.getsize(os.path.join(reports, "trend.html"))
    say(f"- 1,000 folders read, charted and gated in **{best * 1000:.0f} ms** (goal < 1 s), "
        f"trend.html {size / 1024:.0f} KiB")


def verdict_run(out, seed, scale, users, seconds):
    """One run of the verdicts benchmark into `out`; its company:lookup verdict."""
    subprocess.run([BIN, "run", "--scenario-file", "benches/company.json", "--targets", "benches/verdict_targets.json",
                    "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "-q", "--seed", str(seed),
                    "--latency-scale", str(scale), "--workers-per-component", "1000", "--out", out],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    s = json.load(open(os.path.join(out, "summary.json")))
    return next(v for v in s["verdicts"] if v["name"] == "company:lookup")


def gate_flags(old, new):
    """Whether `report --baseline old new` calls it a regression (exit 1)."""
    r = subprocess.run([BIN, "report", "--baseline", old, new], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise SystemExit(f"bench: report --baseline failed:\n{r.stderr}")
    return r.returncode == 1


def pooled_p90(dirs, out):
    """The P90 of company:lookup over every run in `dirs`, their histograms merged exactly."""
    subprocess.run([BIN, "report", *dirs, "--allow-mixed", "--out", out], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    s = json.load(open(os.path.join(out, "summary.json")))
    return next(v for v in s["verdicts"] if v["name"] == "company:lookup")


def covered(verdicts, truth):
    """How many of the verdicts' intervals hold `truth` (a missing bound is open)."""
    hits = 0
    for v in verdicts:
        i = v["interval"]
        hits += (i["lower_ms"] is None or i["lower_ms"] <= truth) and (i["upper_ms"] is None or truth <= i["upper_ms"])
    return hits


def bench_verdicts():
    pairs = int(os.environ.get("BENCH_VERDICT_PAIRS", "100"))
    users = int(os.environ.get("BENCH_VERDICT_USERS", "48"))
    seconds = int(os.environ.get("BENCH_VERDICT_SECONDS", "2"))
    say(f"## 13. Verdicts: the regression rule on {pairs} identical pairs and {pairs} pairs 15 % slower; interval coverage")
    say(f"Each run: `{BIN} run --scenario-file benches/company.json --targets benches/verdict_targets.json -u {users} "
        f"-r {users} -t {seconds}s --seed N [--latency-scale 1.15] --workers-per-component 1000` (in-process backend, "
        "its seeded log-normal model, a fresh seed per run); each pair judged by `report --baseline A B` (exit 1 = flagged).")
    tmp = tempfile.mkdtemp(prefix="vs-verdicts-")
    t0 = time.time()
    base, same, slow = [], [], []
    for i in range(pairs):
        for k, (runs, name, scale) in enumerate([(base, "a", 1.0), (same, "b", 1.0), (slow, "s", 1.15)]):
            out = os.path.join(tmp, f"{name}{i:03d}")
            runs.append((out, verdict_run(out, 3 * i + k + 1, scale, users, seconds)))
    took_runs = time.time() - t0
    false_alarms = sum(gate_flags(a[0], b[0]) for a, b in zip(base, same))
    detected = sum(gate_flags(a[0], s[0]) for a, s in zip(base, slow))
    samples = sorted(v["interval"]["samples"] for _, v in base + same + slow)
    say(f"- {3 * pairs} runs in {took_runs:.0f} s ({took_runs / (3 * pairs):.1f} s a run); company:lookup samples a run: "
        f"min {samples[0]:,}, median {samples[len(samples) // 2]:,}")
    say(f"- identical pairs flagged: **{false_alarms} of {pairs}** (goal ≤ 1 in 100)")
    say(f"- pairs 15 % slower flagged: **{detected} of {pairs} ({100 * detected / pairs:.0f} %)** (goal ≥ 95 %)")
    for label, runs in [("the unscaled runs", base + same), ("the 15 % slower runs", slow)]:
        truth = pooled_p90([d for d, _ in runs], os.path.join(tmp, "pooled-" + label.split()[1]))
        hits = covered([v for _, v in runs], truth["observed_ms"])
        i = truth["interval"]
        say(f"- 95 % interval coverage, {label}: **{hits} of {len(runs)} ({100 * hits / len(runs):.1f} %)** hold the true "
            f"P90 {truth['observed_ms']:.2f} ms (all {len(runs)} runs pooled, {i['samples']:,} samples, its own interval "
            f"{i['lower_ms']:.2f}–{i['upper_ms']:.2f} ms; goal 93–97 %)")
    say(f"- took {time.time() - t0:.0f} s in all")


def bench_calls_all():
    bench_calls()


BENCHES = {"backend": bench_backend, "overhead": bench_overhead, "instructions": bench_instructions, "accuracy": bench_accuracy, "journeys": bench_journeys,
           "memory": bench_memory, "recorder": bench_recorder, "startup": bench_startup,
           "capacity": bench_capacity, "calls": bench_calls_all, "send_floor": bench_send_floor, "arrivals": bench_arrivals, "trend": bench_trend,
           "verdicts": bench_verdicts}
# Not part of a plain `make bench` (it takes half an hour): `make soak`.
EXTRA = {"soak": bench_soak}

# Parts that need none of wrk, taskset, GNU time or valgrind.
NO_TOOLS = {"verdicts", "send_floor"}

if __name__ == "__main__":
    for tool in ["wrk", "taskset", "/usr/bin/time", "valgrind"]:
        if ONLY and set(ONLY) <= NO_TOOLS:
            break
        # The calls part pins with taskset and times with GNU time: it needs neither wrk nor valgrind.
        if ONLY and set(ONLY) <= {"calls"} and tool in ("wrk", "valgrind"):
            continue
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode != 0:
            raise SystemExit(f"bench: {tool} is missing: apt-get install wrk util-linux time")
    if "BENCH_BIN" not in os.environ:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bins", "--examples"], check=True)
    say(f"# voiceswarm benchmarks, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {CORES} cores")
    for name, fn in {**BENCHES, **EXTRA}.items():
        if (not ONLY and name in BENCHES) or name in ONLY:
            say()
            fn()
    say()
    say(f"Written to {OUT}")
