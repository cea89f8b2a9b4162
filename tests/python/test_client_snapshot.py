#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""BangerClient's running-VM calls through GObject introspection, embedded
(the engine in this process, as root with the in-process executor), on the
real test guest: vm create, a file, vm pause / resume (states and the
vm-state-changed signal), vm stats (a BangerVmStats), vm snapshot (a
BangerSnapshotInfo), vm restore into a new VM on its own address with the
file, snapshot list / delete, typed errors; nothing left.  The process
joins a network namespace the test makes (before GLib starts any thread).
Root only: skipped otherwise, failed under CI=true."""
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_SRC = os.path.join(HERE, '..', 'guest')
CLONE_NEWNET = 0x40000000


def skips_fail():
    return (os.environ.get('CI') in ('true', '1')
            or bool(os.environ.get('BANGER_TEST_REQUIRE')))


def cgroup2_mount():
    with open('/proc/self/mountinfo', encoding='utf-8') as f:
        for line in f:
            fields = line.split()
            sep = fields.index('-')
            if fields[sep + 1] == 'cgroup2':
                return fields[4]
    raise RuntimeError('no cgroup2 mount')


if os.geteuid() != 0:
    if skips_fail():
        print('1..1\nnot ok 1 - not run: needs root (CI=true: a skip is a failure)')
        sys.exit(1)
    print('1..0 # SKIP needs root (network namespace, taps, QEMU)')
    sys.exit(0)

def build_guest():
    """The test guest (tests/guest/build-guest.sh), built or taken from the
    cache BEFORE the process moves into its network namespace: a first build
    downloads Debian packages, and the namespace has no way out."""
    cache = os.environ.get('BANGER_GUEST_CACHE') or os.path.join(GUEST_SRC, 'cache')
    built = subprocess.run([os.path.join(GUEST_SRC, 'build-guest.sh'), cache],
                           capture_output=True, text=True, check=False)
    if built.returncode != 0:
        print('1..1\nnot ok 1 - build-guest.sh failed (exit %d): %s'
              % (built.returncode, built.stderr.replace('\n', ' | ')))
        sys.exit(1)
    return built.stdout.strip()


GUEST = build_guest()
NS = f'banger-pysn-{os.getpid()}'
subprocess.run(['ip', 'netns', 'add', NS], check=True)
subprocess.run(['ip', '-n', NS, 'link', 'set', 'lo', 'up'], check=True)
_libc = ctypes.CDLL(None, use_errno=True)
_fd = os.open(f'/run/netns/{NS}', os.O_RDONLY)
if _libc.setns(_fd, CLONE_NEWNET) != 0:
    raise OSError(ctypes.get_errno(), 'setns')
os.close(_fd)

import gi  # noqa: E402
gi.require_version('Banger', '1.0')
from gi.repository import Banger, GLib  # noqa: E402

CGROUP_ROOT = os.path.join(cgroup2_mount(), f'banger-pysn-{os.getpid()}.slice')


def run_async(start, finish, *args):
    loop = GLib.MainLoop()
    results = []

    def done(_source, res):
        results.append(res)
        loop.quit()

    start(*args, None, done)
    loop.run()
    return finish(results[0])


def taps():
    out = subprocess.run(['ip', '-o', 'link', 'show'], check=True, capture_output=True,
                         text=True).stdout
    return [line for line in out.splitlines() if ': bngt' in line]


class ClientSnapshot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.guest = GUEST
        cls.dir = tempfile.mkdtemp(prefix='banger-pysn-')
        cls.config = os.path.join(cls.dir, 'bangerd.conf')
        with open(cls.config, 'w', encoding='utf-8') as f:
            f.write(f'[host]\ncgroup={CGROUP_ROOT}\n[network]\nsubnet=10.76.0.0/24\n')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_snapshot_restore(self):
        state = os.path.join(self.dir, 'state')
        client = Banger.Client.new_embedded(state, os.path.join(self.dir, 'run'), self.config)
        states = []
        client.connect('vm-state-changed', lambda _c, name, st: states.append((name, st)))
        run_async(client.kernel_add_async, client.kernel_add_finish, 'k',
                  os.path.join(self.guest, 'vmlinuz'), os.path.join(self.guest, 'initrd.img'),
                  None)
        run_async(client.image_import_async, client.image_import_finish, 'guest',
                  os.path.join(self.guest, 'rootfs.ext4'))
        vm = run_async(client.vm_create_async, client.vm_create_finish,
                       Banger.VmSpec.new('py-src', 'guest', 'k'))
        made = ['py-src']
        try:
            self.flow(client, vm, states, made, state)
        finally:
            for name in made:
                try:
                    run_async(client.vm_delete_async, client.vm_delete_finish, name)
                except GLib.Error:
                    pass

    def sh(self, client, name, cmd):
        ran, status, out, err = run_async(client.vm_exec_async, client.vm_exec_finish, name,
                                          ['sh', '-c', cmd])
        self.assertTrue(ran)
        self.assertEqual(status, 0, err.get_data())
        return out.get_data().decode().strip()

    def flow(self, client, vm, states, made, state_dir):
        self.sh(client, 'py-src', 'echo gi-token > /root/gi && sync')

        paused = run_async(client.vm_pause_async, client.vm_pause_finish, 'py-src')
        self.assertEqual(paused.get_state(), Banger.VmState.PAUSED)
        with self.assertRaises(GLib.Error) as ctx:
            run_async(client.vm_pause_async, client.vm_pause_finish, 'py-src')
        self.assertTrue(ctx.exception.matches(Banger.error_quark(), Banger.Error.BUSY))
        stats = run_async(client.vm_stats_async, client.vm_stats_finish, 'py-src')
        self.assertEqual(stats.get_name(), 'py-src')
        self.assertEqual(stats.get_state(), Banger.VmState.PAUSED)
        self.assertGreater(stats.get_rss_bytes(), 0)
        self.assertGreater(stats.get_cpu_user_us() + stats.get_cpu_system_us(), 0)
        self.assertEqual(stats.get_memory_mib(), 256)
        resumed = run_async(client.vm_resume_async, client.vm_resume_finish, 'py-src')
        self.assertEqual(resumed.get_state(), Banger.VmState.RUNNING)
        self.assertEqual(states[-2:], [('py-src', Banger.VmState.PAUSED),
                                       ('py-src', Banger.VmState.RUNNING)])

        snap = run_async(client.vm_snapshot_async, client.vm_snapshot_finish, 'py-src', 'gi-snap',
                         False)
        self.assertEqual(snap.get_name(), 'gi-snap')
        self.assertEqual(snap.get_vm_name(), 'py-src')
        self.assertEqual(snap.get_vmm(), Banger.VmmKind.QEMU)
        self.assertFalse(snap.get_diff())
        self.assertIsNone(snap.get_parent())
        self.assertEqual(snap.get_guest_ip(), vm.get_ip())
        self.assertGreater(snap.get_size(), 1 << 20)
        with self.assertRaises(GLib.Error) as ctx:
            run_async(client.vm_snapshot_async, client.vm_snapshot_finish, 'py-src', None, True)
        self.assertTrue(ctx.exception.matches(Banger.error_quark(), Banger.Error.UNSUPPORTED))

        made.append('py-clone')
        clone = run_async(client.vm_restore_async, client.vm_restore_finish, 'gi-snap',
                          'py-clone')
        self.assertEqual(clone.get_name(), 'py-clone')
        self.assertEqual(clone.get_state(), Banger.VmState.RUNNING)
        self.assertNotEqual(clone.get_ip(), vm.get_ip())
        self.assertEqual(states[-1], ('py-clone', Banger.VmState.RUNNING))
        self.assertEqual(self.sh(client, 'py-clone', 'cat /root/gi'), 'gi-token')
        self.assertIn(' %s/' % clone.get_ip(), self.sh(client, 'py-clone', 'ip -4 -o addr'))

        snaps = run_async(client.snapshot_list_async, client.snapshot_list_finish)
        self.assertEqual([s.get_name() for s in snaps], ['gi-snap'])
        self.assertTrue(run_async(client.snapshot_delete_async, client.snapshot_delete_finish,
                                  'gi-snap'))
        with self.assertRaises(GLib.Error) as ctx:
            run_async(client.vm_restore_async, client.vm_restore_finish, 'gi-snap', None)
        self.assertTrue(ctx.exception.matches(Banger.error_quark(), Banger.Error.NOT_FOUND))
        self.assertEqual(os.listdir(os.path.join(state_dir, 'snapshots')), [])

        for name in ('py-clone', 'py-src'):
            self.assertTrue(run_async(client.vm_delete_async, client.vm_delete_finish, name))
        made.clear()
        self.assertEqual(taps(), [])
        self.assertEqual(os.listdir(os.path.join(state_dir, 'vms')), [])


if __name__ == '__main__':
    try:
        result = unittest.main(exit=False, verbosity=2).result
        ok = result.wasSuccessful()
    finally:
        subprocess.run(['ip', 'netns', 'del', NS], check=False)
        if os.path.isdir(CGROUP_ROOT):
            os.rmdir(CGROUP_ROOT)
    sys.exit(0 if ok else 1)
