#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Which QEMU 7.2 snapshot layout restores faster: the driver's (one fd
# migration stream with devices + memory) or a file-backed RAM
# (memory-backend-file,share=on + x-ignore-shared: the stream is device
# state only, the RAM file is copied for the snapshot and mapped private
# (share=off) on restore).  Raw QEMU (no driver, no network, TCG) on the
# test guest, which is left to boot for $BOOT_S seconds (default 25).
#
#   python3 bench/qemu-snapshot-layouts.py GUEST_DIR MIB stream|shared SCRATCH
#
# GUEST_DIR: tests/guest/cache/<hash> (vmlinuz, initrd.img, rootfs.ext4).
# SCRATCH is created and removed.  Results: doc/benchmarks.md.
import json, os, socket, subprocess, sys, time, shutil
G = sys.argv[1]; MEM = int(sys.argv[2]); MODE = sys.argv[3]; D = sys.argv[4]
os.makedirs(D, exist_ok=True)
shutil.copy(G + "/rootfs.ext4", D + "/rootfs.ext4")
def qemu(tag, ram, incoming, share):
    sock = f"{D}/{tag}.qmp"
    argv = ["qemu-system-x86_64", "-M", "microvm", "-accel", "tcg", "-m", str(MEM), "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-S",
            "-serial", f"file:{D}/{tag}.console", "-qmp", f"unix:{sock},server=on,wait=off",
            "-kernel", G + "/vmlinuz", "-initrd", G + "/initrd.img",
            "-append", "console=ttyS0 reboot=k panic=1 ro",
            "-drive", f"if=none,id=rootfs,file={D}/rootfs.ext4,format=raw,readonly=on",
            "-device", "virtio-blk-device,drive=rootfs"]
    if ram:
        argv[argv.index("-m"):argv.index("-m")] = ["-object", f"memory-backend-file,id=ram,size={MEM}M,mem-path={ram},share={'on' if share else 'off'}", "-machine", "memory-backend=ram"]
    if incoming:
        argv += ["-incoming", "defer"]
    p = subprocess.Popen(argv)
    for _ in range(500):
        if os.path.exists(sock): break
        time.sleep(0.01)
    s = socket.socket(socket.AF_UNIX); s.connect(sock); f = s.makefile("rw")
    f.readline()
    def cmd(c, args=None, fd=None):
        m = {"execute": c}
        if args: m["arguments"] = args
        data = (json.dumps(m) + "\n").encode()
        if fd is not None: socket.send_fds(s, [data], [fd])
        else: s.sendall(data)
        while True:
            r = json.loads(f.readline())
            if "return" in r or "error" in r: return r
    cmd("qmp_capabilities")
    return p, cmd
def wait_mig(cmd):
    while True:
        r = cmd("query-migrate")["return"]
        if r.get("status") in ("completed", "failed", "cancelled"): return r
        time.sleep(0.02)
ram = f"/dev/shm/qsx-ram-{os.getpid()}" if MODE == "shared" else None
p, cmd = qemu("a", ram, False, True)
cmd("cont"); time.sleep(float(os.environ.get("BOOT_S", "25")))
cmd("stop")
t0 = time.time()
if MODE == "shared":
    cmd("migrate-set-capabilities", {"capabilities": [{"capability": "x-ignore-shared", "state": True}]})
fd = os.open(f"{D}/snap", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
cmd("getfd", {"fdname": "s"}, fd); os.close(fd)
cmd("migrate", {"uri": "fd:s"}); r = wait_mig(cmd)
t_stream = time.time() - t0
t1 = time.time()
if MODE == "shared":
    subprocess.check_call(["cp", "--sparse=always", ram, f"{D}/snap.ram"])
t_copy = time.time() - t1
p.kill(); p.wait()
size = os.path.getsize(f"{D}/snap"); ramsize = os.path.getsize(f"{D}/snap.ram") if MODE == "shared" else 0
ramdisk = os.stat(f"{D}/snap.ram").st_blocks * 512 if MODE == "shared" else 0
t0 = time.time()
p2, cmd2 = qemu("b", f"{D}/snap.ram" if MODE == "shared" else None, True, False)
t_launch = time.time() - t0
if MODE == "shared":
    cmd2("migrate-set-capabilities", {"capabilities": [{"capability": "x-ignore-shared", "state": True}]})
fd = os.open(f"{D}/snap", os.O_RDONLY)
cmd2("getfd", {"fdname": "s"}, fd); os.close(fd)
cmd2("migrate-incoming", {"uri": "fd:s"}); r2 = wait_mig(cmd2)
cmd2("cont")
t_load = time.time() - t0
time.sleep(3)
st = cmd2("query-status")["return"]["status"]
alive = p2.poll() is None
print(f"{MODE} {MEM}MiB: stream {t_stream:.2f}s {size/1048576:.1f}MiB ({r['status']}), ram copy {t_copy:.2f}s ({ramdisk/1048576:.1f}MiB on disk), restore launch {t_launch:.2f}s launch+load+cont {t_load:.2f}s ({r2.get('status')}), after 3s: {st} alive={alive}")
cmd2("quit") if alive else None
p2.wait()
if ram: os.unlink(ram)
shutil.rmtree(D)
