#!/bin/sh
# pyscale rehearsal: managed Valkey: TLS only, a password for the default user, the plan's
# maxclients and eviction policy, no persistence. Environment: PORT, PASSWORD, MAX_CLIENTS,
# EVICTION_POLICY.
set -eu
install -d -o valkey -g valkey -m 0700 /var/lib/valkey/rehearsal
cat >/var/lib/valkey/rehearsal/valkey.conf <<CONF
bind 0.0.0.0
protected-mode no
port 0
tls-port $PORT
tls-cert-file /rehearsal/tls/valkey.crt
tls-key-file /rehearsal/tls/valkey.key
tls-auth-clients no
requirepass $PASSWORD
maxclients $MAX_CLIENTS
maxmemory 256mb
maxmemory-policy $EVICTION_POLICY
save ""
appendonly no
dir /var/lib/valkey/rehearsal
CONF
chown valkey:valkey /var/lib/valkey/rehearsal/valkey.conf
touch /tmp/ready
exec runuser -u valkey -- valkey-server /var/lib/valkey/rehearsal/valkey.conf
