#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""BangerClient through GObject introspection, twice: embedded (the engine
in this process, as root with the in-process executor) and against a bangerd
(started by the test): kernel add, image import, vm create on the real test
guest, vm exec uname -r, vm delete, and nothing left.  The process joins a network namespace the test makes (before GLib
starts any thread: setns only moves the calling thread, and threads inherit
it).  Root only: skipped otherwise, failed under CI=true."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from guest_netns import enter, run_async  # noqa: E402

GUEST, NS, CGROUP_ROOT = enter('py')

import gi  # noqa: E402
gi.require_version('Banger', '1.0')
from gi.repository import Banger, GLib  # noqa: E402


def taps():
    out = subprocess.run(['ip', '-o', 'link', 'show'], check=True, capture_output=True,
                         text=True).stdout
    return [line for line in out.splitlines() if ': bngt' in line]


class Client(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        out = GUEST
        cls.guest = out
        with open(os.path.join(out, 'kernel-release'), encoding='utf-8') as f:
            cls.release = f.read().strip()
        cls.dir = tempfile.mkdtemp(prefix='banger-py-')
        cls.config = os.path.join(cls.dir, 'bangerd.conf')
        with open(cls.config, 'w', encoding='utf-8') as f:
            f.write(f'[host]\ncgroup={CGROUP_ROOT}\n[network]\nsubnet=10.78.0.0/24\n')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_embedded(self):
        client = Banger.Client.new_embedded(os.path.join(self.dir, 'state'),
                                            os.path.join(self.dir, 'run'), self.config)
        self.assertTrue(client.is_embedded())
        self.create_exec_delete(client, os.path.join(self.dir, 'state'))

    def test_daemon(self):
        state = os.path.join(self.dir, 'dstate')
        run = os.path.join(self.dir, 'drun')
        sock = os.path.join(run, 'bangerd.sock')
        bangerd = os.environ['BANGERD']
        with open(os.path.join(self.dir, 'bangerd.log'), 'w', encoding='utf-8') as log:
            daemon = subprocess.Popen([bangerd, '--config', self.config, '--state-dir', state,
                                       '--runtime-dir', run], stderr=log)
        try:
            for _ in range(500):
                if os.path.exists(sock):
                    break
                time.sleep(0.01)
            client = Banger.Client.new_for_socket(sock)
            self.assertFalse(client.is_embedded())
            self.create_exec_delete(client, state)
        finally:
            daemon.terminate()
            daemon.wait()

    def create_exec_delete(self, client, state_dir):
        states = []
        client.connect('vm-state-changed', lambda _c, name, state: states.append((name, state)))

        k = run_async(client.kernel_add_async, client.kernel_add_finish, 'k',
                      os.path.join(self.guest, 'vmlinuz'),
                      os.path.join(self.guest, 'initrd.img'), None)
        self.assertEqual(k.get_name(), 'k')
        im = run_async(client.image_import_async, client.image_import_finish, 'guest',
                       os.path.join(self.guest, 'rootfs.ext4'))
        self.assertEqual(im.get_name(), 'guest')
        # not pulled: no ref, no digest; the pull calls through GI
        self.assertIsNone(im.get_ref())
        self.assertIsNone(im.get_digest())
        self.assertIsNone(k.get_ref())
        ok, removed, removed_bytes = run_async(client.image_prune_async,
                                               client.image_prune_finish)
        self.assertEqual((ok, removed, removed_bytes), (True, 0, 0))
        with self.assertRaises(GLib.Error) as ctx:
            run_async(client.image_pull_async, client.image_pull_finish, 'Bad//ref', None, 0)
        self.assertTrue(ctx.exception.matches(Banger.error_quark(),
                                              Banger.Error.INVALID_ARGUMENT))
        with self.assertRaises(GLib.Error) as ctx:
            run_async(client.kernel_pull_async, client.kernel_pull_finish,
                      'https://example.invalid/vmlinuz', None, None)
        self.assertTrue(ctx.exception.matches(Banger.error_quark(),
                                              Banger.Error.INVALID_ARGUMENT))

        spec = Banger.VmSpec.new('py-1', 'guest', 'k')
        spec.set_memory_mib(256)
        # publishes and egress (doc/host.md): checked when set, canonical
        self.assertTrue(spec.add_publish('18080:80'))
        with self.assertRaises(GLib.Error) as bad:
            spec.add_publish('70000:80')
        self.assertTrue(bad.exception.matches(Banger.error_quark(),
                                              Banger.Error.INVALID_ARGUMENT))
        with self.assertRaises(GLib.Error):
            spec.add_publish('0.0.0.0:18080:81')  # the same host port
        self.assertEqual(spec.get_publish(), ['0.0.0.0:18080:80/tcp'])
        with self.assertRaises(GLib.Error):
            spec.set_egress('everything')
        self.assertTrue(spec.set_egress('10.1.0.0/16'))
        self.assertEqual(spec.get_egress(), '10.1.0.0/16')
        vm = run_async(client.vm_create_async, client.vm_create_finish, spec)
        self.assertEqual(vm.get_publish(), '0.0.0.0:18080:80/tcp')
        self.assertEqual(vm.get_egress(), '10.1.0.0/16')
        ports, egress, active = run_async(client.vm_port_async, client.vm_port_finish, 'py-1')
        self.assertEqual((ports, egress, active), (['0.0.0.0:18080:80/tcp'], '10.1.0.0/16', True))
        self.assertEqual(vm.get_state(), Banger.VmState.RUNNING)
        self.assertEqual(vm.get_vmm(), Banger.VmmKind.QEMU)
        self.assertEqual(vm.get_ip(), '10.78.0.2')
        self.assertEqual(states, [('py-1', Banger.VmState.RUNNING)])
        self.assertEqual(len(taps()), 1)

        try:
            self.exec_and_delete(client, spec, state_dir)
        except Exception:
            # leave nothing running behind a failed assertion
            try:
                run_async(client.vm_delete_async, client.vm_delete_finish, 'py-1')
            except GLib.Error:
                pass
            raise

    def exec_and_delete(self, client, spec, state_dir):
        ran, status, out, err = run_async(client.vm_exec_async, client.vm_exec_finish, 'py-1',
                                          ['uname', '-r'])
        self.assertTrue(ran)
        self.assertEqual(status, 0, err.get_data())
        self.assertEqual(out.get_data().decode().strip(), self.release)

        # a typed error across the API
        with self.assertRaises(GLib.Error) as ctx:
            run_async(client.vm_create_async, client.vm_create_finish, spec)
        self.assertTrue(ctx.exception.matches(Banger.error_quark(),
                                              Banger.Error.ALREADY_EXISTS))

        vms = run_async(client.vm_list_async, client.vm_list_finish)
        self.assertEqual([v.get_name() for v in vms], ['py-1'])

        self.assertTrue(run_async(client.vm_delete_async, client.vm_delete_finish, 'py-1'))
        self.assertEqual(run_async(client.vm_list_async, client.vm_list_finish), [])
        with self.assertRaises(GLib.Error) as ctx:
            run_async(client.vm_get_async, client.vm_get_finish, 'py-1')
        self.assertTrue(ctx.exception.matches(Banger.error_quark(), Banger.Error.NOT_FOUND))
        self.assertEqual(taps(), [])
        self.assertEqual([d for d in os.listdir(CGROUP_ROOT)
                          if os.path.isdir(os.path.join(CGROUP_ROOT, d))], [])
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
