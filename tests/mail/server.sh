#!/usr/bin/env bash
# A real, private mail server for the integration tests: Postfix (SMTP) and
# Dovecot (IMAP), from Debian's packages, with everything under one directory.
#
#   tests/mail/server.sh start    DIR                    start (installs packages if missing)
#   tests/mail/server.sh add-user DIR ADDRESS PASSWORD   add or update an account, live
#   tests/mail/server.sh stop     DIR                    stop both daemons (safe to repeat)
#   tests/mail/server.sh status   DIR                    exit 0 if both daemons run
#   tests/mail/server.sh install                         install the packages only
#
# `start` prints shell-style lines on stdout (and writes them to DIR/env):
#   SMTP_PORT=...  IMAP_PORT=...  MAIL_HOST=127.0.0.1  MAIL_DOMAIN=example.test
#   MAIL_OTHER_DOMAIN=customer.test  MAIL_CA_CERT=DIR/cert.pem
# and returns once both ports answer with their greeting. Anything else goes to
# stderr and to logs in DIR (postfix.log, dovecot.log, start.log).
#
# What the server does:
# - Listens only on 127.0.0.1, on free high ports picked at each start; several
#   servers (different DIRs) can run at once, and none of them touches the
#   system's own Postfix or Dovecot (ports 25/143, /etc, /var/spool).
# - Mail domains example.test (the company's) and customer.test (the world
#   outside it, for mail from customers). Every account is a mailbox; Postfix hands mail to
#   Dovecot over LMTP (a unix socket in DIR), Dovecot stores it as Maildir under
#   DIR/mail/DOMAIN/LOCALPART/Maildir, owned by the system user `mail`.
# - An address of either domain without an account is rejected at RCPT time:
#   "550 5.1.1 <x@example.test>: Recipient address rejected: User unknown in
#   virtual mailbox table", so the sender learns at once (nothing bounces).
# - Any other domain is rejected at RCPT time too: "554 5.7.1 <x@other.org>:
#   Relay access denied" — nothing ever leaves the machine.
# - SMTP: one port, AUTH PLAIN/LOGIN (Dovecot checks the passwords) allowed
#   without TLS, STARTTLS offered. Clients on 127.0.0.1 may also send without
#   AUTH. IMAP: LOGIN/AUTHENTICATE allowed without TLS, STARTTLS offered, IDLE.
#   The user name is always the full address.
# - TLS: DIR/cert.pem is a self-signed root (CA) made for this DIR; the server
#   certificate it signs has CN localhost, SAN DNS:localhost and IP:127.0.0.1.
#   Trust DIR/cert.pem as the only root to test TLS (works with rustls/webpki,
#   which refuses a CA certificate used directly as the server certificate).
# - Message size limit 50 MiB (SMTP SIZE advertises 52428800).
# - Accounts: add-user works while the server runs and the account is usable
#   at once for SMTP AUTH, RCPT and IMAP. Changing an existing account's
#   password makes add-user take up to ~1 s (Dovecot notices a changed
#   passwd-file at most once a second; add-user waits that out).
# - A wrong password is answered within 0.5 s (Dovecot flushes failures on a
#   500 ms timer), with no growing per-IP penalty.
# - Pid files: DIR/postfix-spool/pid/master.pid, DIR/dovecot/run/master.pid;
#   `stop` uses them, so it works after the test process that started the
#   server was killed. `start` on a DIR whose server runs prints its env again.
#
# Runs as root (Debian 12), with or without systemd; needs bash, coreutils,
# util-linux (flock, runuser) and apt-get for the first install.
set -euo pipefail

DOMAIN=example.test
OTHER_DOMAIN=customer.test
MAIL_USER=mail                 # system user owning the mailboxes (exists on every Debian)
SIZE_LIMIT=52428800            # 50 MiB
PKGS=(postfix dovecot-imapd dovecot-lmtpd openssl)

die() { echo "mail/server.sh: $*" >&2; exit 1; }
log() { echo "mail/server.sh: $*" >&2; }

[[ $(id -u) == 0 ]] || die "must run as root"

# ---------------------------------------------------------------- packages --

# Install Postfix, Dovecot and openssl if missing. A policy-rc.d that forbids
# starting services is put in place for the install (only if none exists), so
# the packages' own daemons are not started on ports 25/143. They would not
# disturb us anyway: we use our own config, ports, queue and socket dirs.
ensure_packages() {
    if [[ -x /usr/sbin/postfix && -x /usr/sbin/dovecot && -x /usr/lib/dovecot/imap \
          && -x /usr/lib/dovecot/lmtp && -x /usr/bin/openssl ]]; then
        return
    fi
    (
        # Serialise concurrent installs (several tests starting servers at once).
        flock 9
        if [[ -x /usr/sbin/postfix && -x /usr/sbin/dovecot && -x /usr/lib/dovecot/imap \
              && -x /usr/lib/dovecot/lmtp && -x /usr/bin/openssl ]]; then
            exit 0
        fi
        log "installing ${PKGS[*]} (apt-get)"
        local policy=/usr/sbin/policy-rc.d made_policy=
        if [[ ! -e $policy ]]; then
            printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; made_policy=1
        fi
        export DEBIAN_FRONTEND=noninteractive
        local apt=(apt-get -y -q -o Dpkg::Use-Pty=0 install --no-install-recommends "${PKGS[@]}")
        local rc=0
        if ! "${apt[@]}" >&2; then
            apt-get -q update >&2 && "${apt[@]}" >&2 || rc=$?
        fi
        [[ -n $made_policy ]] && rm -f "$policy"
        exit $rc
    ) 9>/var/lock/empla-mail-server-install.lock || die "package install failed"
}

# ------------------------------------------------------------------ helpers --

# Absolute path of DIR (created if needed).
resolve_dir() {
    [[ -n ${1:-} ]] || die "missing DIR"
    mkdir -p "$1"
    (cd "$1" && pwd -P)
}

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
# listens on and that is not in $*. (cmd_start serialises concurrent starts
# and checks the port again once the daemons listen.)
pick_port() {
    local busy p
    busy=" $(listening_ports | tr '\n' ' ') $* "
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        [[ $busy == *" $p "* ]] || { echo "$p"; return; }
    done
    die "no free port found"
}

# Sleep until the wall clock enters the next second.
sleep_to_next_second() {
    local t=$EPOCHREALTIME
    sleep "0.$(printf '%06d' $((1000000 - 10#${t#*.})))"
}

# True if pid file $1 names a live (not zombie) process whose command is $2.
pid_alive() {
    local pid
    [[ -s $1 ]] || return 1
    pid=$(awk '{print $1; exit}' "$1" 2>/dev/null)
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    local stat
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    # "PID (COMM) STATE ...": right command, and not a zombie.
    [[ $stat == "$pid ($2) "* && $stat != "$pid ($2) Z"* ]]
}

# Stop the daemons whose pid files and command names are given as pairs
# (FILE COMM ...): TERM to each one's whole process group (both masters are
# process group leaders), all at once; wait up to 5 s, then KILL the groups.
stop_pids() {
    local args=("$@") i pid left
    for ((i = 0; i < ${#args[@]}; i += 2)); do
        pid_alive "${args[i]}" "${args[i+1]}" || continue
        pid=$(awk '{print $1; exit}' "${args[i]}" 2>/dev/null) || continue
        # The whole group: Dovecot's master alone waits ~1 s for its children.
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    for _ in $(seq 100); do
        left=
        for ((i = 0; i < ${#args[@]}; i += 2)); do
            pid_alive "${args[i]}" "${args[i+1]}" && left=1
        done
        [[ -z $left ]] && return 0
        sleep 0.05
    done
    for ((i = 0; i < ${#args[@]}; i += 2)); do
        pid_alive "${args[i]}" "${args[i+1]}" || continue
        pid=$(awk '{print $1; exit}' "${args[i]}" 2>/dev/null) || continue
        log "${args[i+1]} ($pid) did not stop; killing it"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    done
}

# Wait (up to 10 s) until 127.0.0.1:$1 answers with a greeting starting with $2.
wait_greeting() {
    local port=$1 want=$2 line
    for _ in $(seq 200); do
        # shellcheck disable=SC2016  # $1 is the inner shell's argument
        if line=$(timeout 1 bash -c '
                exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
                IFS= read -r line <&3 || exit 1
                printf "%s" "$line"
                case "$line" in 220*) printf "QUIT\r\n" >&3 ;; "* OK"*) printf "a LOGOUT\r\n" >&3 ;; esac
            ' _ "$port" 2>/dev/null) && [[ $line == "$want"* ]]; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# -------------------------------------------------------------- the layout --
#
# DIR/env                      the env lines printed by start
# DIR/cert.pem                 self-signed root (CA) to trust for TLS
# DIR/users/ADDRESS            one account: a Dovecot passwd-file line (ADDRESS:{PLAIN}PASSWORD)
# DIR/mail/DOMAIN/LOCAL/       mailbox homes (owner: mail), Maildir inside
# DIR/postfix.log, dovecot.log logs; start.log: output of the start commands
# DIR/tls/                     CA key, server key and certificate chain
# DIR/postfix/                 Postfix main.cf, master.cf, vmailbox(.db)
# DIR/postfix-spool/           Postfix queue (pid/master.pid is its pid file)
# DIR/postfix-data/            Postfix data_directory
# DIR/dovecot/dovecot.conf     Dovecot config
# DIR/dovecot/run/             Dovecot base_dir (master.pid, lmtp and auth sockets)
# DIR/dovecot/state/           Dovecot state_dir

set_paths() {
    D=$1
    PF_CONF=$D/postfix
    PF_SPOOL=$D/postfix-spool
    PF_DATA=$D/postfix-data
    PF_PID=$PF_SPOOL/pid/master.pid
    DC_DIR=$D/dovecot
    DC_CONF=$DC_DIR/dovecot.conf
    DC_RUN=$DC_DIR/run
    DC_PID=$DC_RUN/master.pid
    USERS=$D/users
}

# A CA and a server certificate for localhost/127.0.0.1, made once per DIR
# (kept across restarts so a client's trust stays valid). EC P-256: instant.
make_certs() {
    [[ -s $D/cert.pem && -s $D/tls/server-chain.pem && -s $D/tls/server.key ]] && return
    mkdir -p "$D/tls"; chmod 700 "$D/tls"
    local t=$D/tls
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$t/ca.key" -out "$t/ca.pem" -days 3650 -subj "/CN=empla test mail CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>"$D/start.log"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$t/server.key" -out "$t/server.csr" -subj "/CN=localhost" 2>>"$D/start.log"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" \
        "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        "authorityKeyIdentifier=keyid" "subjectKeyIdentifier=hash" > "$t/server.ext"
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
        -days 3650 -extfile "$t/server.ext" -out "$t/server.pem" 2>>"$D/start.log"
    cat "$t/server.pem" "$t/ca.pem" > "$t/server-chain.pem"
    cp "$t/ca.pem" "$D/cert.pem"; chmod 644 "$D/cert.pem"
}

# Postfix's table of valid recipients (virtual_mailbox_maps), rebuilt from
# DIR/users/. Built under a new name and renamed over the old .db: running smtpd
# processes notice the replaced file and restart before their next connection,
# so a new account is accepted at RCPT time with no reload.
write_vmailbox() {
    local tmp=$PF_CONF/vmailbox.new
    : > "$tmp"
    local f
    for f in "$USERS"/*@*; do
        [[ -e $f ]] && printf '%s\tOK\n' "${f##*/}" >> "$tmp"
    done
    postmap -c "$PF_CONF" "hash:$tmp"
    mv -f "$tmp.db" "$PF_CONF/vmailbox.db"
    mv -f "$tmp" "$PF_CONF/vmailbox"
}

# Dovecot config: IMAP on $1, LMTP and auth (for Postfix's SASL) on unix sockets.
write_dovecot_conf() {
    local imap_port=$1 dh=
    [[ -s /usr/share/dovecot/dh.pem ]] && dh="ssl_dh = </usr/share/dovecot/dh.pem"
    cat > "$DC_CONF" <<EOF
# Generated by tests/mail/server.sh: a private Dovecot for the tests.
protocols = imap lmtp
listen = 127.0.0.1
base_dir = $DC_RUN
state_dir = $DC_DIR/state
instance_name = dovecot-test-$imap_port
log_path = $D/dovecot.log
info_log_path = $D/dovecot.log
log_timestamp = "%Y-%m-%d %H:%M:%S "

# TLS offered (STARTTLS), never required: plaintext login is fine on loopback.
ssl = yes
ssl_cert = <$D/tls/server-chain.pem
ssl_key = <$D/tls/server.key
$dh
disable_plaintext_auth = no
auth_mechanisms = plain login
# No 2 s pause before refusing a wrong password (refusals still go out on
# a 500 ms timer).
auth_failure_delay = 0

# Accounts: one passwd-file per address, DIR/users/ADDRESS; the user name is
# the full address (lower-cased). One file per account, not one shared file:
# Dovecot checks a passwd-file for changes at most once a second, so a shared
# file rewritten in the same second as a lookup would hide a new account for
# a while; a file Dovecot has not seen yet (new account) is read at once.
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $USERS/%Lu
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $USERS/%Lu
  default_fields = uid=$MAIL_USER gid=$MAIL_USER home=$D/mail/%Ld/%Ln
}
mail_location = maildir:~/Maildir
first_valid_uid = $(id -u $MAIL_USER)
last_valid_uid = $(id -u $MAIL_USER)
first_valid_gid = $(id -g $MAIL_USER)
mail_max_userip_connections = 100

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
}
# Postfix delivers here (virtual_transport = lmtp:unix:...).
service lmtp {
  unix_listener lmtp-postfix {
    mode = 0600
    user = postfix
    group = postfix
  }
}
# Postfix asks Dovecot to check SMTP AUTH passwords here.
service auth {
  unix_listener auth-postfix {
    mode = 0600
    user = postfix
    group = postfix
  }
}
# No growing pause after failed logins from an IP (Dovecot's "auth penalty",
# 2..15 s): tests log in with wrong passwords on purpose, all from 127.0.0.1.
# The usual recipe: make the penalty socket unusable.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
protocol lmtp {
  postmaster_address = postmaster@$DOMAIN
}
EOF
}

# Postfix config: smtpd on 127.0.0.1:$1, virtual mailboxes for $DOMAIN via LMTP.
write_postfix_conf() {
    local smtp_port=$1
    cat > "$PF_CONF/main.cf" <<EOF
# Generated by tests/mail/server.sh: a private Postfix for the tests.
compatibility_level = 3.6
queue_directory = $PF_SPOOL
data_directory = $PF_DATA
mail_owner = postfix
setgid_group = postdrop
maillog_file = $D/postfix.log
maillog_file_prefixes = $D

myhostname = mail.$DOMAIN
mydomain = $DOMAIN
myorigin = $DOMAIN
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
smtpd_peername_lookup = no
smtp_dns_support_level = disabled

# Every $DOMAIN or $OTHER_DOMAIN address with an account (vmailbox, made from
# DIR/users/) is a mailbox in Dovecot; other addresses there are rejected at RCPT time.
virtual_mailbox_domains = $DOMAIN $OTHER_DOMAIN
virtual_mailbox_maps = hash:$PF_CONF/vmailbox
virtual_transport = lmtp:unix:$DC_RUN/lmtp-postfix
# Nothing leaves the machine: other domains are refused at RCPT time
# ("Relay access denied"), whoever the client is; and should anything
# still be queued for elsewhere, it bounces instead of being sent.
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
default_transport = error:this test server delivers only to $DOMAIN and $OTHER_DOMAIN
relay_transport = error:this test server delivers only to $DOMAIN and $OTHER_DOMAIN

# SMTP AUTH checked by Dovecot, allowed without TLS; STARTTLS offered.
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DC_RUN/auth-postfix
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = may
smtpd_tls_auth_only = no
smtpd_tls_chain_files = $D/tls/server.key, $D/tls/server-chain.pem
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =

# Big messages (tests send 20 MB attachments).
message_size_limit = $SIZE_LIMIT
mailbox_size_limit = 0
virtual_mailbox_limit = 0

# Fast for tests: no pauses after errors, quick retries if LMTP hiccups.
smtpd_error_sleep_time = 0
in_flow_delay = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
EOF
    # Postfix waits (up to ~2 s) before using a main.cf modified in the last
    # second or two, in case an editor is still writing it; backdate ours.
    touch -d '-1 minute' "$PF_CONF/main.cf"
    # No chroot (paths are absolute and under DIR).
    cat > "$PF_CONF/master.cf" <<EOF
# service  type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$smtp_port inet n -    n       -       -       smtpd
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
lmtp       unix  -       -       n       -       -       lmtp
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
EOF
    touch -d '-1 minute' "$PF_CONF/master.cf"
}

# ---------------------------------------------------------------- commands --

cmd_start() {
    set_paths "$(resolve_dir "${1:-}")"
    # Unix socket paths are limited to 108 bytes.
    (( ${#D} <= 60 )) || die "DIR path too long for unix sockets (max 60 chars): $D"
    ensure_packages

    # Already running from this DIR: print its env again.
    if pid_alive "$PF_PID" master && pid_alive "$DC_PID" dovecot && [[ -s $D/env ]]; then
        cat "$D/env"; return
    fi
    cmd_stop "$D" 2>/dev/null || true

    mkdir -p "$PF_CONF" "$PF_SPOOL" "$PF_DATA" "$DC_DIR/state" "$DC_RUN" "$D/mail"
    # The mail user must reach DIR/mail (DIR may be a 0700 temp dir).
    chmod 755 "$D"
    chown "$MAIL_USER:$MAIL_USER" "$D/mail"
    chown postfix:postfix "$PF_DATA"; chmod 700 "$PF_DATA"
    runuser -u "$MAIL_USER" -- test -w "$D/mail" \
        || die "user $MAIL_USER cannot write $D/mail (a parent directory not searchable?)"
    # Read by Dovecot's auth process, which runs as user dovecot.
    mkdir -p "$USERS"; chown root:dovecot "$USERS"; chmod 750 "$USERS"
    : > "$D/start.log"
    make_certs

    # Port choice and start-up are serialised between concurrent starts (lock
    # on fd 8, not passed on to the daemons): Postfix's master binds with
    # SO_REUSEPORT, so two Postfixes on one port would both start and share
    # the connections. A port found taken afterwards (by something else) makes
    # us retry with new ports.
    exec 8>/var/lock/empla-mail-server-ports.lock
    flock 8
    local try smtp_port imap_port
    for try in 1 2 3 4 5; do
        smtp_port=$(pick_port)
        imap_port=$(pick_port "$smtp_port")
        write_dovecot_conf "$imap_port"
        write_postfix_conf "$smtp_port"
        write_vmailbox
        # Dovecot first, so the LMTP and auth sockets exist when Postfix starts.
        if ! /usr/sbin/dovecot -c "$DC_CONF" >>"$D/start.log" 2>&1 8>&-; then
            log "dovecot failed to start (try $try), see $D/start.log and $D/dovecot.log"
            cmd_stop "$D"
            continue
        fi
        if ! postfix -c "$PF_CONF" start >>"$D/start.log" 2>&1 8>&-; then
            log "postfix failed to start (try $try), see $D/start.log and $D/postfix.log"
            cmd_stop "$D"
            continue
        fi
        if [[ $(listening_ports | grep -cx "$smtp_port") != 1 \
              || $(listening_ports | grep -cx "$imap_port") != 1 ]]; then
            log "port $smtp_port or $imap_port is shared with another listener (try $try)"
            cmd_stop "$D"
            continue
        fi
        if wait_greeting "$smtp_port" 220 && wait_greeting "$imap_port" "* OK"; then
            exec 8>&-
            {
                echo "SMTP_PORT=$smtp_port"
                echo "IMAP_PORT=$imap_port"
                echo "MAIL_HOST=127.0.0.1"
                echo "MAIL_DOMAIN=$DOMAIN"
                echo "MAIL_OTHER_DOMAIN=$OTHER_DOMAIN"
                echo "MAIL_CA_CERT=$D/cert.pem"
            } > "$D/env"
            cat "$D/env"
            return 0
        fi
        log "ports did not answer (try $try)"
        cmd_stop "$D"
    done
    exec 8>&-
    local f
    for f in start.log dovecot.log postfix.log; do
        [[ -s $D/$f ]] && { echo "== $D/$f (end)"; tail -n 20 "$D/$f"; } >&2
    done
    die "could not start the mail server in $D"
}

cmd_stop() {
    set_paths "$(resolve_dir "${1:-}")"
    stop_pids "$PF_PID" master "$DC_PID" dovecot
    # Stale pid files (a killed master, maybe still a zombie) would make
    # Dovecot refuse to start ("already running").
    pid_alive "$PF_PID" master || rm -f "$PF_PID"
    pid_alive "$DC_PID" dovecot || rm -f "$DC_PID"
}

cmd_status() {
    set_paths "$(resolve_dir "${1:-}")"
    pid_alive "$PF_PID" master && pid_alive "$DC_PID" dovecot
}

cmd_add_user() {
    set_paths "$(resolve_dir "${1:-}")"
    local addr=${2:-} pass=${3:-}
    addr=${addr,,}
    [[ $addr =~ ^[a-z0-9._+-]+@(${DOMAIN//./\\.}|${OTHER_DOMAIN//./\\.})$ ]] \
        || die "address must be LOCAL@$DOMAIN or LOCAL@$OTHER_DOMAIN: $addr"
    [[ -n $pass && $pass != *[:$'\n']* ]] || die "password must be non-empty, without ':' or newline"
    [[ -d $PF_CONF ]] || die "$D has no server (run start first)"
    (
        flock 9
        local file=$USERS/$addr new=$USERS/.new old_mtime=
        [[ -e $file ]] && old_mtime=$(stat -c %Y "$file")
        # passwd-file line: user:password:uid:gid:gecos:home:shell:extra
        # (uid, gid and home come from userdb default_fields). Written atomically.
        printf '%s:{PLAIN}%s::::::\n' "$addr" "$pass" > "$new"
        chown root:dovecot "$new"; chmod 640 "$new"
        if [[ -n $old_mtime ]] && cmp -s "$new" "$file"; then
            rm -f "$new"                # same password again: nothing to do
        elif [[ -n $old_mtime ]]; then
            # A password change. Dovecot re-reads a passwd-file it knows only
            # if its mtime (seconds) or size changed, and checks at most once
            # a second: give the new file a later mtime than the old one, and
            # return only once the clock has entered the next second.
            local now; now=$(date +%s)
            touch -d "@$(( old_mtime >= now ? old_mtime + 1 : now ))" "$new"
            mv -f "$new" "$file"
            sleep_to_next_second
        else
            mv -f "$new" "$file"
        fi
        # The mailbox home, so the first delivery does not have to create it.
        local domain=${addr#*@} home=$D/mail/${addr#*@}/${addr%@*}
        mkdir -p "$home"; chown "$MAIL_USER:$MAIL_USER" "$D/mail/$domain" "$home"
        write_vmailbox
    ) 9>"$D/.lock"
}

case ${1:-} in
    start)    cmd_start "${2:-}" ;;
    stop)     cmd_stop "${2:-}" ;;
    status)   cmd_status "${2:-}" ;;
    add-user) cmd_add_user "${2:-}" "${3:-}" "${4:-}" ;;
    install)  ensure_packages ;;
    *) echo "usage: $0 start|stop|status DIR | add-user DIR ADDRESS PASSWORD | install" >&2; exit 2 ;;
esac
