#!/usr/bin/env bash
# A real, private CalDAV server for the integration tests: Radicale 3 (from
# PyPI, into the machine's python3), with everything under one directory.
#
#   tests/calendar/radicale.sh start    DIR                 start (installs Radicale if missing)
#   tests/calendar/radicale.sh add-user DIR USER PASSWORD   add or update a login, live
#   tests/calendar/radicale.sh stop     DIR                 stop the server (safe to repeat)
#   tests/calendar/radicale.sh status   DIR                 exit 0 if the server runs
#   tests/calendar/radicale.sh install                      install Radicale only
#
# `start` prints shell-style lines on stdout (and writes them to DIR/env):
#   CALDAV_PORT=...  CALDAV_URL=http://127.0.0.1:PORT/
# and returns once the server answers HTTP. Anything else goes to stderr and
# to DIR/radicale.log (the server's own log, kept across restarts).
#
# What the server does:
# - Listens only on 127.0.0.1, plain HTTP, on a free high port picked at each
#   start; several servers (different DIRs) can run at once. Nothing of the
#   system's is used: no /etc/radicale/config, no ~/.config (the server reads
#   only DIR/config).
# - Logins: htpasswd file DIR/users, plain-text passwords (USER:PASSWORD).
#   Radicale reads the file again on every request, so `add-user` works while
#   the server runs and takes effect at once (checked: a user added after
#   start got 207 on its very first request; after a password change the old
#   one got 401 and the new one 207 straight away). add-user also works before
#   the first start. User names are case-sensitive (SAM@... is not sam@...).
# - A wrong password is answered 401 at once (auth delay 0 instead of
#   Radicale's random 0.5..1.5 s; measured 7 ms), with no growing penalty.
# - Rights `owner_only`, as in a real deployment: a user reads and writes only
#   the principal /USER/ and collections directly under it (/USER/CAL/;
#   /USER/CAL/SUB/ is 403); anything of another user's is 403. Any logged-in
#   user may PROPFIND / (discovery: current-user-principal is /USER/).
#   Radicale creates /USER/ itself on the user's first authenticated request.
# - Storage: DIR/collections (multifilesystem), kept across restarts: `stop`
#   then `start` on the same DIR keeps every calendar and event.
#
# User names with `@` and `.` (alex@example.test) work, in the login and in
# the path, with the `@` as it is: /alex@example.test/calendar/ . `%40` in a
# request path works too (same collection). But Radicale's responses always
# percent-encode it: hrefs are /alex%40example.test/calendar/abc.ics, and so
# is current-user-principal; percent-decode hrefs before comparing them.
# add-user accepts [A-Za-z0-9._+-] with at most one `@`, not first or last
# (Radicale refuses `:`, quotes, `*`, `?`, `,` and a second `@` in a login).
# Passwords: anything but empty or with a newline (`:` and spaces are fine).
#
# What was seen with curl (Radicale 3.9.0, CPython 3.11.7), for the driver:
# - MKCALENDAR /riley.quinn@example.test/calendar/ (own)  201, empty body;
#   the same again                    409 Conflict, body
#     <error xmlns="DAV:"><resource-must-be-null /></error>   (not 405).
# - PUT .../calendar/abc.ics, text/calendar (one VEVENT: UID, DTSTART/DTEND
#   in UTC Z form, SUMMARY, ORGANIZER, ATTENDEE, PRIORITY, SEQUENCE, STATUS):
#   new                               201 with ETag: "<sha256 hex>";
#   again, changed                    204 with the new ETag;
#   again, unchanged                  204 with the same ETag;
#   If-None-Match: * on an existing   412; a body that is not iCalendar 400.
#   Radicale stores and returns the event re-serialised: same properties and
#   values, but its own property order, CRLF line ends, long lines folded at
#   75 octets (ATTENDEE ... mailt\r\n o:alex@...). Do not compare bytes.
# - REPORT calendar-query, Depth: 1, time-range 20261201T000000Z..
#   20261231T000000Z (event on 2026-12-15)   207 with the event;
#   a range that excludes it                  207, empty multistatus.
#   Radicale's own prefixes (default DAV:, C: for CalDAV), on one line:
#     <?xml version='1.0' encoding='utf-8'?>
#     <multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
#      <response><href>/riley.quinn%40example.test/calendar/abc.ics</href>
#       <propstat><prop><getetag>"<sha256 hex>"</getetag>
#        <C:calendar-data>BEGIN:VCALENDAR\r\n...END:VCALENDAR\r\n</C:calendar-data>
#       </prop><status>HTTP/1.1 200 OK</status></propstat></response>
#     </multistatus>
#   (CRLF inside calendar-data is sent as is; an XML parser may hand it
#   over as LF, which XML 1.0 asks for: the iCalendar parser must take both.)
#   Nothing in range: <multistatus xmlns="DAV:" />  (no C: declared).
# - A collection that does not exist yet (under one's own /USER/):
#   REPORT or PROPFIND on it          404; PUT of an item into it   409
#   (MKCALENDAR it first).
# - Wrong password, unknown user, no credentials     401, with
#   WWW-Authenticate: Basic realm="Radicale - Password Required".
#   Another user's calendar (alex on riley's): GET, PROPFIND, REPORT, PUT,
#   MKCALENDAR, DELETE                                403, at once.
# - DELETE .../abc.ics               200 with a small multistatus body
#   (<response><href>...abc.ics</href><status>HTTP/1.1 200 OK</status>);
#   again                            404.
# - stop; status exits 1; stop again exits 0; start on the same DIR (a new
#   port) serves the same calendar and event.
# - Time for `start` to return (server answering), 2 CPUs: 0.37..0.70 s the
#   first time after installing, 0.33..0.80 s warm, depending on the load
#   (~0.2 s is `python3 -c "import radicale"` through the pyenv shim, ~0.37 s
#   Radicale's own start-up); ~0.02 s when it already runs (env printed
#   again). `install` with Radicale present: 0.15..0.3 s; from pip's cache:
#   1.4..2.5 s. `stop`: 0.08 s.
#
# Layout:
#   DIR/env            the env lines printed by start (removed by stop)
#   DIR/config         Radicale's config (rewritten at each start)
#   DIR/users          logins, USER:PASSWORD (mode 600)
#   DIR/collections/   the calendars
#   DIR/radicale.log   Radicale's log (stdout and stderr), appended
#   DIR/radicale.pid   the server's pid; it is a session leader (setsid), so
#                      `stop` works after the test process that started it died
#   DIR/.lock          serialises start/stop/add-user on one DIR
#
# Needs bash, coreutils, util-linux (flock, setsid) and python3 with pip (the
# one first on PATH; with pyenv, whatever its shim picks in the current
# directory). Root is not needed.
set -euo pipefail

RADICALE_REQ='radicale>=3.2,<4'
PYTHON=python3

die() { echo "calendar/radicale.sh: $*" >&2; exit 1; }
log() { echo "calendar/radicale.sh: $*" >&2; }

# ---------------------------------------------------------------- install --

# The interpreter that has Radicale 3 (its sys.executable), or nothing.
radicale_python() {
    "$PYTHON" -c 'import sys, radicale
if not str(radicale.VERSION).startswith("3."): sys.exit(1)
print(sys.executable)' 2>/dev/null || true
}

# Install Radicale into python3 with pip if missing. Prints the interpreter.
ensure_radicale() {
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found"
    local py
    py=$(radicale_python)
    if [[ -z $py ]]; then
        local lock=${TMPDIR:-/tmp}/empla-radicale-install.lock
        (
            # Serialise concurrent installs (several tests starting servers at once).
            flock 9
            [[ -n $(radicale_python) ]] && exit 0
            log "installing $RADICALE_REQ (pip)"
            PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
                "$PYTHON" -m pip install -q "$RADICALE_REQ" >&2
        ) 9>"$lock" || die "pip install $RADICALE_REQ failed"
        py=$(radicale_python)
        [[ -n $py ]] || die "Radicale 3 installed but '$PYTHON -c \"import radicale\"' fails"
    fi
    echo "$py"
}

# ------------------------------------------------------------------ helpers --

# TCP ports something listens on now (IPv4 and IPv6), one per line.
listening_ports() {
    local f local_addr rest state port
    for f in /proc/net/tcp /proc/net/tcp6; do
        [[ -r $f ]] || continue
        # "sl local_address rem_address st ...": state 0A is LISTEN.
        while read -r _ local_addr rest; do
            state=${rest#* }; state=${state%% *}
            [[ $state == 0A ]] || continue
            port=${local_addr##*:}
            echo $((16#$port))
        done < <(tail -n +2 "$f")
    done
}

# A port in 20000..31999 (below the kernel's ephemeral range) that nothing
# listens on. (Radicale binds without SO_REUSEPORT: if another process takes
# the port first, Radicale exits and cmd_start retries with another port.)
pick_port() {
    local busy p
    busy=" $(listening_ports | tr '\n' ' ') "
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        [[ $busy == *" $p "* ]] || { echo "$p"; return; }
    done
    die "no free port found"
}

# True if process $1 exists and is not a zombie.
proc_running() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    # "PID (COMM) STATE ...".
    [[ ${stat##*) } != Z* ]]
}

# True if DIR/radicale.pid names a live (not zombie) Radicale of this DIR.
pid_alive() {
    local pid
    [[ -s $PID_FILE ]] || return 1
    pid=$(head -n 1 "$PID_FILE" 2>/dev/null)
    [[ $pid =~ ^[0-9]+$ ]] && proc_running "$pid" || return 1
    # Its command line names our config (a recycled pid would not).
    tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$CONF"
}

# True if process $1 owns the socket listening on 127.0.0.1:$2.
owns_port() {
    local pid=$1 hex inode fd
    hex=$(printf '0100007F:%04X' "$2")
    inode=$(awk -v a="$hex" '$2 == a && $4 == "0A" {print $10; exit}' /proc/net/tcp)
    [[ -n $inode ]] || return 1
    for fd in /proc/"$pid"/fd/*; do
        [[ $(readlink "$fd" 2>/dev/null) == "socket:[$inode]" ]] && return 0
    done
    return 1
}

# True if 127.0.0.1:$1 answers an HTTP request (any status).
answers_http() {
    # shellcheck disable=SC2016  # $1 is the inner shell's argument
    timeout 2 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "OPTIONS / HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n" "$1" >&3
        IFS= read -r line <&3 || exit 1
        [[ $line == HTTP/1.?" "[0-9][0-9][0-9]* ]]
    ' _ "$1" 2>/dev/null
}

# -------------------------------------------------------------- the config --

# D = absolute path of DIR $1 (created if needed), and the paths in it. (Not
# via $(...): a `die` there would only end the subshell and leave D empty.)
set_paths() {
    [[ -n ${1:-} ]] || die "missing DIR"
    mkdir -p -- "$1" || die "cannot create $1"
    D=$(cd -- "$1" && pwd -P) || die "cannot enter $1"
    [[ $D != / ]] || die "DIR must not be /"
    CONF=$D/config
    USERS=$D/users
    PID_FILE=$D/radicale.pid
    LOG=$D/radicale.log
}

write_config() {
    local port=$1
    cat > "$CONF" <<EOF
# Generated by tests/calendar/radicale.sh: a private Radicale for the tests.
[server]
hosts = 127.0.0.1:$port
max_connections = 32

[auth]
type = htpasswd
htpasswd_filename = $USERS
htpasswd_encryption = plain
# Refuse a wrong password at once (tests do it on purpose).
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = $D/collections

[web]
type = none

[logging]
level = info
EOF
}

# ---------------------------------------------------------------- commands --

cmd_start() {
    set_paths "${1:-}"
    exec 9>"$D/.lock"
    flock 9

    # Already running from this DIR: print its env again.
    if pid_alive && [[ -s $D/env ]]; then
        cat "$D/env"; return
    fi
    stop_server
    local py
    py=$(ensure_radicale 9>&-)

    mkdir -p "$D/collections"
    [[ -e $USERS ]] || { : > "$USERS"; chmod 600 "$USERS"; }

    local try port pid
    for try in 1 2 3 4 5; do
        port=$(pick_port)
        write_config "$port"
        echo "== $(date '+%Y-%m-%d %H:%M:%S') start on 127.0.0.1:$port" >> "$LOG"
        # Its own session (setsid; no job control here, so setsid does not
        # fork and $! is Radicale's pid): no SIGHUP from the caller's
        # terminal, and stop can signal the whole group. The lock fd stays here.
        ( exec setsid nohup "$py" -m radicale --config "$CONF" \
              </dev/null >>"$LOG" 2>&1 9>&- ) &
        pid=$!
        echo "$pid" > "$PID_FILE"
        # Ready once our process holds the port (not something that took it
        # first) and answers there.
        for _ in $(seq 400); do       # up to 20 s
            proc_running "$pid" || break
            owns_port "$pid" "$port" && answers_http "$port" && break
            sleep 0.05
        done
        if pid_alive && owns_port "$pid" "$port" && answers_http "$port"; then
            { echo "CALDAV_PORT=$port"; echo "CALDAV_URL=http://127.0.0.1:$port/"; } > "$D/env"
            cat "$D/env"
            return 0
        fi
        if pid_alive; then
            log "radicale did not answer on port $port (try $try), see $LOG"
        else
            log "radicale exited (try $try; port $port taken?), see $LOG"
        fi
        stop_server
    done
    [[ -s $LOG ]] && { echo "== $LOG (end)"; tail -n 20 "$LOG"; } >&2
    die "could not start radicale in $D"
}

# TERM to the server's process group; wait up to 5 s, then KILL it.
stop_server() {
    local pid
    if pid_alive; then
        pid=$(head -n 1 "$PID_FILE")
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do
            pid_alive || break
            sleep 0.05
        done
        if pid_alive; then
            log "radicale ($pid) did not stop; killing it"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            for _ in $(seq 40); do pid_alive || break; sleep 0.05; done
        fi
    fi
    rm -f "$PID_FILE"
}

cmd_stop() {
    set_paths "${1:-}"
    exec 9>"$D/.lock"
    flock 9
    stop_server
    rm -f "$D/env"
}

cmd_status() {
    set_paths "${1:-}"
    pid_alive
}

cmd_add_user() {
    set_paths "${1:-}"
    local user=${2:-} pass=${3:-}
    [[ $user =~ ^[A-Za-z0-9._+-]+(@[A-Za-z0-9._+-]+)?$ && $user != . && $user != .. ]] \
        || die "user must be [A-Za-z0-9._+-] with at most one '@', not first or last: '$user'"
    [[ -n $pass && $pass != *$'\n'* ]] || die "password must be non-empty, without newline"
    exec 9>"$D/.lock"
    flock 9
    # Rewrite DIR/users without the user's old line, then rename it into
    # place: Radicale reads the file on every request and sees either the
    # old or the new one, never half of it.
    local new=$D/.users.new line
    : > "$new"; chmod 600 "$new"
    if [[ -e $USERS ]]; then
        while IFS= read -r line || [[ -n $line ]]; do
            [[ $line == "$user:"* ]] || printf '%s\n' "$line" >> "$new"
        done < "$USERS"
    fi
    printf '%s:%s\n' "$user" "$pass" >> "$new"
    mv -f "$new" "$USERS"
}

case ${1:-} in
    start)    cmd_start "${2:-}" ;;
    stop)     cmd_stop "${2:-}" ;;
    status)   cmd_status "${2:-}" ;;
    add-user) cmd_add_user "${2:-}" "${3:-}" "${4:-}" ;;
    install)  ensure_radicale >/dev/null ;;
    *) echo "usage: $0 start|stop|status DIR | add-user DIR USER PASSWORD | install" >&2; exit 2 ;;
esac
