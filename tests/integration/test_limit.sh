#!/usr/bin/env bash
# test_limit.sh: volley limit runs a command in its own cgroups: a quarter of a core under
# --cpus 0.25, an OOM kill reported as such, exit status passed through, signals passed on once,
# the cgroups gone afterwards, and a clear exit 3 where the limits are not allowed.
set -u
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
cd "$T" || exit 1

NCPU=$(nproc)

# Run inside a limit: prints "dir PATH EXISTS" for each of its volley cgroups, then the limits
# they hold as "cpus N" (cores) and "memory BYTES", read from the v1 or v2 files.
cat >"$T/cg.py" <<'EOF'
import os
mounts = []
for line in open("/proc/self/mountinfo"):
    left, right = line.split(" - ", 1)
    f, (fs, _src, sopts) = left.split(), right.split()
    if fs in ("cgroup", "cgroup2"):
        mounts.append((fs, set(sopts.split(",")), f[3], f[4]))
dirs = []
for line in open("/proc/self/cgroup"):
    _hid, ctrls, path = line.rstrip("\n").split(":", 2)
    if "/volley-" not in path:
        continue
    for fs, opts, root, point in mounts:
        if (fs == "cgroup2" and ctrls == "") or (fs == "cgroup" and ctrls and
                                                 set(ctrls.split(",")) <= opts):
            rel = path[len(root):] if root != "/" and path.startswith(root) else path
            dirs.append(point + rel)
            break
def read(d, name):
    try:
        return open(os.path.join(d, name)).read().split()
    except OSError:
        return None
for d in dirs:
    print("dir %s %d" % (d, os.path.isdir(d)))
    v = read(d, "cpu.max")
    if v and v[0] != "max":
        print("cpus %g" % (int(v[0]) / int(v[1])))
    q, p = read(d, "cpu.cfs_quota_us"), read(d, "cpu.cfs_period_us")
    if q and p and int(q[0]) > 0:
        print("cpus %g" % (int(q[0]) / int(p[0])))
    for name in ("memory.max", "memory.limit_in_bytes"):
        v = read(d, name)
        if v and v[0] != "max" and int(v[0]) < 2**60:
            print("memory %s" % v[0])
EOF

# Busy for 3 s; prints the share of a core it used, from /proc/self/stat.
cat >"$T/busy.py" <<'EOF'
import os, time
def cpu_s():
    f = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
c0, t0 = cpu_s(), time.monotonic()
while time.monotonic() - t0 < 3:
    pass
print("%.3f" % ((cpu_s() - c0) / (time.monotonic() - t0)))
EOF

# The value after a word in the last run's stdout ("cpus 0.25" -> 0.25).
out_value() {
    awk -v k="$1" '$1 == k { print $2; exit }' "$V_OUT"
}

# True when pid runs (a zombie has ended: it only waits for its new parent to reap it).
running() {
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# vrun for a command that may end by SIGKILL (exit 137 passed through): only timeout's own exit
# 124 counts as a hang, and the command gets no -k (so a 137 is never the timeout's).
vrun_kill_ok() {
    local limit_s t0 t1
    limit_s=$(awk -v a="$1" -v t="$TOL" 'BEGIN { print a * t }')
    shift
    V_N=$((V_N + 1))
    V_OUT="$T/v$V_N.out"
    V_ERR="$T/v$V_N.err"
    V_CMD="volley $*"
    t0=$(date +%s.%N)
    timeout "$limit_s" "$VOLLEY" "$@" >"$V_OUT" 2>"$V_ERR" </dev/null
    V_RC=$?
    t1=$(date +%s.%N)
    V_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    if [ "$V_RC" -eq 124 ]; then
        fail_reason "volley did not finish within ${limit_s}s (stopped by timeout)"
    fi
    check_sanitizers "$V_ERR"
}

# Probe: may this machine (and this user) set limits at all?
vrun 20 limit --cpus 0.5 -- true
PROBE_RC=$V_RC
PROBE_ERR=$(head -n 1 "$V_ERR")
if [ "$PROBE_RC" -ne 0 ]; then
    skip_reason="this machine does not allow the limits (exit $PROBE_RC: $PROBE_ERR)"
fi

# Prints "skip NAME: reason" and returns 1 when the limits cannot be set here.
need_limits() {
    if [ "$PROBE_RC" -ne 0 ]; then
        echo "skip $1: $skip_reason"
        return 1
    fi
    return 0
}

# ---- usage errors (need no cgroups) -----------------------------------------------------------

# One usage error: exit 2, exactly one stderr line starting "volley: ", the command never run.
usage_error() {
    local name=$1
    shift
    case_begin "limit usage error exits 2: $name"
    vrun 10 limit "$@"
    expect_rc 2
    expect_eq "stderr lines" "$(wc -l <"$V_ERR" | tr -d ' ')" 1
    expect_match "stderr" "$(head -n 1 "$V_ERR")" '^volley: .+'
    expect_eq "the command ran" "$(cat "$T/ran" 2>/dev/null)" ""
    case_end
}

RAN="touch $T/ran"
usage_error "no command" --cpus 0.5
usage_error "no limit" -- sh -c "$RAN"
usage_error "--cpus 0" --cpus 0 -- sh -c "$RAN"
usage_error "--cpus abc" --cpus abc -- sh -c "$RAN"
usage_error "--memory 12Q" --memory 12Q -- sh -c "$RAN"
usage_error "unknown tier" --tier gold -- sh -c "$RAN"
usage_error "bad --tier-def" --tier-def basic=1 -- sh -c "$RAN"
usage_error "--cpuset letters" --cpuset abc -- sh -c "$RAN"
usage_error "unknown option" --bogus 1 -- sh -c "$RAN"

case_begin "limit --help prints the usage and exits 0"
vrun 5 limit --help
expect_rc 0
expect_file_has "usage names --cpus" "$V_OUT" '--cpus'
expect_file_has "usage names --memory" "$V_OUT" '--memory'
case_end

# ---- not allowed ------------------------------------------------------------------------------

# Unprivileged: one clear line and exit 3. As root, the run drops to nobody with setpriv.
case_begin "limit without privileges: one clear line, exit 3"
if [ "$(id -u)" -ne 0 ]; then
    vrun 10 limit --cpus 0.25 -- sh -c "$RAN"
elif command -v setpriv >/dev/null 2>&1; then
    VRUN_PREFIX=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    vrun 10 limit --cpus 0.25 -- sh -c "$RAN"
    VRUN_PREFIX=()
else
    V_RC=skip
fi
if [ "$V_RC" = skip ]; then
    echo "skip unprivileged run: running as root and setpriv is missing"
elif [ "$(id -u)" -ne 0 ] && [ "$PROBE_RC" -eq 0 ]; then
    echo "skip unprivileged run: this user is allowed the limits (delegated cgroup)"
else
    expect_rc 3
    expect_eq "stderr lines" "$(wc -l <"$V_ERR" | tr -d ' ')" 1
    expect_match "stderr" "$(head -n 1 "$V_ERR")" '^volley: .*(ermission|not permitted|root|cgroup)'
    expect_eq "the command ran" "$(cat "$T/ran" 2>/dev/null)" ""
    case_end
fi

# ---- under limits -----------------------------------------------------------------------------

if need_limits "--cpus 0.25 uses a quarter of a core"; then
    case_begin "--cpus 0.25: a busy loop uses about a quarter of a core (from /proc)"
    vrun 30 limit --cpus 0.25 -- python3 "$T/busy.py"
    expect_rc 0
    SHARE=$(head -n 1 "$V_OUT")
    expect_between "share of a core used in 3 s" "$SHARE" 0.1 0.45
    echo "     measured share of a core under --cpus 0.25: $SHARE"
    if [ "$NCPU" -ge 2 ]; then
        expect_eq "stderr (no warning for 0.25 of $NCPU CPUs)" "$(cat "$V_ERR")" ""
    fi
    case_end
fi

if need_limits "exit status"; then
    case_begin "the command's exit status passes through"
    vrun 10 limit --cpus 0.5 -- sh -c 'exit 7'
    expect_rc 7
    vrun 10 limit --memory 256M -- true
    expect_rc 0
    case_end

    case_begin "a command that does not exist: exit 127 and one line"
    vrun 10 limit --cpus 0.5 -- volley-no-such-command
    expect_rc 127
    expect_eq "stderr" "$(cat "$V_ERR")" \
        "volley: cannot run volley-no-such-command: No such file or directory"
    case_end
fi

if need_limits "cgroups removed"; then
    case_begin "--tier basic: 0.25 CPU and 1G in the cgroups, which are gone afterwards"
    vrun 20 limit --tier basic -- python3 "$T/cg.py"
    expect_rc 0
    expect_eq "cpus in the cgroup" "$(out_value cpus)" 0.25
    expect_eq "memory in the cgroup" "$(out_value memory)" $((1024 * 1024 * 1024))
    dirs=$(awk '$1 == "dir" { print $2 }' "$V_OUT")
    expect_ne "volley cgroups the command was in" "$dirs" ""
    expect_eq "cgroups that did not exist while it ran" \
        "$(awk '$1 == "dir" && $3 != 1 { print $2 }' "$V_OUT")" ""
    for d in $dirs; do
        [ ! -e "$d" ] || fail_reason "cgroup $d still exists after the command ended"
    done
    case_end

    case_begin "--tier-def and --memory override a tier"
    vrun 20 limit --tier-def basic=0.5:512M --tier basic --memory 300M -- python3 "$T/cg.py"
    expect_rc 0
    expect_eq "cpus in the cgroup" "$(out_value cpus)" 0.5
    expect_eq "memory in the cgroup" "$(out_value memory)" $((300 * 1024 * 1024))
    case_end

    case_begin "a process the command left behind is stopped and the cgroups removed"
    vrun 15 limit --cpus 0.5 -- sh -c "sleep 60 & echo \$! >$T/bg.pid; python3 $T/cg.py; exit 4"
    expect_rc 4
    expect_cmp "seconds until volley limit returned" "$V_SECS" "<" $((5 * TOL))
    bg=$(cat "$T/bg.pid" 2>/dev/null)
    expect_ne "pid of the background sleep" "$bg" ""
    if [ -n "$bg" ] && running "$bg"; then
        fail_reason "the background sleep (pid $bg) still runs"
        kill "$bg"
    fi
    for d in $(awk '$1 == "dir" { print $2 }' "$V_OUT"); do
        [ ! -e "$d" ] || fail_reason "cgroup $d still exists after the command ended"
    done
    case_end
fi

if need_limits "out of memory"; then
    case_begin "a memory hog under --memory 64M is reported as an OOM kill"
    vrun_kill_ok 30 limit --memory 64M -- python3 -c \
        'x = bytearray(300 * 1024 * 1024); print("survived")'
    expect_rc 137
    expect_file_lacks "stdout" "$V_OUT" 'survived'
    expect_eq "stderr" "$(cat "$V_ERR")" "volley: python3 was killed: out of memory under the 64M limit"
    case_end

    case_begin "an OOM kill inside a shell script is reported, the script's status passed"
    vrun 30 limit --memory 64M -- sh -c 'python3 -c "x = bytearray(300 << 20)"; exit 3'
    expect_rc 3
    expect_file_has "stderr" "$V_ERR" \
        '^volley: a process of sh was killed: out of memory under the 64M limit$'
    case_end

    case_begin "within its memory limit a command is not reported"
    vrun 30 limit --memory 256M -- python3 -c 'x = bytearray(32 * 1024 * 1024)'
    expect_rc 0
    expect_eq "stderr" "$(cat "$V_ERR")" ""
    case_end
fi

if need_limits "CPU warnings and pinning"; then
    case_begin "--cpus $NCPU on $NCPU CPUs warns that volley gets no core of its own"
    vrun 10 limit --cpus "$NCPU" -- true
    expect_rc 0
    expect_file_has "stderr" "$V_ERR" "^volley: warning: --cpus $NCPU .*volley"
    case_end

    if [ "$NCPU" -ge 2 ] && grep -qw cpuset /proc/self/cgroup; then
        case_begin "--cpuset 1 pins the command to CPU 1"
        vrun 10 limit --cpus 0.5 --cpuset 1 -- grep Cpus_allowed_list /proc/self/status
        expect_rc 0
        expect_match "allowed CPUs" "$(awk '{ print $2 }' "$V_OUT")" '^1$'
        case_end
    else
        echo "skip --cpuset: fewer than 2 CPUs or no cpuset controller"
    fi
fi

# ---- signals ----------------------------------------------------------------------------------

# The command logs each INT or TERM it gets to $T/sig.log and exits 5 half a second later.
TRAP_CMD="trap 'echo INT >>$T/sig.log; sleep 0.5; exit 5' INT
trap 'echo TERM >>$T/sig.log; sleep 0.5; exit 5' TERM
while :; do sleep 0.1; done"

if need_limits "signals"; then
    case_begin "kill -TERM to volley limit reaches the command once; its status passes through"
    : >"$T/sig.log"
    V_CMD="volley limit --cpus 0.5 -- sh -c '<trap TERM, exit 5>'   (then kill -TERM after 1s)"
    V_N=$((V_N + 1))
    V_OUT=$T/v$V_N.out
    V_ERR=$T/v$V_N.err
    "$VOLLEY" limit --cpus 0.5 -- sh -c "$TRAP_CMD" >"$V_OUT" 2>"$V_ERR" </dev/null &
    pid=$!
    sleep 1
    kill -TERM "$pid"
    for ((i = 0; i < 100 * TOL; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail_reason "volley limit still runs 5 s after SIGTERM; killed"
        kill -KILL "$pid"
    fi
    wait "$pid"
    V_RC=$?
    check_sanitizers "$V_ERR"
    expect_rc 5
    expect_eq "signals the command saw" "$(tr '\n' ' ' <"$T/sig.log")" "TERM "
    case_end

    # On a terminal, Ctrl-C goes to the whole foreground group: the command must not get it twice.
    case_begin "Ctrl-C on a terminal reaches the command once"
    : >"$T/sig.log"
    V_CMD="volley limit --cpus 0.5 -- sh -c '<trap INT, exit 5>'   (on a pty, ^C after 1s)"
    V_RC=$(timeout -k 3 $((20 * TOL)) python3 - "$VOLLEY" "$TRAP_CMD" <<'EOF'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "limit", "--cpus", "0.5", "--", "sh", "-c", sys.argv[2]])
time.sleep(1)
os.write(fd, b"\x03")
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
EOF
    )
    expect_eq "exit code" "$V_RC" 5
    expect_eq "signals the command saw" "$(tr '\n' ' ' <"$T/sig.log")" "INT "
    case_end
fi

tests_done
