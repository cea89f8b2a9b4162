#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Round-trip times of the host operations through a running bangerd-root.

Usage: host-ops.py SOCKET WORK_DISK   (run by bench/host-ops.sh)
Each line: the median and 90th percentile over n calls, client to reply,
over the helper's real socket (framing, decoding, authorisation, the
operation itself)."""
import json
import socket
import sys
import time

sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(sys.argv[1])
work_disk = sys.argv[2]
next_id = [0]


def call(method, params):
    next_id[0] += 1
    sock.sendall(json.dumps({"id": next_id[0], "method": method, "params": params}).encode() + b"\0")
    buf = b""
    while not buf.endswith(b"\0"):
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("the helper closed the connection")
        buf += chunk
    reply = json.loads(buf[:-1])
    if "error" in reply:
        raise SystemExit("%s: %s" % (method, reply["error"]))
    return reply["result"]


def bench(name, fn, n=20):
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    times.sort()
    print("%-42s median %7.2f ms   p90 %7.2f ms   (n=%d)"
          % (name, times[len(times) // 2] * 1e3, times[int(len(times) * 0.9)] * 1e3, n))


def vm_cycle(i):
    r = call("priv.launch_vmm", {"vm_id": "bench-%d" % i, "vmm": "firecracker"})
    call("priv.kill_process", {"pid": r["pid"]})
    call("priv.cleanup_vm", {"vm_id": "bench-%d" % i})


bench("priv.status", lambda i: call("priv.status", {}))
bench("create_tap + delete_tap", lambda i: (call("priv.create_tap", {"vm_id": "bench-%d" % i}),
                                            call("priv.delete_tap", {"vm_id": "bench-%d" % i})))
bench("nat_enable + nat_disable", lambda i: (call("priv.nat_enable", {"vm_id": "bench-%d" % i,
                                                                       "guest_ip": "10.200.0.%d" % (i + 2)}),
                                             call("priv.nat_disable", {"vm_id": "bench-%d" % i})))
bench("publish_set (2 ports) + publish_set \"\"",
      lambda i: (call("priv.publish_set", {"vm_id": "bench-%d" % i, "guest_ip": "172.30.0.%d" % (i + 2),
                                            "publish": "0.0.0.0:%d:80/tcp,0.0.0.0:%d:53/udp"
                                                       % (20000 + i, 20000 + i)}),
                 call("priv.publish_set", {"vm_id": "bench-%d" % i, "guest_ip": "172.30.0.%d" % (i + 2),
                                           "publish": ""})))
bench("egress_set none + egress_set nat",
      lambda i: (call("priv.egress_set", {"vm_id": "bench-%d" % i, "guest_ip": "172.30.0.%d" % (i + 2),
                                           "gateway": "172.30.0.1", "egress": "none"}),
                 call("priv.egress_set", {"vm_id": "bench-%d" % i, "guest_ip": "172.30.0.%d" % (i + 2),
                                          "gateway": "172.30.0.1", "egress": "nat"})))
bench("mkfs_work_disk (64 MiB file)", lambda i: call("priv.mkfs_work_disk", {"path": work_disk}), 10)
bench("launch_vmm + kill_process + cleanup_vm", vm_cycle)
