#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""BangerClient's event stream, streaming exec and doctor through GObject
introspection, against a bangerd the test starts (two clients: B sees what
A does) and embedded: create --no-start and delete of a VM made from the
test guest's image, seen as vm-state-changed and progress signals; the
streaming exec's GI signature (a typed error: the VM is stopped); doctor's
checks as Banger.DoctorCheck values.  No VM boots, so no network namespace
is needed; root for the in-process executor (skipped otherwise, failed
under CI=true)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_SRC = os.path.join(HERE, '..', 'guest')


def skips_fail():
    return (os.environ.get('CI') in ('true', '1')
            or bool(os.environ.get('BANGER_TEST_REQUIRE')))


if os.geteuid() != 0:
    if skips_fail():
        print('1..1\nnot ok 1 - not run: needs root (CI=true: a skip is a failure)')
        sys.exit(1)
    print('1..0 # SKIP needs root (the in-process executor)')
    sys.exit(0)


def cgroup2_mount():
    with open('/proc/self/mountinfo', encoding='utf-8') as f:
        for line in f:
            fields = line.split()
            sep = fields.index('-')
            if fields[sep + 1] == 'cgroup2':
                return fields[4]
    raise RuntimeError('no cgroup2 mount')


CGROUP_ROOT = os.path.join(cgroup2_mount(), f'banger-pyev-{os.getpid()}.slice')


def build_guest():
    cache = os.environ.get('BANGER_GUEST_CACHE') or os.path.join(GUEST_SRC, 'cache')
    built = subprocess.run([os.path.join(GUEST_SRC, 'build-guest.sh'), cache],
                           capture_output=True, text=True, check=False)
    if built.returncode != 0:
        print('1..1\nnot ok 1 - build-guest.sh failed (exit %d): %s'
              % (built.returncode, built.stderr.replace('\n', ' | ')))
        sys.exit(1)
    return built.stdout.strip()


GUEST = build_guest()

import gi  # noqa: E402
gi.require_version('Banger', '1.0')
from gi.repository import Banger, Gio, GLib  # noqa: E402


def run_async(start, finish, *args):
    loop = GLib.MainLoop()
    results = []

    def done(_source, res):
        results.append(res)
        loop.quit()

    start(*args, None, done)
    loop.run()
    return finish(results[0])


def iterate_until(cond, timeout=10.0):
    ctx = GLib.MainContext.default()
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        if not ctx.iteration(False):
            time.sleep(0.001)
    return cond()


class Watcher:
    def __init__(self, client):
        self.states = []
        self.progress = []
        client.connect('vm-state-changed', self.on_state)
        client.connect('progress', self.on_progress)
        self.assert_ok = run_async(client.subscribe_async, client.subscribe_finish)

    def on_state(self, _client, name, state):
        self.states.append((name, state))

    def on_progress(self, _client, op_id, kind, target, step, index, count, done, total):
        if total == 0:  # a step's start (byte reports follow some: not counted here)
            self.progress.append((op_id, kind, target, step, index, count))


class Events(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix='banger-pyev-')
        cls.config = os.path.join(cls.dir, 'bangerd.conf')
        with open(cls.config, 'w', encoding='utf-8') as f:
            f.write(f'[host]\ncgroup={CGROUP_ROOT}\n[network]\nsubnet=10.81.0.0/24\n')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_daemon(self):
        run = os.path.join(self.dir, 'drun')
        sock = os.path.join(run, 'bangerd.sock')
        with open(os.path.join(self.dir, 'bangerd.log'), 'w', encoding='utf-8') as log:
            daemon = subprocess.Popen([os.environ['BANGERD'], '--config', self.config,
                                       '--state-dir', os.path.join(self.dir, 'dstate'),
                                       '--runtime-dir', run], stderr=log)
        try:
            for _ in range(500):
                if os.path.exists(sock):
                    break
                time.sleep(0.01)
            a = Banger.Client.new_for_socket(sock)
            b = Banger.Client.new_for_socket(sock)
            watcher = Watcher(b)
            self.assertTrue(watcher.assert_ok)
            self.create_delete(a, watcher, 'pyd-1')
            self.doctor(a)
        finally:
            daemon.terminate()
            daemon.wait()

    def test_embedded(self):
        client = Banger.Client.new_embedded(os.path.join(self.dir, 'estate'),
                                            os.path.join(self.dir, 'erun'), self.config)
        watcher = Watcher(client)
        self.create_delete(client, watcher, 'pye-1')
        self.doctor(client)

    def create_delete(self, client, watcher, name):
        run_async(client.kernel_add_async, client.kernel_add_finish, 'k',
                  os.path.join(GUEST, 'vmlinuz'), os.path.join(GUEST, 'initrd.img'), None)
        run_async(client.image_import_async, client.image_import_finish, 'guest',
                  os.path.join(GUEST, 'rootfs.ext4'))
        spec = Banger.VmSpec.new(name, 'guest', 'k')
        spec.set_start(False)
        vm = run_async(client.vm_create_async, client.vm_create_finish, spec)
        self.assertEqual(vm.get_state(), Banger.VmState.STOPPED)
        self.assertTrue(iterate_until(lambda: (name, Banger.VmState.STOPPED) in watcher.states))
        self.assertEqual(watcher.states, [(name, Banger.VmState.CREATING),
                                          (name, Banger.VmState.STOPPED)])
        self.assertEqual([(p[1], p[2], p[3], p[4], p[5]) for p in watcher.progress],
                         [('vm.create', name, 'rootfs', 1, 5),
                          ('vm.create', name, 'workspace', 2, 5),
                          ('vm.create', name, 'work-disk', 3, 5),
                          ('vm.create', name, 'inject-key', 4, 5),
                          ('vm.create', name, 'lease', 5, 5)])
        self.assertEqual(len({p[0] for p in watcher.progress}), 1)

        # the streaming exec through GI: a stopped VM is a typed error
        out = Gio.MemoryOutputStream.new_resizable()
        with self.assertRaises(GLib.Error) as ctx:
            run_async(client.vm_exec_stream_async, client.vm_exec_stream_finish, name,
                      ['true'], out, None)
        self.assertTrue(ctx.exception.matches(Banger.error_quark(), Banger.Error.BUSY))

        self.assertTrue(run_async(client.vm_delete_async, client.vm_delete_finish, name))
        self.assertTrue(iterate_until(lambda: (name, Banger.VmState.DELETED) in watcher.states))
        self.assertEqual(watcher.states[2:], [(name, Banger.VmState.DELETING),
                                              (name, Banger.VmState.DELETED)])

    def doctor(self, client):
        checks = run_async(client.doctor_async, client.doctor_finish)
        by_name = {c.get_name(): c for c in checks}
        for name in ('kvm', 'tun', 'cgroup2', 'qemu', 'mkfs.ext4', 'backend', 'root-disks'):
            self.assertIn(name, by_name)
        self.assertEqual(by_name['backend'].get_status(), Banger.CheckStatus.OK)
        self.assertIn('answers', by_name['backend'].get_message())
        self.assertEqual(Banger.check_status_to_string(Banger.CheckStatus.WARN), 'warn')


if __name__ == '__main__':
    try:
        result = unittest.main(exit=False, verbosity=2).result
    finally:
        if os.path.isdir(CGROUP_ROOT):
            os.rmdir(CGROUP_ROOT)
    sys.exit(0 if result.wasSuccessful() else 1)
