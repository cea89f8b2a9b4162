#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The three executables start, answer --help and --version, a command that
# isn't built says so and exits 2, and doctor says exactly what it means on
# hosts the test makes.
set -u
banger="$1"; bangerd="$2"; root="$3"; completion="$4"
n=0; failed=0
t() { # t DESCRIPTION EXPECTED-EXIT CMD...
  desc="$1"; want="$2"; shift 2
  n=$((n + 1))
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" = "$want" ]; then echo "ok $n - $desc"; else echo "not ok $n - $desc (exit $rc, wanted $want): $out"; failed=1; fi
  LAST="$out"
}
contains() { n=$((n + 1)); case "$LAST" in *"$1"*) echo "ok $n - output has '$1'";; *) echo "not ok $n - output lacks '$1'"; echo "$LAST" | sed "s|^|# |"; failed=1;; esac; }
t "banger --version" 0 "$banger" --version; contains "banger 0.1.0"
t "banger --help" 0 "$banger" --help; contains "doctor"
t "banger vm --help" 0 "$banger" vm --help; contains "create"
t "banger without a command" 2 "$banger"
t "banger unknown command" 2 "$banger" frobnicate; contains "unknown command 'frobnicate'"
t "banger unknown option" 2 "$banger" --frob
t "banger vm unknown" 2 "$banger" vm frob
# bash completion: parses, and completes commands and options (with a
# stand-in for bash-completion's _init_completion)
complete_words() { # complete_words WORD... : what _banger offers for the last one
  bash -c '. "$0"; _init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD;
    cur=${words[cword]}; prev=${words[cword-1]}; }
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _banger; echo "${COMPREPLY[*]}"' "$completion" "$@"
}
t "completion parses" 0 bash -n "$completion"
t "completion: vm cr" 0 complete_words banger vm cr; contains "create"
t "completion: vm create --w" 0 complete_words banger vm create x --w; contains "--work-disk"
t "completion: --vmm" 0 complete_words banger vm create x --vmm f; contains "firecracker"
t "banger vm ssh without a name" 2 "$banger" vm ssh; contains "usage: banger vm ssh"
t "banger vm ssh two names" 2 "$banger" vm ssh a b; contains "usage: banger vm ssh"
t "banger vm ssh, no daemon" 1 "$banger" --socket /nonexistent/bangerd.sock vm ssh x; contains "no bangerd answers on /nonexistent/bangerd.sock"
t "banger vm workspace bad verb" 2 "$banger" vm workspace sync x; contains "push, pull or status"
t "banger vm workspace push without a name" 2 "$banger" vm workspace push; contains "NAME"
t "banger vm workspace status --force refused" 2 "$banger" vm workspace status x --force; contains "force"
t "banger ssh-config bad verb" 2 "$banger" ssh-config add; contains "install or uninstall"
t "completion: vm workspace" 0 complete_words banger vm workspace p; contains "push pull"
t "completion: vm create --works" 0 complete_words banger vm create x --works; contains "--workspace"
t "banger vm create without --image" 2 "$banger" vm create x; contains "--image and --kernel are required"
t "banger vm create without a name" 2 "$banger" vm create --image i --kernel k; contains "expected NAME"
t "banger vm create --help" 0 "$banger" vm create --help; contains "--work-disk"
t "banger vm exec without --" 2 "$banger" vm exec x uname; contains "usage: banger vm exec [--no-sync] NAME -- COMMAND"
t "banger vm create bad size" 2 "$banger" vm create x --image i --kernel k --work-disk 12Q; contains "is not a size"
# running VMs (banger-builtin-snapshot.c): usage errors before any daemon is asked
t "banger vm stats bad interval" 2 "$banger" vm stats x --interval 0; contains "--interval must be"
t "banger vm set --balloon with --vcpus" 2 "$banger" vm set x --balloon 8 --vcpus 2; contains "--balloon (a running VM's)"
t "banger vm restore without SNAP" 2 "$banger" vm restore; contains "expected SNAP"
t "banger snapshot --help" 0 "$banger" snapshot --help; contains "rm"
t "completion: vm sn" 0 complete_words banger vm sn; contains "snapshot"
t "completion: snapshot r" 0 complete_words banger snapshot r; contains "rm"
t "completion: vm set x --b" 0 complete_words banger vm set x --b; contains "--balloon"
t "banger vm ls, no daemon" 1 "$banger" --socket /nonexistent/bangerd.sock vm ls; contains "no bangerd answers on /nonexistent/bangerd.sock"
t "banger --json vm ls, no daemon" 1 env BANGER_SOCKET=/nonexistent/b.sock "$banger" --json vm ls; contains '"code":"not-found"'
t "banger image pull without REF" 2 "$banger" image pull; contains "expected REF"
t "banger image pull bad size" 2 "$banger" image pull alpine --size 3X; contains "is not a size"
t "banger image pull --help" 0 "$banger" image pull --help; contains "--size"
t "banger kernel pull --help" 0 "$banger" kernel pull --help; contains "--sha256"
t "banger image --help lists pull and prune" 0 "$banger" image --help; contains "prune"
t "banger image pull, no daemon" 1 "$banger" --socket /nonexistent/bangerd.sock image pull alpine; contains "no bangerd answers"
t "banger image prune, no daemon" 1 "$banger" --socket /nonexistent/bangerd.sock image prune; contains "no bangerd answers"
t "banger doctor --help" 0 "$banger" doctor --help
t "banger doctor extra argument" 2 "$banger" doctor extra

# doctor, on a host the test makes: PATH holds only the programs the test
# puts there, /dev/null stands in for /dev/kvm (it opens), the fake QEMU's
# "guest" prints its banner or not, and the KVM answer is cached in a temp
# dir.  Each case asserts the exact lines and exit status it means.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin" "$tmp/none"
cat > "$tmp/qemu" <<'EOF2'
#!/bin/sh
# fake qemu-system-x86_64 for the KVM boot probe: $FAKE_QEMU_PROBE boots|exits
for a in "$@"; do case "$a" in file:*) serial="${a#file:}";; esac; done
[ "$FAKE_QEMU_PROBE" = boots ] || exit 1
printf '[    0.000000] Linux version 6.1\n' > "$serial"
exec /bin/sleep 30
EOF2
chmod +x "$tmp/qemu"
printf '#!/bin/sh\nexit 0\n' > "$tmp/true"; chmod +x "$tmp/true"
: > "$tmp/vmlinuz"
doctor() { # doctor BIN-DIR FAKE_QEMU_PROBE [--json]
  dir=$1; probe=$2; shift 2
  env PATH="$dir" FAKE_QEMU_PROBE="$probe" BANGER_KVM_DEVICE=/dev/null \
    BANGER_KVM_PROBE_KERNEL="$tmp/vmlinuz" BANGER_KVM_CACHE_DIR="$tmp/cache-$dir_name" \
    BANGER_QEMU= BANGER_QEMU_ACCEL= BANGER_SYSTEMD_UNIT_PATH="$tmp/none" \
    BANGER_SOCKET="$tmp/no-daemon.sock" \
    "$banger" "$@" doctor
}
line() { n=$((n + 1)); got=$(printf '%s\n' "$LAST" | grep "^[a-z]* *$1 "); case "$got" in
  "$2 "*"$3"*) echo "ok $n - doctor: $1 is '$2 ... $3'";;
  *) echo "not ok $n - doctor: $1 is not '$2 ... $3'"; echo "# got: $got"; failed=1;; esac; }
lacks() { n=$((n + 1)); case "$LAST" in *"$1"*) echo "not ok $n - doctor mentions '$1'"; failed=1;; *) echo "ok $n - doctor never mentions '$1'";; esac; }

# 1. QEMU + mkfs, KVM boots: kvm ok, VMs can run, exit 0.
ln -s "$tmp/qemu" "$tmp/bin/qemu-system-x86_64"; ln -s "$tmp/true" "$tmp/bin/mkfs.ext4"
dir_name=boots
t "doctor: QEMU, mkfs, KVM boots" 0 doctor "$tmp/bin" boots
line kvm ok "usable: /dev/null boots a kernel under KVM"
line tun ok "/dev/net/tun"
line cgroup2 ok "mounted at /"
line qemu ok "$tmp/bin/qemu-system-x86_64"
line mkfs.ext4 ok "$tmp/bin/mkfs.ext4"
line firecracker warn "not found in PATH (the QEMU driver is used)"
contains "VMs can run on this host."
# (root-disks is the daemon's check: test-e2e-events runs doctor through one)
t "doctor again: the cached answer" 0 doctor "$tmp/bin" exits
line kvm ok "usable: /dev/null boots a kernel under KVM (cached answer)"

# 2. KVM opens but the guest cannot boot: warn, TCG, still runnable.
dir_name=exits
t "doctor: KVM cannot boot a kernel" 0 doctor "$tmp/bin" exits
line kvm warn "unusable: /dev/null opens, but QEMU exited with status 1 before a kernel booted under KVM"
contains "VMs can run on this host."
t "doctor --json: the same verdict" 0 doctor "$tmp/bin" exits --json
contains '"can_run_vms" : true'; contains '"name" : "kvm"'; contains '"status" : "warn"'

# 3. Firecracker only, and no usable KVM: no VMM can run: fail, exit 1.
rm "$tmp/bin/qemu-system-x86_64"; ln -s "$tmp/true" "$tmp/bin/firecracker"
dir_name=fc
t "doctor: Firecracker without a usable KVM" 1 doctor "$tmp/bin" boots
line kvm warn "untested: /dev/null opens, but there is no QEMU to probe it with"
line firecracker warn "unusable here: Firecracker needs a usable KVM"
line qemu fail "qemu-system-x86_64 not found in PATH"
contains "VMs cannot run on this host (see 'fail' lines)."
t "doctor --json: cannot run" 1 doctor "$tmp/bin" boots --json
contains '"can_run_vms" : false'

# 4. QEMU but no mkfs.ext4: a launch needs a work disk: fail, exit 1.
rm "$tmp/bin/firecracker" "$tmp/bin/mkfs.ext4"; ln -s "$tmp/qemu" "$tmp/bin/qemu-system-x86_64"
dir_name=nomkfs
t "doctor: no mkfs.ext4" 1 doctor "$tmp/bin" exits
line mkfs.ext4 fail "mkfs.ext4 not found in PATH (work disks cannot be made)"
contains "VMs cannot run on this host (see 'fail' lines)."

t "bangerd --version" 0 "$bangerd" --version; contains "bangerd 0.1.0"
t "bangerd --help" 0 "$bangerd" --help
t "bangerd bad option" 2 "$bangerd" --frob
t "bangerd-root --version" 0 "$root" --version; contains "bangerd-root 0.1.0"
t "bangerd-root --help" 0 "$root" --help
echo "1..$n"
exit $failed
