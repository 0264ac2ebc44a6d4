"""How responses travel: never cached by a shared cache (keyed, often personal data), and over TLS
with HSTS when `gcx serve` is given a certificate."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest


@pytest.mark.attack("PII answers kept in a shared cache")
def test_api_answers_are_not_to_be_cached_but_static_files_are(client, auth):
    answer = client.get("/v1/instruments", headers=auth("pro"))
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    refused = client.get("/v1/instruments")
    assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"
    static = client.get("/dashboards/static/dashboards.css")
    assert static.status_code == 200 and static.headers["cache-control"].startswith("public")


@pytest.mark.slow
@pytest.mark.attack("a TLS downgrade to plain http")
def test_gcx_serve_speaks_tls_with_hsts(tmp_path, settings):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gcx", "serve", "--port", str(port), "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)],
        env={**os.environ, "GCX_HOME": str(settings.home)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"https://127.0.0.1:{port}/health", verify=str(cert), timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.3)
        assert answer.status_code == 200
        assert answer.headers["strict-transport-security"] == "max-age=31536000"
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)  # no plain http on the TLS port
    finally:
        server.terminate()
        server.wait(30)
