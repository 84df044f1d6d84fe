"""HTTP Basic authentication: hashed credentials from a file; a request without valid credentials gets
401 with ksqlDB's body and changes nothing."""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

import httpx
import pytest

from headwater.server import ServerSettings, start_in_thread
from headwater.server.auth import AuthFileError, CredentialStore, credential_line
from headwater.server.runner import main

STREAM = "CREATE STREAM S (ID INT KEY) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');"


def test_credentials_file_holds_hashes_not_passwords(tmp_path: Path) -> None:
    line = credential_line("alice", "wonderland")
    assert "wonderland" not in line
    assert line.startswith("alice:scrypt$")
    assert credential_line("alice", "wonderland") != line  # salted
    store = CredentialStore.parse(f"# users\n\n{line}\n")
    assert store.users == ["alice"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "names no user"),
        ("alice\n", ":1: expected"),
        ("alice:md5$abc\n", ":1: expected 'scrypt"),
        ("alice:scrypt$x$8$1$AAAA$AAAA\n", "malformed"),
    ],
)
def test_malformed_credentials_files_are_named(text: str, fragment: str) -> None:
    with pytest.raises(AuthFileError, match=fragment.replace("$", r"\$")):
        CredentialStore.parse(text)


def test_requests_need_valid_credentials_and_a_refused_one_touches_nothing(tmp_path: Path) -> None:
    auth_file = tmp_path / "users"
    auth_file.write_text(credential_line("alice", "wonderland") + "\n")
    settings = ServerSettings(data_dir=tmp_path / "data", port=0, auth_file=auth_file)
    with start_in_thread(settings) as server:
        url = f"{server.url}/ksql"
        anonymous = httpx.post(url, json={"ksql": STREAM})
        assert anonymous.status_code == 401
        assert anonymous.json() == {"@type": "generic_error", "error_code": 40100, "message": "Unauthorized"}
        assert anonymous.headers["www-authenticate"].startswith("Basic")
        wrong = httpx.post(url, json={"ksql": STREAM}, auth=("alice", "queen"))
        assert wrong.status_code == 401
        stranger = httpx.post(url, json={"ksql": STREAM}, auth=("bob", "wonderland"))
        assert stranger.status_code == 401
        for path in ("/info", "/healthcheck", "/query-stream"):
            assert (
                httpx.request("GET" if path != "/query-stream" else "POST", server.url + path).status_code
                == 401
            )
        listed = httpx.post(url, json={"ksql": "SHOW STREAMS;"}, auth=("alice", "wonderland"))
        assert listed.status_code == 200
        assert listed.json()[0]["streams"] == []  # none of the refused CREATEs ran
        assert not server.app.engine.log.has_topic("s")
        created = httpx.post(url, json={"ksql": STREAM}, auth=("alice", "wonderland"))
        assert created.status_code == 200
        over_http2 = httpx.Client(http1=False, http2=True, auth=("alice", "wonderland"))
        with over_http2:
            assert over_http2.get(f"{server.url}/info").status_code == 200


def test_add_user_writes_a_hashed_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    auth_file = tmp_path / "conf" / "users"
    monkeypatch.setattr(sys, "stdin", io.StringIO("first-password\n"))
    assert main(["--add-user", "carol", "--auth-file", str(auth_file)]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("second-password\n"))
    assert main(["--add-user", "carol", "--auth-file", str(auth_file)]) == 0  # replaces carol's line
    text = auth_file.read_text()
    assert "password" not in text
    assert text.count("carol:") == 1
    assert oct(auth_file.stat().st_mode & 0o777) == "0o600"
    store = CredentialStore.load(auth_file)
    header = "Basic " + base64.b64encode(b"carol:second-password").decode()
    assert store.check_header(header) == "carol"
    assert store.check_header("Basic " + base64.b64encode(b"carol:first-password").decode()) is None


def test_missing_auth_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:0", "--auth-file", str(tmp_path / "none")]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("headwater server: error: Cannot read credentials file")
    assert "Traceback" not in err
