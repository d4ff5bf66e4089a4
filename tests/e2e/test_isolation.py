"""Endpoints never hold each other up; limits and TLS settings per endpoint are honoured."""

from __future__ import annotations

import datetime as dt
import ssl
import time
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bridge.app import build_daemon, parse_config
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, config_dict, make_doc, wait_until


async def test_a_dead_system_of_one_unit_does_not_slow_another(tmp_path: Path) -> None:
    """Unit A's source is down; unit B's documents still arrive promptly."""
    async with (
        TdofficeSim(api_key="a") as dead,
        TdofficeSim(api_key="b") as alive,
        TdofficeSim(api_key="ha") as home_a,
        TdofficeSim(api_key="hb") as home_b,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        dead.faults.down = True
        for i in range(5):
            alive.add_document(*make_doc(i), unit="000.15.33.H49")
        raw = config_dict(tmp_path / "data", dead, home_a, dropper)
        raw["units"].append(
            {
                "id": "000.15.33.H49",
                "name": "UBND xã Bình Dân",
                "sources": [
                    {
                        "name": "bd-tdoffice",
                        "profile": "tdoffice",
                        "base_url": alive.base_url,
                        "api_key": alive.api_key,
                        "poll_interval": 0.3,
                    }
                ],
                "sinks": [
                    {
                        "name": "bd-home",
                        "profile": "tdoffice",
                        "base_url": home_b.base_url,
                        "api_key": home_b.api_key,
                    }
                ],
            }
        )
        async with build_daemon(parse_config(raw, {})) as daemon:
            await wait_until(
                lambda: len(home_b.received) == 5, timeout_s=10, what="unit B's documents"
            )
            health = daemon.endpoints["vd-tdoffice"].health
            await wait_until(
                lambda: health.failures >= 1, timeout_s=10, what="unit A's source failing"
            )
        assert health.state in ("backoff", "failing") and "503" in (health.last_error or "")
        assert home_a.received == {}


async def test_sink_rate_limit_is_honoured(tmp_path: Path) -> None:
    """With rate_limit = 4 deliveries/s (a burst of 4 allowed), twelve deliveries take ≥ 1.5 s."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        for i in range(12):
            source.add_document(*make_doc(i), unit=UNIT)
        raw = config_dict(tmp_path / "data", source, home, dropper)
        raw["units"][0]["sinks"][0].update({"rate_limit": 4, "max_in_flight": 12})
        async with build_daemon(parse_config(raw, {})):
            started = time.monotonic()
            await wait_until(
                lambda: len(home.received) == 12, timeout_s=30, what="twelve deliveries"
            )
            elapsed = time.monotonic() - started
        calls = [r for r in home.requests if r.method == "POST"]
        assert len(calls) == 24 and elapsed >= 1.5


def _tls_pair(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A private CA and a server certificate for 127.0.0.1, as a government CA would issue."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA thử nghiệm")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "server.pem", folder / "server.key")
    return folder / "ca.pem", server


async def test_tls_verified_with_a_configured_ca_bundle(tmp_path: Path) -> None:
    """A source behind a private CA is refused by default and read once its CA file is given."""
    ca_file, server_ctx = _tls_pair(tmp_path)
    source = TdofficeSim(api_key="src")
    runner = web.AppRunner(source.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        source.add_document(*make_doc(1), unit=UNIT)
        async with (
            TdofficeSim(api_key="home") as home,
            FolderDropper(tmp_path / "inbox") as dropper,
        ):
            raw = config_dict(tmp_path / "data", source, home, dropper)
            src = raw["units"][0]["sources"][0]
            src["base_url"] = f"https://127.0.0.1:{port}"
            async with build_daemon(parse_config(raw, {})) as daemon:
                health = daemon.endpoints["vd-tdoffice"].health
                await wait_until(
                    lambda: health.failures >= 1, timeout_s=10, what="refused without the CA"
                )
            assert home.received == {}
            src["ca_file"] = str(ca_file)
            raw["bridge"]["data_dir"] = str(tmp_path / "data2")
            async with build_daemon(parse_config(raw, {})):
                await wait_until(
                    lambda: len(home.received) == 1, timeout_s=15, what="read over verified TLS"
                )
    finally:
        await runner.cleanup()


async def test_a_bug_in_an_adapter_costs_one_record_not_the_pipeline(tmp_path: Path) -> None:
    """A mapper that crashes on one record quarantines only it; a sink that crashes once retries."""
    import dataclasses

    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        for i in range(4):
            source.add_document(*make_doc(i), unit=UNIT)
        daemon = build_daemon(
            parse_config(config_dict(tmp_path / "data", source, home, dropper), {})
        )
        profile = daemon.profiles["tdoffice"]

        def crashing(record):  # type: ignore[no-untyped-def]
            doc = profile.to_document(record)
            if doc.number == "101":
                raise KeyError("a mapper bug")
            return doc

        daemon.profiles["tdoffice"] = dataclasses.replace(profile, to_document=crashing)
        async with daemon:
            sink = daemon.endpoints["vd-home"].adapter
            real_prepare, calls = sink.prepare, []

            async def prepare_failing_once(*args, **kwargs):  # type: ignore[no-untyped-def]
                calls.append(1)
                if len(calls) == 1:
                    raise RuntimeError("a sink bug")
                return await real_prepare(*args, **kwargs)

            sink.prepare = prepare_failing_once
            await wait_until(
                lambda: len(home.received) == 3, timeout_s=30, what="the three good documents"
            )
            held = await daemon.store.quarantined()
        assert [q["kind"] for q in held] == ["unreadable"] and "KeyError" in held[0]["reason"]
        assert sorted(d["codeNumber"] for d in home.received.values()) == ["100", "102", "103"]
        assert len(calls) == 4  # the crashed attempt, then three good ones
