# Varnish in front of two Masthead web instances, with purging by Surrogate-Key through the
# xkey vmod (Debian: varnish and varnish-modules). Readers reach one socket, Masthead purges
# through another that only this machine reaches:
#     varnishd -a 127.0.0.1:6081 -a purge=127.0.0.1:6091 -f /etc/varnish/masthead.vcl ...
#     MASTHEAD_CDN_PURGE_URL=http://127.0.0.1:6091/  MASTHEAD_CDN_PURGE_STYLE=varnish
# TLS is terminated in front of Varnish (nginx, hitch, or the load balancer), so every reader
# seems to come from 127.0.0.1: the purge socket, not the address, is what keeps them out.
vcl 4.1;

import directors;
import std;
import xkey;

probe ready {
    .url = "/readyz";
    .interval = 2s;
    .timeout = 1s;
    .window = 3;
    .threshold = 2;
}

backend web1 { .host = "127.0.0.1"; .port = "8081"; .probe = ready; }
backend web2 { .host = "127.0.0.1"; .port = "8082"; .probe = ready; }

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_init {
    new masthead = directors.round_robin();
    masthead.add_backend(web1);
    masthead.add_backend(web2);
}

sub vcl_recv {
    set req.backend_hint = masthead.backend();
    # Masthead believes a request id from this trusted proxy: a client's own must not pass.
    unset req.http.X-Request-Id;
    if (req.method == "PURGE") {
        if (local.socket != "purge" || client.ip !~ purgers) {
            return (synth(405, "Not allowed"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "No names to purge"));
        }
        set req.http.n-gone = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.n-gone + " objects"));
    }
    # Live updates are a stream of their own.
    if (req.url ~ "^/live/[^/]+/events(\?|$)") {
        return (pipe);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # A signed-in reader or staff member is never answered from the cache, however many
    # Cookie fields the browser sends.
    std.collect(req.http.Cookie, "; ");
    if (req.http.Cookie ~ "(^|;\s*)mh_(session|staff)=") {
        return (pass);
    }
    # Other cookies (a form's CSRF cookie, the meter's reader id) do not stop the lookup:
    # Masthead says `Vary: Cookie` and marks whatever depends on them private.
    return (hash);
}

sub vcl_backend_response {
    # Only what Masthead marks public is kept (not a redirect without caching rules, say).
    if (beresp.http.Cache-Control !~ "(^|,)\s*public(,|$)") {
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
    # xkey files each object under the names in its xkey header.
    if (beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }
}

sub vcl_deliver {
    unset resp.http.xkey;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
