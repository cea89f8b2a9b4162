#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Through bangerd and the CLI, on the real test guest (QEMU, TCG here):
cold `vm create` -> first `vm exec true` answered, against `vm restore`
of a snapshot of the same guest -> first `vm exec true` answered; medians
and spread over N runs each, in the same run of one daemon.  Also the
snapshot's time and size.

Usage (root; makes and removes a network namespace and a cgroup):
    sudo bench/restore-vs-create.py BUILD_DIR [-n RUNS] [-m MEMORY_MIB]
Results: doc/benchmarks.md."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("-n", type=int, default=5)
ap.add_argument("-m", "--memory", type=int, default=256)
args = ap.parse_args()

here = os.path.dirname(os.path.abspath(__file__))
build = os.path.abspath(args.build)
cli_bin = os.path.join(build, "tools", "banger", "banger")
bangerd = os.path.join(build, "tools", "bangerd", "bangerd")
guest = subprocess.run([os.path.join(here, "..", "tests", "guest", "build-guest.sh")],
                       check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2":
                return fields[4]
    raise SystemExit("no cgroup2 mount")


ns = "banger-bench-%d" % os.getpid()
work = tempfile.mkdtemp(prefix="banger-bench-")
cgroup = os.path.join(cgroup2_mount(), "banger-bench-%d.slice" % os.getpid())
sock = os.path.join(work, "run", "bangerd.sock")
daemon = None


def cli(*argv, check=True):
    p = subprocess.run([cli_bin, "--json", "--socket=" + sock] + list(argv), capture_output=True,
                       text=True)
    if check and p.returncode != 0:
        raise SystemExit("banger %s: %s%s" % (" ".join(argv), p.stdout, p.stderr))
    return json.loads(p.stdout) if p.stdout.strip().startswith(("{", "[")) else p.stdout


def timed(*steps):
    t0 = time.perf_counter()
    for s in steps:
        cli(*s)
    return time.perf_counter() - t0


def summary(name, xs):
    xs = sorted(xs)
    print("%-34s median %6.2f s   min %6.2f   max %6.2f   (n=%d)"
          % (name, statistics.median(xs), xs[0], xs[-1], len(xs)))


try:
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
    conf = os.path.join(work, "bangerd.conf")
    with open(conf, "w") as f:
        f.write("[host]\ncgroup=%s\n[network]\nsubnet=10.79.0.0/24\n" % cgroup)
    log = open(os.path.join(work, "bangerd.log"), "w")
    # nsenter: only the network namespace (ip netns exec remounts /sys and
    # would hide the cgroup2 mount)
    daemon = subprocess.Popen(["nsenter", "--net=/run/netns/" + ns, bangerd, "--config=" + conf,
                               "--state-dir=" + os.path.join(work, "state"),
                               "--runtime-dir=" + os.path.join(work, "run")],
                              stderr=log)
    for _ in range(500):
        if os.path.exists(sock):
            break
        time.sleep(0.01)
    cli("kernel", "add", "k", "--kernel", os.path.join(guest, "vmlinuz"), "--initrd",
        os.path.join(guest, "initrd.img"))
    cli("image", "import", "guest", "--rootfs", os.path.join(guest, "rootfs.ext4"))
    mem = str(args.memory)

    cold = []
    for i in range(args.n):
        name = "cold-%d" % i
        cold.append(timed(("vm", "create", name, "--image", "guest", "--kernel", "k",
                           "--memory", mem), ("vm", "exec", name, "--", "true")))
        cli("vm", "rm", name)

    cli("vm", "create", "src", "--image", "guest", "--kernel", "k", "--memory", mem)
    cli("vm", "exec", "src", "--", "true")
    t0 = time.perf_counter()
    snap = cli("vm", "snapshot", "src", "--name", "snap")
    snap_time = time.perf_counter() - t0
    cli("vm", "kill", "src")

    restore = []
    for i in range(args.n):
        name = "warm-%d" % i
        restore.append(timed(("vm", "restore", "snap", "--name", name),
                             ("vm", "exec", name, "--", "true")))
        cli("vm", "rm", name)
    cli("vm", "rm", "src")
    cli("snapshot", "rm", "snap")

    print("guest: %d MiB, QEMU (%s), load average %s" % (
        args.memory, os.environ.get("BANGER_QEMU_ACCEL", "auto"),
        open("/proc/loadavg").read().split()[0]))
    summary("cold vm create -> exec OK", cold)
    summary("vm restore -> exec OK", restore)
    print("%-34s %6.2f x" % ("speed-up (medians)", statistics.median(cold) / statistics.median(restore)))
    print("snapshot: %.2f s, %.1f MiB on disk (memory stream + disk copies)"
          % (snap_time, snap["size_bytes"] / 1048576))
    # where the time goes: the engine's per-step lines in bangerd's log
    # ("op …: <vm>: step <name> done in <s> s")
    log.flush()
    steps = {}
    with open(os.path.join(work, "bangerd.log")) as f:
        for line in f:
            parts = line.split()
            if "step" in parts and parts[-1] == "s" and "done" in parts:
                i = parts.index("step")
                vm = parts[i - 1].rstrip(":")
                kind = "restore" if vm.startswith("warm-") else "create" if vm.startswith("cold-") else None
                if kind:
                    steps.setdefault((kind, parts[i + 1]), []).append(float(parts[-2]))
    for kind in ("create", "restore"):
        print("%s steps (median s): %s" % (kind, ", ".join(
            "%s %.2f" % (name, statistics.median(v)) for (k, name), v in steps.items() if k == kind)))
finally:
    if daemon is not None:
        daemon.terminate()
        daemon.wait()
    if os.path.isdir(cgroup):
        for sub in os.listdir(cgroup):
            p = os.path.join(cgroup, sub)
            if os.path.isdir(p):
                try:
                    with open(os.path.join(p, "cgroup.kill"), "w") as f:
                        f.write("1")
                except OSError:
                    pass
                for _ in range(100):
                    try:
                        os.rmdir(p)
                        break
                    except OSError:
                        time.sleep(0.05)
        try:
            os.rmdir(cgroup)
        except OSError:
            pass
    subprocess.run(["ip", "netns", "del", ns])
    shutil.rmtree(work, ignore_errors=True)
