#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A fake Firecracker jailer for libbanger's tests.

Checks its argv the way docs/jailer.md (copied next to this file's spec, see
PROVENANCE.md) specifies it, builds the chroot layout
<chroot_base>/<exec_file_name>/<id>/root/ (copy of the exec file, dev/net/tun,
dev/kvm, <exec_file_name>.pid), creates the cgroup when --cgroup is given,
applies --resource-limit, and execs the copied binary as
  <exec_file_name> --id=<id> --start-time-us=N --start-time-cpu-us=N [args after --]
in the jail directory.

It does not pivot_root (the unit tests run unprivileged; as root it does
join --netns, chown the jail and drop to --uid/--gid): the fake firecracker is
told where the jail is through FAKE_FC_CHROOT and resolves every absolute path
it is given under it -- exactly what the chroot would do.  --new-pid-ns is
emulated by forking: the child (the "firecracker") gets FAKE_FC_PID1=1 so it
ignores SIGTERM like a namespace's PID 1 does, the parent writes the pid file
and exits, as the real jailer does.

Like the real jailer it never cleans up, and a stale jail makes the next
launch with the same id fail (the mknod of dev/net/tun hits EEXIST).

Environment (tests only):
  FAKE_JAILER_LOG=PATH          append the argv as one JSON line
  FAKE_JAILER_CGROUP_ROOT=DIR   the cgroup2 mount to use (default: found in
                                /proc/self/mountinfo)
  FAKE_FC_*                     passed through to the fake firecracker; every
                                other variable is dropped, as the jailer does
"""

import json
import os
import re
import resource
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
VALUE_OPTS = {"id", "exec-file", "uid", "gid", "cgroup-version", "cgroup", "parent-cgroup",
              "chroot-base-dir", "netns", "resource-limit"}
MULTI_OPTS = {"cgroup", "resource-limit"}
FLAG_OPTS = {"daemonize", "new-pid-ns"}
REQUIRED = ("id", "exec-file", "uid", "gid")


def die(msg):
    sys.stderr.write("Jailer error: %s\n" % msg)
    sys.exit(1)


def parse(argv):
    opts = {"cgroup": [], "resource-limit": []}
    extra = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            extra = argv[i + 1:]
            break
        if not a.startswith("--"):
            die("Found argument '%s' which wasn't expected" % a)
        name, eq, val = a[2:].partition("=")
        if name in VALUE_OPTS:
            if not eq:
                i += 1
                if i >= len(argv):
                    die("Argument '%s' did not receive any value." % name)
                val = argv[i]
            if name in MULTI_OPTS:
                opts[name].append(val)
            elif name in opts:
                die("Argument '%s' was already provided" % name)
            else:
                opts[name] = val
        elif name in FLAG_OPTS and not eq:
            opts[name] = True
        else:
            die("Found argument '--%s' which wasn't expected" % name)
        i += 1
    for r in REQUIRED:
        if r not in opts:
            die("Argument '%s' is required" % r)
    return opts, extra


def cgroup2_mount():
    root = os.environ.get("FAKE_JAILER_CGROUP_ROOT")
    if root:
        return root
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split(" ")[0] == "cgroup2":
                return left.split(" ")[4]
    die("Cannot find the cgroup2 mount point")


def main():
    opts, extra = parse(sys.argv[1:])
    if os.environ.get("FAKE_JAILER_LOG"):
        with open(os.environ["FAKE_JAILER_LOG"], "a") as f:
            f.write(json.dumps({"argv": sys.argv[1:], "pid": os.getpid()}) + "\n")

    vm_id = opts["id"]
    if not ID_RE.match(vm_id):
        die("Invalid instance ID: %s" % vm_id)
    exec_file = opts["exec-file"]
    if not os.path.isabs(exec_file) or not os.path.isfile(exec_file):
        die("Invalid exec file path: %s" % exec_file)
    exec_name = os.path.basename(exec_file)
    try:
        uid = int(opts["uid"])
        gid = int(opts["gid"])
    except ValueError:
        die("Invalid uid or gid")
    cg_version = opts.get("cgroup-version", "1")
    if cg_version not in ("1", "2"):
        die("Invalid cgroup version: %s" % cg_version)
    if cg_version == "1" and opts["cgroup"]:
        die("The fake jailer emulates cgroup v2 only (got --cgroup-version 1)")
    base = opts.get("chroot-base-dir", "/srv/jailer")
    if not os.path.isabs(base):
        die("Invalid chroot base dir: %s" % base)
    if "netns" in opts and not os.path.exists(opts["netns"]):
        die("Failed to open the network namespace %s: No such file or directory" % opts["netns"])
    limits = {"no-file": 2048}
    for rl in opts["resource-limit"]:
        name, eq, value = rl.partition("=")
        if not eq or name not in ("fsize", "no-file") or not value.isdigit():
            die("Invalid resource argument: %s" % rl)
        limits[name] = int(value)
    cgroups = []
    for cg in opts["cgroup"]:
        name, eq, value = cg.partition("=")
        if not eq or not re.match(r"^[a-z_]+\.[a-z_.]+$", name):
            die("Invalid format for cgroups: %s" % cg)
        cgroups.append((name, value))
    if os.geteuid() != 0 and (uid != os.getuid() or gid != os.getgid()):
        die("Failed to change the uid/gid to %d:%d: Operation not permitted" % (uid, gid))

    chroot_dir = os.path.join(base, exec_name, vm_id, "root")
    os.makedirs(chroot_dir, exist_ok=True)
    jailed_exec = os.path.join(chroot_dir, exec_name)
    shutil.copyfile(exec_file, jailed_exec)
    os.chmod(jailed_exec, 0o755)

    for res, value in limits.items():
        r = resource.RLIMIT_FSIZE if res == "fsize" else resource.RLIMIT_NOFILE
        try:
            resource.setrlimit(r, (value, value))
        except (ValueError, OSError) as e:
            die("Failed to set the %s limit: %s" % (res, e))

    if cgroups:
        parent = opts.get("parent-cgroup", exec_name)
        cg_dir = os.path.join(cgroup2_mount(), parent, vm_id)
        os.makedirs(cg_dir, exist_ok=True)
        for name, value in cgroups:
            with open(os.path.join(cg_dir, name), "w") as f:
                f.write(value)
        with open(os.path.join(cg_dir, "cgroup.procs"), "a") as f:
            f.write("%d\n" % os.getpid())

    # "mknod" the devices; a stale jail fails here, as with the real jailer
    for dev in ("dev/net/tun", "dev/kvm"):
        p = os.path.join(chroot_dir, dev)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        try:
            fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
        except FileExistsError:
            die("Failed to create /%s via mknod inside the jail: File exists (os error 17)" % dev)
    if os.geteuid() == 0:
        os.chown(chroot_dir, uid, gid)
        if "netns" in opts:
            # join the network namespace, as the real jailer does
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(opts["netns"], os.O_RDONLY | os.O_CLOEXEC)
            if libc.setns(fd, 0x40000000) != 0:   # CLONE_NEWNET
                die("Failed to join the network namespace %s: %s"
                    % (opts["netns"], os.strerror(ctypes.get_errno())))
            os.close(fd)

    env = {k: v for k, v in os.environ.items() if k.startswith("FAKE_FC_")}
    env["FAKE_FC_CHROOT"] = chroot_dir
    env.setdefault("FAKE_FC_SPEC", os.path.join(HERE, "firecracker-api.yaml"))
    os.chdir(chroot_dir)

    if opts.get("daemonize"):
        os.setsid()
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)

    pid_file = os.path.join(chroot_dir, exec_name + ".pid")
    argv = [jailed_exec, "--id=%s" % vm_id, "--start-time-us=%d" % int(time.time() * 1e6),
            "--start-time-cpu-us=%d" % int(time.process_time() * 1e6)] + extra
    if opts.get("new-pid-ns"):
        env["FAKE_FC_PID1"] = "1"
        pid = os.fork()
        if pid == 0:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
            os.execve(jailed_exec, argv, env)
        with open(pid_file, "w") as f:
            f.write(str(pid))
        return 0
    with open(pid_file, "w") as f:
        f.write(str(os.getpid()))
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    os.execve(jailed_exec, argv, env)


if __name__ == "__main__":
    sys.exit(main())
