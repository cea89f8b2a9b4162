#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A QMP server that stands in for an adopted QEMU: greets, accepts
qmp_capabilities, and answers system_powerdown; it logs every command to
FAKE_QMP_LOG (one per line).  FAKE_QMP_MODE: comma-separated
  obey          exit 0.1 s after system_powerdown (a guest that shuts down)
  ignore-term   SIGTERM is ignored
(without obey the power button is accepted and nothing happens, as with a
guest that has no ACPI handler)."""
import json, os, signal, socket, sys, time

path = sys.argv[1]
modes = set(filter(None, os.environ.get("FAKE_QMP_MODE", "").split(",")))
log = os.environ.get("FAKE_QMP_LOG")
if "ignore-term" in modes:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

def note(cmd):
    if log:
        with open(log, "a") as f:
            f.write(cmd + "\n")

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(4)
while True:
    conn, _ = srv.accept()
    conn.sendall(b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, '
                 b'"package": ""}, "capabilities": []}}\r\n')
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            break
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            msg = json.loads(line)
            cmd = msg.get("execute")
            note(cmd)
            reply = {"return": {}}
            if "id" in msg:
                reply["id"] = msg["id"]
            conn.sendall(json.dumps(reply).encode() + b"\r\n")
            if cmd == "system_powerdown" and "obey" in modes:
                time.sleep(0.1)
                os._exit(0)
    conn.close()
