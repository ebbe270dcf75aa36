"""Item 7: no message contains a password, whatever the broker URL's shape (a corpus of malformed
URLs through parse_url, check and mask_url)."""

from __future__ import annotations

import pytest

from scheduler_core.broker.connection import check, mask_url, parse_url
from scheduler_core.errors import TaskctlError

PASSWORD = "Zq9secretXw"
SHAPES = [
    "redis://:{p}@h:6379/0",
    "redis://u:{p}@h/0",
    "redis://:{p}?x@h/0",  # unescaped ? in the password
    "redis://:{p}#x@h/0",  # unescaped #
    "redis://:x?{p}@h/0",
    "redis://:x#{p}@h/0",
    "redis://u:{p}/x@h/0",  # unescaped /
    "redis://u:a/{p}:b@h/0",
    "redis://u:{p}@x@h/0",  # unescaped @
    "redis://u:{p}:x@h/0",  # unescaped :
    "redis://u:{p}@h:port/0",
    "redis://u:{p}@h:99999/0",
    "redis://u:{p}@h/notadb",
    "redis://u:{p}@[::1/0",
    "redis://u:{p}@h/0?bogus=1",
    "redis://u:{p}@h/0?socket_timeout=soon",
    "rediss://u:{p}@h/0?ssl_cert_reqs=maybe",
    "redis:/u:{p}@h/0",  # one slash
    "redis:u:{p}@h/0",
    "u:{p}@h:6379",  # no scheme
    "ftp://u:{p}@h/0",
    "redis+sentinel://:{p}@a:x/svc",
    "redis+sentinel://:{p}@a:1",  # no service
    "unix://:{p}@/tmp/no-such.sock?db=x",
    "redis://u:{p}%zz@h/0",  # bad percent-escape
    "redis://u:{p}@h:6379/0 trailing",
    "redis://u:{p}\n@h/0",
    "redis://u:" + "{p}" + "\u202e@h/0",
]


@pytest.mark.parametrize("shape", SHAPES)
def test_no_message_holds_the_password(shape: str) -> None:
    url = shape.format(p=PASSWORD)
    assert PASSWORD not in mask_url(url)
    try:
        parse_url(url)
    except TaskctlError as exc:
        assert exc.exit_code == 78
        assert PASSWORD not in str(exc) and "\n" not in str(exc)
        return
    try:  # it parsed: connecting fails (no such host / socket), and says so without the password
        check(url, connect_timeout=0.5)
    except TaskctlError as exc:
        assert PASSWORD not in str(exc)


@pytest.mark.parametrize("shape", SHAPES[:12])
def test_no_piece_of_the_password_either(shape: str) -> None:
    url = shape.format(p=PASSWORD)
    try:
        parse_url(url)
    except TaskctlError as exc:
        for piece in ("Zq9secret", "secretXw"):
            assert piece not in str(exc)
