#!/bin/sh
# Entry point of the compose `openresty` service: links the default certificate, then runs OpenResty.
#
# The default server (conf.d/default.conf) serves /etc/staplewarm/default-cert/{fullchain,privkey}.pem.
# That is the folder $DEFAULT_CERT inside the mounted certificate directory (/certs) when it holds
# both files, else a self-signed placeholder made here, so the stack starts before you add
# certificates. The placeholder has no OCSP URL: nothing is stapled for it.
set -eu

certs=/certs
target=/etc/staplewarm/default-cert
source_dir="$certs/${DEFAULT_CERT:-default}"

rm -rf "$target"
mkdir -p "$(dirname "$target")"
if [ -r "$source_dir/fullchain.pem" ] && [ -r "$source_dir/privkey.pem" ]; then
    # A link, not a copy: certbot renewals replace the files; `openresty -s reload` picks them up.
    ln -s "$source_dir" "$target"
    echo "openresty: default certificate from $source_dir" >&2
else
    openssl=$(command -v openssl || echo /usr/local/openresty/openssl3/bin/openssl)
    if [ ! -x "$openssl" ]; then
        echo "openresty: $source_dir has no fullchain.pem + privkey.pem, and there is no openssl" \
             "to make a placeholder; set CERTS_DIR and DEFAULT_CERT in .env" >&2
        exit 1
    fi
    echo "openresty: $source_dir has no fullchain.pem + privkey.pem; serving a self-signed" \
         "placeholder (set CERTS_DIR and DEFAULT_CERT in .env)" >&2
    mkdir -p "$target"
    printf '[req]\ndistinguished_name = dn\n[dn]\n' > "$target/req.cnf"
    "$openssl" req -x509 -config "$target/req.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -nodes -days 30 -subj "/CN=staplewarm placeholder" \
        -keyout "$target/privkey.pem" -out "$target/fullchain.pem" 2>/dev/null
fi

exec /usr/local/openresty/bin/openresty -g 'daemon off;'
