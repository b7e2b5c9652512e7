"""The start-up check that a worker reachable from other machines is not open to everyone.

Binding a non-loopback address without a bearer token lets anyone who can reach the port train on
the machine, read every run's checkpoints and run inference; the worker refuses to start that way
unless the operator says so with --insecure.
"""

from __future__ import annotations

import ipaddress
import socket


def is_loopback(host: str) -> bool:
    """True when every address `host` names is a loopback address ("localhost", 127.0.0.0/8,
    ::1); a wildcard ("0.0.0.0", "::", "") or any other address is reachable from elsewhere."""
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def refusal(host: str, token: str | None, insecure: bool) -> str | None:
    """Why the worker must not start on `host` with this token, or None when it may."""
    if token or insecure or is_loopback(host):
        return None
    return (
        f"refusing to serve on {host!r} without a token: anyone who can reach this address could"
        " train, read checkpoints and run inference. Pass --token (or set MIDSPEC_WORKER_TOKEN),"
        " bind 127.0.0.1, or pass --insecure to accept that (on a trusted network only)"
    )
