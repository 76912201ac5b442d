"""The server address: what reaches libpq is only what the URL parser lets through."""

from __future__ import annotations

import pytest

from ztmm_desktop.server.url import ServerUrlError, is_server_url, parse


def test_a_plain_address_is_parsed_into_libpq_keywords() -> None:
    url = parse(
        "postgresql://consultant1@db.example.org:6543/firm?engagement=acme_2026&sslmode=verify-full&sslrootcert=ca.pem"
    )
    assert url.connect_kwargs() == {
        "host": "db.example.org",
        "port": "6543",
        "dbname": "firm",
        "user": "consultant1",
        "sslmode": "verify-full",
        "sslrootcert": "ca.pem",
    }
    assert url.engagement == "acme_2026"
    assert url.display == "postgresql://consultant1@db.example.org:6543/firm?engagement=acme_2026"


def test_the_port_defaults_and_the_user_may_be_left_to_libpq() -> None:
    url = parse("postgres://db.example.org/firm")
    assert (url.port, url.user, url.engagement) == (5432, None, None)
    assert "user" not in url.connect_kwargs()


def test_a_password_in_the_url_is_used_but_never_shown() -> None:
    url = parse("postgresql://consultant1:s3cret%21pw@db:5432/firm?engagement=acme")
    assert url.connect_kwargs()["password"] == "s3cret!pw"
    for shown in (url.display, str(url), repr(url)):
        assert "s3cret" not in shown


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("postgresql://consultant1@db/firm?options=-csearch_path%3Devil", "'options' is not accepted"),
        ("postgresql://consultant1@db/firm?application_name=x", "'application_name' is not accepted"),
        ("postgresql://consultant1@db/firm?host=other", "'host' is not accepted"),
        ("postgresql://consultant1@db/firm?passfile=/tmp/x", "'passfile' is not accepted"),
        ("postgresql://consultant1@db/firm?sslpassword=x", "'sslpassword' is not accepted"),
        ("postgresql://consultant1@db1,db2/firm", "more than one host"),
        ("postgresql://consultant1@db/firm?engagement=a&engagement=b", "'engagement' twice"),
        ("postgresql://consultant1@db/firm?engagement=Acme-1", "engagement id"),
        ("postgresql://consultant1@db/firm?engagement=a%3Bdrop", "engagement id"),
        ("postgresql://consultant1@db/firm?sslmode=bogus", "sslmode must be"),
        ("postgresql://consultant1@db/firm?sslrootcert=a%0Ab", "control characters"),
        ("postgresql://consultant1@db/", "no database"),
        ("postgresql://consultant1@db:99999/firm", "not a valid URL"),
        ("postgresql:///firm", "no host"),
        ("postgresql://consultant1@db/firm#x", "'#'"),
        ("mysql://consultant1@db/firm", "starts with postgresql://"),
    ],
)
def test_anything_else_is_refused_with_one_line(text: str, says: str) -> None:
    with pytest.raises(ServerUrlError, match=None) as caught:
        parse(text)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_refusal_never_repeats_the_password() -> None:
    with pytest.raises(ServerUrlError) as caught:
        parse("postgresql://consultant1:hunter2pw@db/firm?options=x")
    assert "hunter2pw" not in str(caught.value)


def test_files_are_not_taken_for_addresses() -> None:
    assert is_server_url("postgresql://db/firm")
    assert not is_server_url("postgresql.ztmm") and not is_server_url("engagement.ztmm")


def test_the_address_the_window_remembers_keeps_everything_but_the_password() -> None:
    url = parse("postgresql://consultant1:hunter2pw@db.example.org:6543/firm?engagement=eng_1&sslmode=verify-full")
    assert "hunter2pw" not in url.address
    again = parse(url.address)
    assert again == url and again.password is None  # the TLS settings and the engagement come back as typed
    assert parse(url.with_engagement(None).address).engagement is None
