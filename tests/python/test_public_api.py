#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The public building blocks through GObject introspection: a
Banger.PrivBackend (the in-process validating executor, as root) makes a tap
and a work disk, reports a copy-on-write root disk's strategy and refuses
what its policy refuses with typed errors; a Banger.Vmm of the QEMU driver
is configured from a Banger.MachineConfig, launched through the backend,
started on the real test guest, measured and killed; cleanup leaves no tap.
The process moves into a network namespace of its own (unshare, before GLib
starts any thread).  Root only: skipped otherwise, failed under CI=true."""
import ctypes
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


if os.geteuid() != 0:
    if skips_fail():
        print('1..1\nnot ok 1 - not run: needs root (CI=true: a skip is a failure)')
        sys.exit(1)
    print('1..0 # SKIP needs root (network namespace, taps, QEMU)')
    sys.exit(0)


def build_guest():
    """The test guest, built or taken from the cache before the namespace
    (a first build downloads packages)."""
    cache = os.environ.get('BANGER_GUEST_CACHE') or os.path.join(GUEST_SRC, 'cache')
    built = subprocess.run([os.path.join(GUEST_SRC, 'build-guest.sh'), cache],
                           capture_output=True, text=True, check=False)
    if built.returncode != 0:
        print('1..1\nnot ok 1 - build-guest.sh failed (exit %d): %s'
              % (built.returncode, built.stderr.replace('\n', ' | ')))
        sys.exit(1)
    return built.stdout.strip()


GUEST = build_guest()
_libc = ctypes.CDLL(None, use_errno=True)
if _libc.unshare(CLONE_NEWNET) != 0:
    raise OSError(ctypes.get_errno(), 'unshare(CLONE_NEWNET)')
subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)

import gi  # noqa: E402
gi.require_version('Banger', '1.0')
from gi.repository import Banger, GLib  # noqa: E402

NONE = Banger.PrivBackendFlags.NONE
MIB = 1024 * 1024


def run_async(start, finish, *args):
    loop = GLib.MainLoop()
    results = []

    def done(_source, res):
        results.append(res)
        loop.quit()

    start(*args, None, done)
    loop.run()
    return finish(results[0])


def cgroup2_mount():
    with open('/proc/self/mountinfo', encoding='utf-8') as f:
        for line in f:
            fields = line.split()
            sep = fields.index('-')
            if fields[sep + 1] == 'cgroup2':
                return fields[4]
    raise RuntimeError('no cgroup2 mount')


def links():
    out = subprocess.run(['ip', '-o', 'link', 'show'], check=True, capture_output=True,
                         text=True).stdout
    return out


class PublicApi(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='banger-pypub-')
        self.state = os.path.join(self.dir, 'state')
        self.run_dir = os.path.join(self.dir, 'run')
        os.mkdir(self.state)
        os.mkdir(self.run_dir)
        self.vm_id = f'pypub-{os.getpid()}'
        self.backend = Banger.PrivBackend.new_in_process(self.state, self.run_dir,
                                                         '10.79.0.0/16')

    def tearDown(self):
        try:
            self.backend.cleanup_vm(self.vm_id, NONE, None)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def assert_banger_error(self, ctx, code):
        err = ctx.exception
        self.assertTrue(err.matches(Banger.error_quark(), code),
                        f'expected {Banger.Error.to_name(code)}, got {err.domain} '
                        f'{err.code}: {err.message}')

    def test_backend_tap_work_disk_and_qemu(self):
        backend = self.backend
        self.assertTrue(backend.is_in_process())
        self.assertEqual(backend.get_description(), 'in-process executor')

        # the tap, asynchronously; the address is inside the backend's network
        tap = run_async(backend.create_tap_async, backend.create_tap_finish, self.vm_id, None,
                        '10.79.0.1/30', NONE)
        self.assertTrue(tap.startswith('bngt'), tap)
        self.assertIn(f': {tap}', links())
        addr = subprocess.run(['ip', '-o', '-4', 'addr', 'show', 'dev', tap], check=True,
                              capture_output=True, text=True).stdout
        self.assertIn('10.79.0.1/30', addr)
        # outside it: the executor's policy, typed
        with self.assertRaises(GLib.Error) as ctx:
            backend.create_tap(self.vm_id, None, '10.80.0.1/30', NONE, None)
        self.assert_banger_error(ctx, Banger.Error.PERMISSION_DENIED)

        # the work disk: a fresh ext4 made through the method table
        vm_dir = os.path.join(self.state, self.vm_id)
        os.mkdir(vm_dir)
        work = os.path.join(vm_dir, 'work.ext4')
        self.assertTrue(run_async(backend.create_work_disk_async,
                                  backend.create_work_disk_finish, work, 32 * MIB, NONE))
        self.assertEqual(os.path.getsize(work), 32 * MIB)
        fs = subprocess.run(['blkid', '-o', 'value', '-s', 'TYPE', work], check=True,
                            capture_output=True, text=True).stdout.strip()
        self.assertEqual(fs, 'ext4')
        with self.assertRaises(GLib.Error) as ctx:
            backend.create_work_disk(work, 32 * MIB, NONE, None)
        self.assert_banger_error(ctx, Banger.Error.ALREADY_EXISTS)
        with self.assertRaises(GLib.Error) as ctx:
            backend.create_work_disk(os.path.join(vm_dir, 'odd.ext4'), 32 * MIB + 1, NONE, None)
        self.assert_banger_error(ctx, Banger.Error.INVALID_ARGUMENT)

        # the root disk, its strategy reported
        rootfs = os.path.join(vm_dir, 'rootfs.ext4')
        ok, strategy, disk = backend.create_cow_disk(self.vm_id,
                                                     os.path.join(GUEST, 'rootfs.ext4'),
                                                     rootfs, NONE, None)
        self.assertTrue(ok)
        self.assertIn(Banger.cow_strategy_to_string(strategy),
                      ('dm-snapshot', 'reflink', 'sparse-copy'))
        if not os.path.exists('/dev/mapper/control'):
            self.assertEqual(disk, rootfs)
        for name in ('vmlinuz', 'initrd.img'):
            shutil.copy(os.path.join(GUEST, name), vm_dir)

        # the machine, its config sealed by the constructor
        config = Banger.MachineConfig.new(self.vm_id, os.path.join(vm_dir, 'run'))
        config.set_kernel(os.path.join(vm_dir, 'vmlinuz'), os.path.join(vm_dir, 'initrd.img'))
        config.set_memory_mib(256)
        config.add_drive('rootfs', disk, True, False)
        config.add_drive('work', work, False, False)
        config.add_nic('eth0', tap, None)
        config.set_guest_network('10.79.0.2', '10.79.0.1', '255.255.255.252', None)
        self.assertEqual(config.get_n_drives(), 2)
        bad = Banger.MachineConfig.new('Not_A_Label', '/tmp')
        with self.assertRaises(GLib.Error) as ctx:
            Banger.Vmm.new_qemu(bad, None, Banger.QemuAccel.TCG)
        self.assert_banger_error(ctx, Banger.Error.INVALID_ARGUMENT)

        vmm = Banger.Vmm.new_qemu(config, None, Banger.QemuAccel.AUTO)
        self.assertTrue(config.is_sealed())
        self.assertEqual(vmm.get_driver_name(), 'qemu')
        self.assertEqual(vmm.get_state(), Banger.VmmState.NEW)
        vmm.set_backend_launch(backend)
        self.assertTrue(vmm.prepare())
        self.assertEqual(vmm.get_state(), Banger.VmmState.PREPARED)
        self.assertTrue(run_async(vmm.launch_async, vmm.launch_finish))
        self.assertEqual(vmm.get_state(), Banger.VmmState.LAUNCHED)
        pid = vmm.get_pid()
        self.assertTrue(vmm.get_api_socket().startswith(
            os.path.join(self.run_dir, 'vm', self.vm_id)))
        self.assertTrue(run_async(vmm.configure_async, vmm.configure_finish))
        self.assertTrue(run_async(vmm.start_async, vmm.start_finish))
        self.assertEqual(vmm.get_state(), Banger.VmmState.RUNNING)
        self.assertTrue(vmm.refresh_state(None))
        self.assertEqual(vmm.get_state(), Banger.VmmState.RUNNING)
        stats = vmm.get_stats()
        self.assertGreater(stats.get_rss_bytes(), 0)

        self.assertTrue(vmm.kill())
        self.assertEqual(vmm.get_state(), Banger.VmmState.EXITED)
        self.assertEqual(vmm.get_stop_method(), 'kill')
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)

        # everything of the VM goes
        self.assertTrue(run_async(backend.cleanup_vm_async, backend.cleanup_vm_finish,
                                  self.vm_id, NONE))
        self.assertNotIn(f': {tap}', links())
        ok, deleted = backend.delete_tap(self.vm_id, NONE, None)
        self.assertTrue(ok)
        self.assertFalse(deleted)


class HelperSocket(unittest.TestCase):
    """The same typed calls through bangerd-root: a real helper (the binary
    this build made) with an install config of the test's, in the test's
    namespace, called as root."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='banger-pyhelper-')
        os.chmod(self.dir, 0o755)
        self.run_dir = os.path.join(self.dir, 'run')
        self.state = os.path.join(self.dir, 'state')
        os.mkdir(self.run_dir, 0o755)
        os.mkdir(self.state, 0o755)
        self.socket = os.path.join(self.run_dir, 'bangerd-root.sock')
        self.cgroup = os.path.join(cgroup2_mount(), f'banger-pyhelper-{os.getpid()}.slice')
        config = os.path.join(self.dir, 'install.conf')
        with open(config, 'w', encoding='utf-8') as f:
            f.write('[install]\nowner-uid=65534\nowner-gid=65534\n'
                    f'runtime-dir={self.run_dir}\nstate-dir={self.state}\n'
                    f'cgroup-root={self.cgroup}\nvm-network=10.81.0.0/16\n'
                    f'[helper]\nsocket={self.socket}\n')
        os.chmod(config, 0o644)
        self.helper = subprocess.Popen([os.environ['BANGERD_ROOT'], '-c', config],
                                       stdout=subprocess.DEVNULL)
        for _ in range(500):
            if os.path.exists(self.socket):
                break
            time.sleep(0.01)
        self.vm_id = f'pyhelper-{os.getpid()}'

    def tearDown(self):
        self.helper.terminate()
        self.helper.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        if os.path.isdir(self.cgroup):
            os.rmdir(self.cgroup)

    def test_tap_and_nat_over_the_socket(self):
        backend = Banger.PrivBackend.new_for_socket(self.socket)
        self.assertFalse(backend.is_in_process())
        self.assertEqual(backend.get_description(), f'bangerd-root at {self.socket}')
        tap = run_async(backend.create_tap_async, backend.create_tap_finish, self.vm_id, None,
                        '10.81.0.1/30', NONE)
        self.assertTrue(tap.startswith('bngt'), tap)
        self.assertIn(f': {tap}', links())
        # the helper's policy, as the same typed error over the wire
        with self.assertRaises(GLib.Error) as ctx:
            backend.create_tap(self.vm_id, None, '10.82.0.1/30', NONE, None)
        self.assertTrue(ctx.exception.matches(Banger.error_quark(),
                                              Banger.Error.PERMISSION_DENIED),
                        ctx.exception.message)
        self.assertTrue(backend.nat_enable(self.vm_id, '10.81.0.2', NONE, None))
        self.assertTrue(backend.nat_disable(self.vm_id, NONE, None))
        ok, deleted = run_async(backend.delete_tap_async, backend.delete_tap_finish, self.vm_id,
                                NONE)
        self.assertTrue(ok)
        self.assertTrue(deleted)
        self.assertNotIn(f': {tap}', links())
        self.assertTrue(backend.cleanup_vm(self.vm_id, NONE, None))


if __name__ == '__main__':
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
