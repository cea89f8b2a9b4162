#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A fake Firecracker for libbanger's tests.

It takes Firecracker's own command line (--api-sock, --id, ...), serves the
Firecracker HTTP API on the unix socket and validates EVERY request against
the real OpenAPI spec copied next to this file (see PROVENANCE.md), plus the
rules the real server applies beyond the spec (../shared README table):

  * unknown JSON fields -> 400 (serde deny_unknown_fields)
  * path id must equal body id; ids are [A-Za-z0-9_]+
  * GET with a body -> 400; PUT/PATCH without one -> 400
  * pre-boot-only / post-boot-only operations
  * files the request names must exist
  * Logger.level case-insensitive (and "warn"), not the YAML-1.1 boolean
  * every error body is {"fault_message": "..."}
  * SendCtrlAltDel ends the process; snapshot/load only in a fresh process
  * a body over --http-api-max-payload-size (default 51200) is refused by
    the HTTP layer with 400 and ITS body, which is not JSON (a raw newline
    inside a string) and has no fault_message; MMDS data over
    --mmds-size-limit (default: the payload limit) -> 413
  * what a snapshot does NOT hold: logger and metrics (set them again before
    snapshot/load, the only calls allowed before it), the MMDS data store
    (the MMDS config is kept; the store comes back empty and uninitialized)
  * the vsock backend binds its uds_path (on PUT /vsock, and on load: the
    vsock_override's path or the snapshot's); Firecracker never removes it

No guest runs: InstanceStart flips the state, snapshot/create writes JSON
files, snapshot/load reads them back.  The guest's memory is emulated page
by page (4 KiB): the boot writes pages 0-7, and each snapshot/create first
applies the writes the guest made since the last snapshot (or load): four
pages that depend on a generation counter, plus page 1.  A Full snapshot's
memory file holds every non-zero page; a Diff one, like the real server
with dirty-page tracking, only the pages dirtied since the last snapshot
(or load), in a sparse file of the memory's size (snapshot-support.md,
"Creating diff snapshots").  The state file records a digest of the whole
memory; snapshot/load reads the memory file's data regions and refuses
(a "Load snapshot error", which ends the process) a file whose memory is
not the snapshot's: a real guest would resume corrupt, the fake says so.
Drives are opened as the real server does (read-write unless
is_read_only) on PUT /drives and again on snapshot/load at the paths the
snapshot holds; the load's log line carries the (dev, ino) of each drive it
opened ("opened"), so tests can tell whose disks a restore reopened.

The tests steer it through FAKE_FC_* environment variables (the fake jailer
passes these through):
  FAKE_FC_LOG=PATH     append one JSON line per request (method, path, body,
                       status, fault) -- the tests read the exact calls back
  FAKE_FC_SPEC=PATH    spec to validate against (default firecracker-api.yaml)
  FAKE_FC_MODE=a,b,..  no-socket | exit-early | die-on=/path | hang-on=/path |
                       ignore-ctrlaltdel | ignore-term | slow-socket=MS |
                       reject-on=/path (answer 400 with a canned fault) |
                       payload-limit=N (enforce N whatever the command line
                       says: a server whose limit the client cannot know) |
                       slow-snapshot=MS (snapshot/create sizes the memory
                       file, then writes it in 16 chunks over MS ms, as the
                       real one writes the pages after set_len: its
                       allocated bytes grow while the request runs)
  FAKE_FC_CHROOT=DIR   set by the fake jailer: the emulated chroot; every
                       absolute path in a request is resolved under it
  FAKE_FC_PID1=1       set by the fake jailer for --new-pid-ns: behave like
                       PID 1 of a namespace (SIGTERM has no effect)
"""

import hashlib
import json
import os
import re
import signal
import socket
import socketserver
import stat
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_PAYLOAD = 51200
ID_RE = re.compile(r"^[A-Za-z0-9_]+$")
VM_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
LOG_LEVELS = {"error", "warning", "warn", "info", "debug", "trace", "off"}
PAGE = 4096


def page_bytes(gen, page):
    pat = ("fake-fc gen %d page %d " % (gen, page)).encode()
    return (pat * (PAGE // len(pat) + 1))[:PAGE]


def mem_digest(pages):
    h = hashlib.sha256()
    for p in sorted(pages):
        h.update(p.to_bytes(8, "little"))
        h.update(pages[p])
    return h.hexdigest()


def read_memory(path, size):
    """The non-zero pages of a memory file, read through its data regions."""
    pages = {}
    zero = bytes(PAGE)
    with open(path, "rb") as f:
        fd = f.fileno()
        pos = 0
        while pos < size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            start = data - data % PAGE
            os.lseek(fd, start, os.SEEK_SET)
            for off in range(start, min(hole, size), PAGE):
                chunk = os.read(fd, PAGE)
                if chunk and chunk != zero[:len(chunk)]:
                    pages[off // PAGE] = chunk.ljust(PAGE, b"\0")
            pos = max(hole, start + PAGE)
    return pages


# --------------------------------------------------------------- spec loading
class SpecLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):
    """YAML 1.1 reads bare Off/On/Yes/No as booleans; Firecracker's enums
    (Logger.level: Off) mean strings.  Only true/false are booleans here."""


SpecLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_spec(path):
    with open(path, "rb") as f:
        return yaml.load(f, Loader=SpecLoader)


class HttpLayerError(Exception):
    """micro_http's own 400: body '{ "error": "<reason>\nAll previous
    unanswered requests will be dropped." }' with a raw newline."""

    def body(self):
        return ('{ "error": "%s\nAll previous unanswered requests will be dropped." }'
                % self.args[0]).encode()


class Fault(Exception):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        self.status = status


# ----------------------------------------------------------- schema checking
class Validator:
    def __init__(self, spec):
        self.spec = spec
        self.defs = spec.get("definitions", {})
        self.deprecated_used = False

    def resolve(self, schema):
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#/definitions/"):
                raise Fault("fake: unsupported $ref %s" % ref, 500)
            schema = self.defs[ref[len("#/definitions/"):]]
        return schema

    def check(self, value, schema, where):
        schema = self.resolve(schema)
        desc = str(schema.get("description", ""))
        if "deprecated" in desc.lower():
            self.deprecated_used = True
        typ = schema.get("type")
        if typ == "object" or (typ is None and "properties" in schema):
            if not isinstance(value, dict):
                raise Fault("%s: expected an object" % where)
            for req in schema.get("required", []):
                if req not in value:
                    raise Fault("%s: missing field `%s`" % (where, req))
            props = schema.get("properties", {})
            addl = schema.get("additionalProperties", None)
            for k, v in value.items():
                if k in props:
                    self.check(v, props[k], "%s.%s" % (where, k))
                elif isinstance(addl, dict):
                    self.check(v, addl, "%s.%s" % (where, k))
                elif addl is True:
                    pass
                else:
                    # serde(deny_unknown_fields)
                    raise Fault("%s: unknown field `%s`, expected one of %s"
                                % (where, k, ", ".join("`%s`" % p for p in props)))
        elif typ == "array":
            if not isinstance(value, list):
                raise Fault("%s: expected an array" % where)
            for i, item in enumerate(value):
                self.check(item, schema.get("items", {}), "%s[%d]" % (where, i))
        elif typ == "string":
            if not isinstance(value, str):
                raise Fault("%s: invalid type: expected a string" % where)
            if "enum" in schema and where != "Logger.level":
                if value not in [str(e) for e in schema["enum"]]:
                    raise Fault("%s: unknown variant `%s`, expected one of %s"
                                % (where, value, ", ".join("`%s`" % e for e in schema["enum"])))
        elif typ == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise Fault("%s: invalid type: expected an integer" % where)
            if value < 0 and schema.get("format") != "int64":
                # Firecracker's integers are unsigned (u8..u64)
                raise Fault("%s: invalid value: %d, expected an unsigned integer" % (where, value))
            if "minimum" in schema and value < schema["minimum"]:
                raise Fault("%s: %d is below the minimum %s" % (where, value, schema["minimum"]))
            if "maximum" in schema and value > schema["maximum"]:
                raise Fault("%s: %d is above the maximum %s" % (where, value, schema["maximum"]))
        elif typ == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise Fault("%s: invalid type: expected a number" % where)
        elif typ == "boolean":
            if not isinstance(value, bool):
                raise Fault("%s: invalid type: expected a boolean" % where)


def merge_patch(target, patch):
    """RFC 7396, as Firecracker's json_patch."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


# ----------------------------------------------------------------- the server
# "when" per operation (README table, from the server code).  Anything not
# listed is "any".
PRE = "pre"
POST = "post"
WHEN = {
    ("PUT", "/machine-config"): PRE, ("PATCH", "/machine-config"): PRE,
    ("PUT", "/cpu-config"): PRE, ("PUT", "/boot-source"): PRE,
    ("PUT", "/drives/{drive_id}"): PRE, ("PATCH", "/drives/{drive_id}"): POST,
    ("PUT", "/pmem/{id}"): PRE, ("PATCH", "/pmem/{id}"): POST,
    ("PUT", "/network-interfaces/{iface_id}"): PRE,
    ("PATCH", "/network-interfaces/{iface_id}"): POST,
    ("PUT", "/vsock"): PRE, ("PUT", "/entropy"): PRE, ("PUT", "/serial"): PRE,
    ("PUT", "/balloon"): PRE, ("PATCH", "/balloon"): POST,
    ("GET", "/balloon/statistics"): POST, ("PATCH", "/balloon/statistics"): POST,
    ("PATCH", "/balloon/hinting/start"): POST, ("GET", "/balloon/hinting/status"): POST,
    ("PATCH", "/balloon/hinting/stop"): POST,
    ("PUT", "/hotplug/memory"): PRE, ("PATCH", "/hotplug/memory"): POST,
    ("GET", "/hotplug/memory"): POST,
    ("PUT", "/logger"): PRE, ("PUT", "/metrics"): PRE, ("PUT", "/mmds/config"): PRE,
    ("PATCH", "/vm"): POST, ("PUT", "/snapshot/create"): POST,
}
ACTION_WHEN = {"InstanceStart": PRE, "SendCtrlAltDel": POST, "FlushMetrics": POST}
NOT_SUPPORTED_AFTER = "The requested operation is not supported after starting the microVM."
NOT_SUPPORTED_BEFORE = "The requested operation is not supported before starting the microVM."


class Fake:
    def __init__(self, vm_id, sock_path, spec_path, modes, chroot, payload_limit=MAX_PAYLOAD,
                 mmds_limit=None):
        self.payload_limit = payload_limit
        self.mmds_limit = payload_limit if mmds_limit is None else mmds_limit
        self.vm_id = vm_id
        self.sock_path = sock_path
        self.spec_path = spec_path
        self.spec = load_spec(spec_path)
        self.modes = modes
        self.chroot = chroot
        self.lock = threading.Lock()
        self.state = "Not started"
        self.configured = False      # any boot-specific resource set
        self.cfg = {"drives": {}, "network-interfaces": {}}
        self.logger_set = False
        self.metrics_path = None
        self.metrics_flushes = 0
        self.balloon = None
        self.mmds = None
        self.mmds_config = None
        self.snapshot_loaded = False
        self.memory = {}        # page -> bytes: the guest's memory (non-zero pages)
        self.dirty = set()      # pages written since the last snapshot (or load)
        self.generation = 0
        self.open_drives = {}   # drive_id -> fd (as the real server holds them)
        self.extra = {}         # merged into this request's log line
        self.connections = 0
        self.log_path = os.environ.get("FAKE_FC_LOG")
        self.routes = []
        for tmpl, ops in self.spec["paths"].items():
            rx = re.compile("^" + re.sub(r"\{([a-z_]+)\}", r"(?P<\1>[^/]*)", tmpl) + "$")
            self.routes.append((tmpl, rx, ops))

    # -- helpers
    def host_path(self, p):
        """A path as the jailed process sees it, resolved on the host."""
        if self.chroot is None:
            return p
        if not p.startswith("/"):
            return os.path.join(self.chroot, p)
        return os.path.join(self.chroot, p.lstrip("/"))

    def must_exist(self, p, what):
        hp = self.host_path(p)
        if not os.path.exists(hp):
            raise Fault("%s: cannot open %s: No such file or directory (os error 2)" % (what, p))
        return hp

    def open_drive(self, d, what):
        """Open a drive's file as the real server does; (dev, ino)."""
        hp = self.must_exist(d["path_on_host"], what)
        try:
            fd = os.open(hp, (os.O_RDONLY if d.get("is_read_only") else os.O_RDWR) | os.O_CLOEXEC)
        except OSError as e:
            raise Fault("%s: cannot open %s: %s (os error %d)"
                        % (what, d["path_on_host"], e.strerror, e.errno))
        old = self.open_drives.pop(d["drive_id"], None)
        if old is not None:
            os.close(old)
        self.open_drives[d["drive_id"]] = fd
        st = os.fstat(fd)
        return [st.st_dev, st.st_ino]

    def guest_writes(self, gen, pages):
        for p in pages:
            self.memory[p] = page_bytes(gen, p)
            self.dirty.add(p)

    def record(self, method, path, body, status, fault, conn=0):
        if not self.log_path:
            return
        rec = {"method": method, "path": path, "body": body, "status": status,
               "fault": fault, "pid": os.getpid(), "id": self.vm_id, "conn": conn}
        rec.update(self.extra)
        self.extra = {}
        line = json.dumps(rec)
        with open(self.log_path, "a") as f:
            f.write(line + "\n")

    def started(self):
        return self.state != "Not started"

    def route(self, method, path):
        for tmpl, rx, ops in self.routes:
            m = rx.match(path)
            if m and method.lower() in ops:
                return tmpl, m.groupdict(), ops[method.lower()]
        raise Fault("Invalid request method and/or path: %s %s." % (method, path))

    # -- one request
    def handle(self, method, path, raw):
        if raw is not None and len(raw) > self.payload_limit:
            # micro_http refuses it before Firecracker sees it: its body is
            # not a fault_message, and not even valid JSON
            raise HttpLayerError("Request payload with size %d is larger than the limit of %d "
                                 "allowed by server." % (len(raw), self.payload_limit))
        if method == "GET" and raw:
            raise Fault("GET request cannot have a body.")
        if method in ("PUT", "PATCH") and not raw:
            # ops without a body parameter (hinting/stop) are the exception
            try:
                _, _, op = self.route(method, path)
                needs = any(p.get("in") == "body" for p in op.get("parameters", []))
            except Fault:
                needs = True
            if needs:
                raise Fault("Empty %s request." % method)
        tmpl, params, op = self.route(method, path)
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as e:
                raise Fault("An error occurred when deserializing the json body of a request: "
                            "%s." % e)
        v = Validator(self.spec)
        body_params = [p for p in op.get("parameters", []) if p.get("in") == "body"]
        if body is not None:
            if not body_params:
                raise Fault("%s %s takes no body." % (method, path))
            defname = body_params[0]["schema"].get("$ref", "").split("/")[-1] or "body"
            v.check(body, body_params[0]["schema"], defname)
        for name, value in params.items():
            if not ID_RE.match(value):
                raise Fault("Invalid ID: %s. The ID must contain only alphanumeric characters "
                            "and underscores." % value)
        # pre/post boot
        when = WHEN.get((method, tmpl))
        if tmpl == "/actions":
            when = ACTION_WHEN[body["action_type"]]
        if when == PRE and self.started():
            raise Fault(NOT_SUPPORTED_AFTER)
        if when == POST and not self.started():
            raise Fault(NOT_SUPPORTED_BEFORE)
        fn = getattr(self, "op_" + op["operationId"], None)
        if fn is None:
            raise Fault("fake: %s is not implemented by the fake" % op["operationId"], 500)
        result = fn(body, params)
        return result, v.deprecated_used

    # -- operations
    def op_describeInstance(self, body, params):
        return {"id": self.vm_id, "state": self.state, "vmm_version": "1.16.1-fake",
                "app_name": "Firecracker"}

    def op_getFirecrackerVersion(self, body, params):
        return {"firecracker_version": "1.16.1-fake"}

    def op_getExportVmConfig(self, body, params):
        out = {k: v for k, v in self.cfg.items() if k not in ("drives", "network-interfaces")}
        out["drives"] = list(self.cfg["drives"].values())
        out["network-interfaces"] = list(self.cfg["network-interfaces"].values())
        if self.balloon:
            out["balloon"] = self.balloon
        return out

    def op_getMachineConfiguration(self, body, params):
        return self.cfg.get("machine-config", {"vcpu_count": 1, "mem_size_mib": 128, "smt": False,
                                                "track_dirty_pages": False})

    def op_putLogger(self, body, params):
        if self.logger_set:
            raise Fault("The logger was already initialized.")
        if "level" in body and body["level"].lower() not in LOG_LEVELS:
            raise Fault("Logger.level: unknown variant `%s`" % body["level"])
        if "log_path" in body:
            self.must_exist(body["log_path"], "Logger")
            with open(self.host_path(body["log_path"]), "a") as f:
                f.write("[%s:main] Running Firecracker v1.16.1-fake\n" % self.vm_id)
        self.logger_set = True

    def op_putMetrics(self, body, params):
        if self.metrics_path is not None:
            raise Fault("Reinitialization of metrics not allowed.")
        self.metrics_path = self.must_exist(body["metrics_path"], "Metrics")

    def op_putMachineConfiguration(self, body, params):
        vc = body["vcpu_count"]
        if body.get("smt") and vc != 1 and vc % 2 != 0:
            raise Fault("The vCPU number is invalid! The vCPU number can only be 1 or an even "
                        "number when SMT is enabled.")
        if body["mem_size_mib"] == 0:
            raise Fault("The memory size (MiB) is invalid.")
        self.cfg["machine-config"] = body
        self.configured = True

    def op_putGuestBootSource(self, body, params):
        self.must_exist(body["kernel_image_path"], "Boot source: kernel")
        if "initrd_path" in body:
            self.must_exist(body["initrd_path"], "Boot source: initrd")
        self.cfg["boot-source"] = body
        self.configured = True

    def op_putGuestDriveByID(self, body, params):
        if body["drive_id"] != params["drive_id"]:
            raise Fault("The id from the path [%s] does not match the id from the body [%s]!"
                        % (params["drive_id"], body["drive_id"]))
        if "socket" not in body:
            if "path_on_host" not in body:
                raise Fault("Drive: path_on_host is required for a virtio-block drive")
            self.open_drive(body, "Drive")
        if body["is_root_device"]:
            for d in self.cfg["drives"].values():
                if d["is_root_device"] and d["drive_id"] != body["drive_id"]:
                    raise Fault("A root block device already exists!")
        self.cfg["drives"][body["drive_id"]] = body
        self.configured = True

    def op_putGuestNetworkInterfaceByID(self, body, params):
        if body["iface_id"] != params["iface_id"]:
            raise Fault("The id from the path [%s] does not match the id from the body [%s]!"
                        % (params["iface_id"], body["iface_id"]))
        dev = body["host_dev_name"]
        if not re.match(r"^[A-Za-z0-9_.:-]{1,15}$", dev):
            raise Fault("Could not create the network device: Open tap device failed: %s" % dev)
        if "guest_mac" in body and not re.match(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$",
                                                 body["guest_mac"], re.I):
            raise Fault("Invalid MAC address: %s" % body["guest_mac"])
        for n in self.cfg["network-interfaces"].values():
            if n["iface_id"] != body["iface_id"] and n["host_dev_name"] == dev:
                raise Fault("The host device name %s is already in use." % dev)
        self.cfg["network-interfaces"][body["iface_id"]] = body
        self.configured = True

    def op_putGuestVsock(self, body, params):
        hp = self.host_path(body["uds_path"])
        if os.path.lexists(hp):
            raise Fault("Cannot create backend for vsock device: Address in use (os error 98)")
        if not os.path.isdir(os.path.dirname(hp) or "."):
            raise Fault("Cannot create backend for vsock device: No such file or directory")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(hp)
        s.listen(1)
        self._vsock = s
        self.cfg["vsock"] = body
        self.configured = True

    def op_putBalloon(self, body, params):
        mem = self.cfg.get("machine-config", {}).get("mem_size_mib", 128)
        if body["amount_mib"] > mem:
            raise Fault("Amount of pages requested cannot be greater than the memory of the "
                        "guest.")
        self.balloon = dict(body)
        self.configured = True

    def op_describeBalloonConfig(self, body, params):
        if self.balloon is None:
            raise Fault("The balloon device configuration was not found.")
        return self.balloon

    def op_patchBalloon(self, body, params):
        if self.balloon is None:
            raise Fault("The balloon device configuration was not found.")
        mem = self.cfg.get("machine-config", {}).get("mem_size_mib", 128)
        if body["amount_mib"] > mem:
            raise Fault("Amount of pages requested cannot be greater than the memory of the "
                        "guest.")
        self.balloon["amount_mib"] = body["amount_mib"]

    def op_describeBalloonStats(self, body, params):
        if self.balloon is None or not self.balloon.get("stats_polling_interval_s"):
            raise Fault("Statistics for the balloon device are not enabled")
        amt = self.balloon["amount_mib"]
        mem = self.cfg.get("machine-config", {}).get("mem_size_mib", 128)
        return {"target_pages": amt * 256, "actual_pages": amt * 256, "target_mib": amt,
                "actual_mib": amt, "free_memory": (mem - amt) * 1048576 // 2,
                "total_memory": mem * 1048576, "available_memory": (mem - amt) * 1048576 // 2}

    def op_putEntropyDevice(self, body, params):
        self.cfg["entropy"] = body
        self.configured = True

    def op_putMmdsConfig(self, body, params):
        for iface in body["network_interfaces"]:
            if iface not in self.cfg["network-interfaces"]:
                raise Fault("The list of network interface IDs that allow forwarding MMDS "
                            "requests is empty or contains an unknown ID: %s" % iface)
        if "ipv4_address" in body:
            fmt = self.spec["definitions"]["MmdsConfig"]["properties"]["ipv4_address"]["format"]
            if not re.fullmatch(fmt, body["ipv4_address"]):
                raise Fault("The MMDS IPv4 address is not link-local: %s" % body["ipv4_address"])
        self.mmds_config = body
        self.configured = True

    def check_mmds_size(self, data):
        # serde_json::to_vec: compact
        if len(json.dumps(data, separators=(",", ":"))) > self.mmds_limit:
            raise Fault("The MMDS patch request doesn't fit.", 413)

    def op_putMmds(self, body, params):
        if not isinstance(body, dict):
            raise Fault("MMDS data must be a JSON object")
        self.check_mmds_size(body)
        self.mmds = body

    def op_patchMmds(self, body, params):
        if self.mmds is None:
            raise Fault("The MMDS data store is not initialized.")
        merged = merge_patch(json.loads(json.dumps(self.mmds)), body)
        self.check_mmds_size(merged)
        self.mmds = merged

    def op_getMmds(self, body, params):
        if self.mmds is None:
            raise Fault("The MMDS data store is not initialized.", 404)
        return self.mmds

    def op_createSyncAction(self, body, params):
        action = body["action_type"]
        if action == "InstanceStart":
            if "boot-source" not in self.cfg:
                raise Fault("Cannot start microvm without kernel configuration.")
            if self.mmds_config and self.mmds_config.get("version") == "V2" and self.mmds is None:
                pass  # allowed: the data store starts empty
            self.guest_writes(0, range(8))  # the boot
            self.state = "Running"
        elif action == "SendCtrlAltDel":
            if "ignore-ctrlaltdel" not in self.modes:
                # the guest reboots (reboot=k), Firecracker exits
                threading.Timer(0.05, lambda: os._exit(0)).start()
        elif action == "FlushMetrics":
            if self.metrics_path is None:
                raise Fault("Failed to flush metrics: the metrics system is not initialized.")
            self.metrics_flushes += 1
            n = self.metrics_flushes
            # Firecracker's counters are deltas since the previous flush
            line = {"utc_timestamp_ms": int(time.time() * 1000),
                    "api_server": {"process_startup_time_us": 1000},
                    "net": {"rx_bytes_count": 1000, "tx_bytes_count": 500 * n,
                            "rx_packets_count": 10, "tx_packets_count": 5},
                    "block": {"read_bytes": 4096, "write_bytes": 512,
                              "read_count": 1, "write_count": 1},
                    "vcpu": {"exit_io_in": 3}}
            with open(self.metrics_path, "a") as f:
                f.write(json.dumps(line) + "\n")

    def op_patchVm(self, body, params):
        if self.state == "Not started":
            raise Fault(NOT_SUPPORTED_BEFORE)
        self.state = "Paused" if body["state"] == "Paused" else "Running"

    def op_createSnapshot(self, body, params):
        if self.state != "Paused":
            raise Fault("Cannot create a snapshot: the microVM is not paused.")
        stype = body.get("snapshot_type", "Full")
        if stype == "Diff" and not self.cfg.get("machine-config", {}).get("track_dirty_pages") \
                and not getattr(self, "dirty_tracking", False):
            pass  # real Firecracker falls back to mincore(); allowed
        for key in ("snapshot_path", "mem_file_path"):
            d = os.path.dirname(self.host_path(body[key])) or "."
            if not os.path.isdir(d):
                raise Fault("Cannot create snapshot file %s: No such file or directory"
                            % body[key])
        mem = self.cfg.get("machine-config", {}).get("mem_size_mib", 128)
        npages = mem * 1048576 // PAGE
        # what the guest wrote since the last snapshot (or load)
        self.generation += 1
        g = self.generation
        self.guest_writes(g, sorted({(g * 11 + i) % npages for i in range(4)} | {1}))
        # the MMDS config is in the snapshot, the data store is not; nor
        # are logger and metrics
        state = {"fake_firecracker_snapshot": 1, "type": stype, "vm_id": self.vm_id,
                 "config": self.op_getExportVmConfig(None, None),
                 "mmds_config": self.mmds_config,
                 "mem_size": mem * 1048576, "mem_digest": mem_digest(self.memory)}
        with open(self.host_path(body["snapshot_path"]), "w") as f:
            json.dump(state, f)
        slow = [int(m.split("=", 1)[1]) for m in self.modes if m.startswith("slow-snapshot=")]
        with open(self.host_path(body["mem_file_path"]), "wb") as f:
            f.truncate(mem * 1048576)   # sparse: the memory image
            if slow and stype == "Full":
                # slow-snapshot=MS: the file is written over MS ms in 16
                # steps (zeros: blocks allocated, the memory's digest the
                # same), the way a large guest's memory file grows
                chunk = mem * 1048576 // 16
                for i in range(16):
                    time.sleep(slow[0] / 16000.0)
                    f.seek(i * chunk)
                    f.write(bytes(chunk))
                    f.flush()
            for p in sorted(self.memory if stype == "Full" else self.dirty):
                f.seek(p * PAGE)
                f.write(self.memory[p])
        # "the snapshot creation resets the dirtied page bitmap"
        self.dirty = set()

    def op_loadSnapshot(self, body, params):
        if self.started() or self.snapshot_loaded:
            raise Fault("Loading a microVM snapshot not allowed after starting the microVM.")
        if self.configured:
            raise Fault("Loading a microVM snapshot not allowed after configuring boot-specific "
                        "resources.")
        if ("mem_backend" in body) == ("mem_file_path" in body):
            raise Fault("Exactly one of mem_backend or mem_file_path must be specified.")
        mem_path = None
        if "mem_backend" in body:
            mb = body["mem_backend"]
            if mb["backend_type"] == "File":
                self.must_exist(mb["backend_path"], "Load snapshot: memory file")
            mem_path = mb["backend_path"]
        else:
            self.must_exist(body["mem_file_path"], "Load snapshot: memory file")
            mem_path = body["mem_file_path"]
        sp = self.must_exist(body["snapshot_path"], "Load snapshot: state file")
        try:
            with open(sp) as f:
                state = json.load(f)
            assert state["fake_firecracker_snapshot"] == 1
        except Exception:
            raise Fault("Load snapshot error: Failed to restore from snapshot: invalid state "
                        "file.")
        conf = state["config"]
        nics = {n["iface_id"]: dict(n) for n in conf.get("network-interfaces", [])}
        for ov in body.get("network_overrides", []):
            if ov["iface_id"] not in nics:
                raise Fault("Load snapshot error: Failed to restore from snapshot: Invalid "
                            "network configuration: no interface %s." % ov["iface_id"])
            nics[ov["iface_id"]]["host_dev_name"] = ov["host_dev_name"]
        memory = None
        if mem_path is not None and "mem_digest" in state:
            hp = self.host_path(mem_path)
            if os.path.getsize(hp) != state["mem_size"]:
                raise Fault("Load snapshot error: Failed to restore from snapshot: the memory "
                            "file is %d bytes, the guest's memory %d"
                            % (os.path.getsize(hp), state["mem_size"]))
            memory = read_memory(hp, state["mem_size"])
            if mem_digest(memory) != state["mem_digest"]:
                raise Fault("Load snapshot error: Failed to restore from snapshot: the memory "
                            "file does not hold this snapshot's memory (fake: the guest would "
                            "resume corrupt; a Diff snapshot's memory must be merged over its "
                            "base first)")
        # Firecracker reopens the drives at the paths the snapshot holds
        opened = {}
        for d in conf.get("drives", []):
            if "path_on_host" in d:
                opened[d["drive_id"]] = self.open_drive(d, "Load snapshot: drive")
        self.extra["opened"] = opened
        self.cfg["drives"] = {d["drive_id"]: d for d in conf.get("drives", [])}
        if memory is not None:
            self.memory = memory
        self.dirty = set()
        self.cfg["network-interfaces"] = nics
        for k in ("machine-config", "boot-source"):
            if k in conf:
                self.cfg[k] = conf[k]
        vs = conf.get("vsock")
        if "vsock_override" in body and vs is None:
            raise Fault("Load snapshot error: Failed to restore from snapshot: vsock_override "
                        "given, but the snapshot has no vsock device.")
        if vs is not None:
            uds = body.get("vsock_override", {}).get("uds_path", vs["uds_path"])
            hp = self.host_path(uds)
            if os.path.lexists(hp):
                raise Fault("Load snapshot error: Failed to restore from snapshot: Cannot "
                            "create backend for vsock device: Address in use (os error 98)")
            vsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            vsock.bind(hp)
            vsock.listen(1)
            self._vsock = vsock
            self.cfg["vsock"] = dict(vs, uds_path=uds)
        self.balloon = conf.get("balloon")
        self.mmds_config = state.get("mmds_config")
        self.mmds = None   # the data store is not persisted
        self.clock_realtime = body.get("clock_realtime", False)
        self.snapshot_loaded = True
        self.state = "Running" if body.get("resume_vm") else "Paused"


def make_handler(fake):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "Firecracker API"
        sys_version = ""

        def log_message(self, fmt, *args):
            pass

        def setup(self):
            # one handler per connection: number them, so the tests can
            # check that the client keeps one connection alive
            super().setup()
            with fake.lock:
                fake.connections += 1
                self.conn_id = fake.connections

        def respond(self, status, obj=None, deprecated=False):
            data = b"" if obj is None else json.dumps(obj).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            if deprecated:
                self.send_header("Deprecation", "true")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)
            self.wfile.flush()

        def dispatch(self):
            method = self.command
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body_for_log = None
            try:
                body_for_log = json.loads(raw) if raw else None
            except ValueError:
                body_for_log = raw.decode(errors="replace")
            for m in fake.modes:
                if m == "die-on=" + path:
                    fake.record(method, path, body_for_log, 0, "died", self.conn_id)
                    os._exit(7)
                if m == "hang-on=" + path:
                    fake.record(method, path, body_for_log, 0, "hung", self.conn_id)
                    time.sleep(3600)
                if m == "reject-on=" + path:
                    msg = "fake: refused on request (reject-on mode)"
                    fake.record(method, path, body_for_log, 400, msg, self.conn_id)
                    self.respond(400, {"fault_message": msg})
                    return
            with fake.lock:
                try:
                    result, deprecated = fake.handle(method, path, raw)
                except HttpLayerError as e:
                    fake.record(method, path, body_for_log, 400, "http: " + e.args[0],
                                self.conn_id)
                    data = e.body()
                    self.send_response(400)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                    return
                except Fault as f:
                    fake.record(method, path, body_for_log, f.status, f.message, self.conn_id)
                    self.respond(f.status, {"fault_message": f.message})
                    if path == "/snapshot/load" and f.message.startswith("Load snapshot error"):
                        # "on failure ... the current Firecracker process is ended"
                        os._exit(1)
                    return
                except Exception as e:  # a bug in the fake: make it loud
                    msg = "fake: internal error: %r" % e
                    fake.record(method, path, body_for_log, 500, msg, self.conn_id)
                    self.respond(500, {"fault_message": msg})
                    return
                status = 204 if result is None else 200
                fake.record(method, path, body_for_log, status, None, self.conn_id)
            self.respond(status, result, deprecated)

        do_GET = do_PUT = do_PATCH = do_DELETE = do_POST = dispatch

    return Handler


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


# ----------------------------------------------------------------- CLI
VALUE_OPTS = {"api-sock", "id", "start-time-us", "start-time-cpu-us", "parent-cpu-time-us",
              "level", "log-path", "metrics-path", "seccomp-filter", "http-api-max-payload-size",
              "mmds-size-limit", "config-file", "module"}
FLAG_OPTS = {"show-level", "show-log-origin", "boot-timer", "no-seccomp", "enable-pci",
             "no-api", "version", "help"}


def parse_args(argv):
    opts = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("--"):
            sys.exit("Arguments parsing error: Found argument '%s' which wasn't expected" % a)
        name, eq, val = a[2:].partition("=")
        if name in VALUE_OPTS:
            if not eq:
                i += 1
                if i >= len(argv):
                    sys.exit("Arguments parsing error: Argument '%s' did not receive any value."
                             % name)
                val = argv[i]
            if name in opts:
                sys.exit("Arguments parsing error: Argument '%s' was already provided" % name)
            opts[name] = val
        elif name in FLAG_OPTS and not eq:
            opts[name] = True
        else:
            sys.exit("Arguments parsing error: Found argument '--%s' which wasn't expected"
                     % name)
        i += 1
    return opts


def main():
    opts = parse_args(sys.argv[1:])
    if opts.get("version"):
        print("Firecracker v1.16.1-fake")
        return 0
    for unsupported in ("config-file", "no-api"):
        if unsupported in opts:
            sys.exit("fake firecracker: --%s is not supported by the fake" % unsupported)
    vm_id = opts.get("id", "anonymous-instance")
    if not VM_ID_RE.match(vm_id):
        sys.exit("Invalid instance ID: %s" % vm_id)
    for num in ("start-time-us", "start-time-cpu-us", "parent-cpu-time-us",
                "http-api-max-payload-size", "mmds-size-limit"):
        if num in opts and not opts[num].isdigit():
            sys.exit("Arguments parsing error: invalid value for --%s" % num)
    modes = [m for m in os.environ.get("FAKE_FC_MODE", "").split(",") if m]
    chroot = os.environ.get("FAKE_FC_CHROOT") or None
    if "ignore-term" in modes or os.environ.get("FAKE_FC_PID1") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if "exit-early" in modes:
        sys.stderr.write("fake firecracker: exiting early (exit-early mode)\n")
        return 3
    sock = opts.get("api-sock", "/run/firecracker.socket")
    # (under the fake jailer this file runs from the jail: the jailer sets
    # FAKE_FC_SPEC to the spec next to itself)
    spec = os.environ.get("FAKE_FC_SPEC") or os.path.join(HERE, "firecracker-api.yaml")
    payload_limit = int(opts.get("http-api-max-payload-size", MAX_PAYLOAD))
    mmds_limit = int(opts["mmds-size-limit"]) if "mmds-size-limit" in opts else None
    for m in modes:
        if m.startswith("payload-limit="):
            payload_limit = int(m.split("=", 1)[1])
    fake = Fake(vm_id, sock, spec, modes, chroot, payload_limit, mmds_limit)
    host_sock = fake.host_path(sock)
    for m in modes:
        if m.startswith("slow-socket="):
            time.sleep(int(m.split("=", 1)[1]) / 1000.0)
    if "no-socket" in modes:
        time.sleep(3600)
        return 0
    try:
        st = os.lstat(host_sock)
        sys.exit("Failed to open the API socket at %s: Address in use (%s exists)"
                 % (sock, "socket" if stat.S_ISSOCK(st.st_mode) else "file"))
    except FileNotFoundError:
        pass
    server = Server(host_sock, make_handler(fake))
    sys.stderr.write("fake firecracker %s: API socket %s (pid %d)\n" % (vm_id, sock, os.getpid()))
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        try:
            os.unlink(host_sock)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
