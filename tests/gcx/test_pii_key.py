"""The PII pseudonyms' key (gcx/warehouse/pii.py): one per installation, kept 0600, never a default,
usable by the platform's owner only."""

import hashlib
import hmac
import os
import stat

import psycopg
import pytest

from gcx import database
from gcx.governance import roles
from gcx.settings import Settings
from gcx.warehouse import pii


@pytest.mark.attack("a default PII key")
def test_a_new_installation_gets_its_own_key_in_a_private_file(tmp_path, monkeypatch):
    monkeypatch.delenv(pii.KEY_VARIABLE, raising=False)
    first = pii.installation_key(Settings(home=tmp_path / "a"))
    path = pii.key_path(Settings(home=tmp_path / "a"))
    assert len(first) == pii.KEY_BYTES and pii.installation_key(Settings(home=tmp_path / "a")) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert pii.installation_key(Settings(home=tmp_path / "b")) != first, "no shared default"


def test_the_environment_key_wins_and_a_malformed_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(pii.KEY_VARIABLE, "ab" * pii.KEY_BYTES)
    assert pii.installation_key(Settings(home=tmp_path)) == bytes.fromhex("ab" * pii.KEY_BYTES)
    assert not pii.key_path(Settings(home=tmp_path)).exists()
    monkeypatch.setenv(pii.KEY_VARIABLE, "not-hex")
    with pytest.raises(ValueError, match="64 hex characters"):
        pii.installation_key(Settings(home=tmp_path))


def test_the_warehouse_pseudonym_is_hmac_sha256_under_the_installation_key(settings):
    key = pii.installation_key(settings)
    with database.connect("warehouse", settings=settings) as conn:
        stored, null = conn.execute(
            "select private.pii_hash(%s), private.pii_hash(null)", (" Kofi@Example.COM ",)
        ).fetchone()
        fingerprint = conn.execute("select fingerprint from private.pii_key").fetchone()[0]
    assert (
        stored
        == hmac.new(key, b"kofi@example.com", hashlib.sha256).hexdigest()
        == pii.pseudonym(key, " Kofi@Example.COM ")
    )
    assert null is None and fingerprint == hashlib.sha256(key).hexdigest()


@pytest.mark.attack("the API role reads the PII key")
def test_the_api_role_can_neither_read_the_key_nor_pseudonymise(settings):
    with database.connect("warehouse", autocommit=True, settings=settings) as owner:
        roles.ensure_api_role(owner, settings)
    with psycopg.connect(roles.api_database_url(settings), autocommit=True) as api:
        for statement in ("select * from private.pii_key", "select private.pii_hash('x')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                api.execute(statement)


def test_a_new_key_replaces_the_old_one(settings):
    with database.connect("warehouse", settings=settings) as conn:
        original = pii.installation_key(settings)
        try:
            assert pii.install(conn, os.urandom(pii.KEY_BYTES)) is True
            assert pii.install(conn, original) is True and pii.install(conn, original) is False
        finally:
            pii.install(conn, original)
