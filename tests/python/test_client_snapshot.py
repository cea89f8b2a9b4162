#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""BangerClient's running-VM calls through GObject introspection, embedded
(the engine in this process, as root with the in-process executor), on the
real test guest: vm create, a file, vm pause / resume (states and the
vm-state-changed signal), vm stats (a BangerVmStats), vm snapshot (a
BangerSnapshotInfo), vm restore into a new VM on its own address with the
file, snapshot list / delete, typed errors; nothing left.  Subscribed (the
embedded engine's stream) around the snapshot and the restore: their
progress under the calls' own op ids (get_last_op_id), the steps in order,
the memory's bytes (QEMU's query-migrate) and the load's (the stream's
offset) never going down and ending at their totals; snapshot-created and
snapshot-deleted.  The process
joins a network namespace the test makes (before GLib starts any thread).
Root only: skipped otherwise, failed under CI=true."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from guest_netns import enter, run_async  # noqa: E402

GUEST, NS, CGROUP_ROOT = enter('pysn')

import gi  # noqa: E402
gi.require_version('Banger', '1.0')
from gi.repository import Banger, GLib  # noqa: E402


def start_op(client, start, *args):
    """Starts a call; (its op id, a function that waits for its result)."""
    results = []
    start(*args, None, lambda _source, res: results.append(res))
    op_id = client.get_last_op_id()

    def wait(finish):
        ctx = GLib.MainContext.default()
        while not results:
            ctx.iteration(True)
        return finish(results[0])
    return op_id, wait


def iterate_until(cond, timeout=10.0):
    ctx = GLib.MainContext.default()
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        ctx.iteration(False)
        time.sleep(0.01)
    return cond()


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

        progress = []
        created = []
        deleted = []
        client.connect('progress', lambda _c, *ev: progress.append(ev))
        client.connect('snapshot-created', lambda _c, name, vm_name: created.append((name, vm_name)))
        client.connect('snapshot-deleted', lambda _c, name, vm_name: deleted.append((name, vm_name)))
        self.assertTrue(run_async(client.subscribe_async, client.subscribe_finish))

        op, wait = start_op(client, client.vm_snapshot_async, 'py-src', 'gi-snap', False)
        snap = wait(client.vm_snapshot_finish)
        self.assertTrue(iterate_until(lambda: ('gi-snap', 'py-src') in created))
        mine = [ev for ev in progress if ev[0] == op]
        self.assertEqual({(ev[1], ev[2]) for ev in mine}, {('vm.snapshot', 'py-src')})
        self.assertEqual([(ev[3], ev[4], ev[5]) for ev in mine if ev[7] == 0],
                         [('pause', 1, 5), ('memory', 2, 5), ('disks', 3, 5), ('resume', 4, 5),
                          ('record', 5, 5)])
        memory = [ev for ev in mine if ev[3] == 'memory' and ev[7] > 0]
        self.check_bytes(memory, 256 << 20)
        print('# snapshot of a 256 MiB guest: %d memory reports, total %d bytes; %d byte reports '
              'in all' % (len(memory), memory[-1][7], len([ev for ev in mine if ev[7] > 0])))
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
        op, wait = start_op(client, client.vm_restore_async, 'gi-snap', 'py-clone')
        clone = wait(client.vm_restore_finish)
        self.assertEqual(clone.get_name(), 'py-clone')
        self.assertEqual(clone.get_state(), Banger.VmState.RUNNING)
        self.assertNotEqual(clone.get_ip(), vm.get_ip())
        # (the stream and the reply are not ordered: the last events may follow it)
        self.assertTrue(iterate_until(lambda: ('py-clone', Banger.VmState.RUNNING) in states))
        self.assertEqual(states[-1], ('py-clone', Banger.VmState.RUNNING))
        mine = [ev for ev in progress if ev[0] == op]
        self.assertEqual({(ev[1], ev[2]) for ev in mine}, {('vm.restore', 'py-clone')})
        self.assertEqual([(ev[3], ev[4], ev[5]) for ev in mine if ev[7] == 0],
                         [('disks', 1, 7), ('lease', 2, 7), ('tap', 3, 7), ('nat', 4, 7),
                          ('launch', 5, 7), ('load', 6, 7), ('ssh', 7, 7)])
        snap_dirs = os.listdir(os.path.join(state_dir, 'snapshots'))  # gi-snap's only
        stream = os.path.join(state_dir, 'snapshots', snap_dirs[0], 'vmstate')
        load = [ev for ev in mine if ev[3] == 'load' and ev[7] > 0]
        self.check_bytes(load, os.path.getsize(stream))
        print('# restore: %d load reports of a %d-byte stream' % (len(load), load[-1][7]))
        self.assertEqual(load[-1][7], os.path.getsize(stream))
        self.assertEqual(self.sh(client, 'py-clone', 'cat /root/gi'), 'gi-token')
        self.assertIn(' %s/' % clone.get_ip(), self.sh(client, 'py-clone', 'ip -4 -o addr'))

        snaps = run_async(client.snapshot_list_async, client.snapshot_list_finish)
        self.assertEqual([s.get_name() for s in snaps], ['gi-snap'])
        self.assertTrue(run_async(client.snapshot_delete_async, client.snapshot_delete_finish,
                                  'gi-snap'))
        self.assertTrue(iterate_until(lambda: deleted == [('gi-snap', 'py-src')]))
        client.unsubscribe()
        with self.assertRaises(GLib.Error) as ctx:
            run_async(client.vm_restore_async, client.vm_restore_finish, 'gi-snap', None)
        self.assertTrue(ctx.exception.matches(Banger.error_quark(), Banger.Error.NOT_FOUND))
        self.assertEqual(os.listdir(os.path.join(state_dir, 'snapshots')), [])

        for name in ('py-clone', 'py-src'):
            self.assertTrue(run_async(client.vm_delete_async, client.vm_delete_finish, name))
        made.clear()
        self.assertEqual(taps(), [])
        self.assertEqual(os.listdir(os.path.join(state_dir, 'vms')), [])

    def check_bytes(self, reports, at_least):
        """Byte reports (signal args): one total, at least @at_least, the
        done never going down, the last at the total."""
        self.assertTrue(reports, 'no byte reports')
        totals = {ev[7] for ev in reports}
        self.assertEqual(len(totals), 1, totals)
        total = totals.pop()
        self.assertGreaterEqual(total, at_least)
        done = [ev[6] for ev in reports]
        self.assertEqual(done, sorted(done))
        self.assertEqual(done[-1], total)


if __name__ == '__main__':
    try:
        result = unittest.main(exit=False, verbosity=2).result
        ok = result.wasSuccessful()
    finally:
        subprocess.run(['ip', 'netns', 'del', NS], check=False)
        if os.path.isdir(CGROUP_ROOT):
            os.rmdir(CGROUP_ROOT)
    sys.exit(0 if ok else 1)
