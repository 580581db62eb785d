#!/bin/sh
# pyscale rehearsal: Let's Encrypt's stand-in for a node that terminates TLS itself: pebble
# (the ACME test server) and pebble-challtestsrv answering DNS for every name with the
# node's address, so the HTTP-01 challenge reaches the node as it would on the internet.
# Environment: NODE_ADDRESS, PORT.
set -eu
cat >/tmp/pebble.json <<JSON
{"pebble": {"listenAddress": "0.0.0.0:$PORT", "managementListenAddress": "0.0.0.0:15000",
  "certificate": "/rehearsal/tls/acme.crt", "privateKey": "/rehearsal/tls/acme.key",
  "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
pebble-challtestsrv -defaultIPv4 "$NODE_ADDRESS" -defaultIPv6 "" -dns01 :8053 \
  -http01 "" -https01 "" -tlsalpn01 "" -doh "" >/tmp/challtestsrv.log 2>&1 &
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
  exec pebble -config /tmp/pebble.json -dnsserver 127.0.0.1:8053
