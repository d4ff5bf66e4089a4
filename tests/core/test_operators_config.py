"""Named operators in the configuration: hashed tokens, units checked, `lienthong token new`."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from pydantic import SecretStr

from bridge.app import build_daemon, load_config, parse_config
from bridge.cli import main
from bridge.errors import ConfigError
from bridge.http.operators import OPERATOR, require_unit
from bridge.operators import (
    ADMIN,
    Operator,
    OperatorEntry,
    Operators,
    Role,
    hash_token,
    operator_block,
    scope_of,
)
from tests.e2e.two_units import COMMUNE, DISTRICT

CLERK = "Nguyễn Văn A"


def _raw(tmp_path: Path, operators: list[dict[str, Any]]) -> dict[str, Any]:
    unit = {"id": DISTRICT, "name": "Vân Đồn"}
    return {"bridge": {"data_dir": str(tmp_path)}, "operators": operators, "units": [unit]}


def test_configured_token_is_only_its_hash(tmp_path: Path) -> None:
    entry = {"name": CLERK, "token_sha256": hash_token("s3cret-token"), "units": [DISTRICT]}
    config = parse_config(_raw(tmp_path, [entry]), {})
    assert "s3cret-token" not in config.model_dump_json()
    found = Operators(config.operators).resolve("s3cret-token")
    assert found is not None and found.name == CLERK and found.units == frozenset({DISTRICT})
    assert Operators(config.operators).resolve("s3cret-tokeN") is None


def test_a_plain_token_in_place_of_its_hash_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_raw(tmp_path, [{"name": CLERK, "token_sha256": "s3cret-token"}]), {})
    assert any("token_sha256" in line for line in err.value.errors)


def test_unknown_unit_names_the_operator_in_both_languages(tmp_path: Path) -> None:
    entry = {"name": CLERK, "token_sha256": hash_token("t"), "units": [COMMUNE]}
    with pytest.raises(ConfigError) as err:
        parse_config(_raw(tmp_path, [entry]), {})
    assert err.value.errors == [
        f"operators[{CLERK}].units: đơn vị '{COMMUNE}' không có trong cấu hình / unknown unit"
        f" (có / known: {DISTRICT})"
    ]


def test_two_operators_with_one_token_are_refused(tmp_path: Path) -> None:
    same = hash_token("t")
    entries = [{"name": "A", "token_sha256": same}, {"name": "B", "token_sha256": same}]
    with pytest.raises(ConfigError) as err:
        parse_config(_raw(tmp_path, entries), {})
    assert err.value.errors == [
        "operators[B].token_sha256: mã này đã cấp cho người khác / token reused"
    ]


def test_units_omitted_or_star_mean_every_unit() -> None:
    assert scope_of(()) is None and scope_of(("*",)) is None
    assert scope_of((DISTRICT,)) == frozenset({DISTRICT})
    entry = OperatorEntry(name="x", token_sha256="A" * 64)
    assert entry.units == ("*",) and entry.role is Role.OPERATOR and entry.token_sha256 == "a" * 64


def test_the_single_http_token_is_admin_of_every_unit() -> None:
    known = Operators([], SecretStr("old-shared-token"))
    found = known.resolve("old-shared-token")
    assert known.required and found is not None
    assert found.name == ADMIN and found.units is None and found.may_act
    assert not Operators([]).required


def test_token_new_prints_the_token_once_and_a_block_with_its_hash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["token", "new", "--name", CLERK, "--units", COMMUNE, "--role", "viewer"]) == 0
    out = capsys.readouterr().out
    token = out.splitlines()[1].strip()
    block = out[out.index("[[operators]]") :]
    assert out.count(token) == 1 and len(token) >= 40
    entry = tomllib.loads(block)["operators"][0]
    assert entry == {
        "name": CLERK,
        "token_sha256": hash_token(token),
        "units": [COMMUNE],
        "role": "viewer",
    }


def test_block_quotes_names_for_toml() -> None:
    block = operator_block('Lê "Ba"', "t", [], Role.OPERATOR)
    assert tomllib.loads(block)["operators"][0] == {
        "name": 'Lê "Ba"',
        "token_sha256": hash_token("t"),
        "units": ["*"],
    }


def test_check_config_with_operators(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Named tokens suffice to listen beyond loopback; an unknown unit fails, naming the operator."""
    head = f'[bridge]\ndata_dir = "{tmp_path}"\n[http]\nlisten = "0.0.0.0:8787"\n'
    unit = f'[[units]]\nid = "{DISTRICT}"\n'
    good = tmp_path / "good.toml"
    good.write_text(head + operator_block(CLERK, "t", [DISTRICT], Role.OPERATOR) + unit, "utf-8")
    assert main(["check-config", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(head + operator_block(CLERK, "t", [COMMUNE], Role.OPERATOR) + unit, "utf-8")
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"operators[{CLERK}].units: đơn vị '{COMMUNE}' không có trong cấu hình" in err
    assert "unknown unit" in err


@pytest.mark.parametrize(
    ("operator", "unit", "allowed"),
    [
        (Operator("a", None), DISTRICT, True),
        (Operator("a", None), None, True),
        (Operator("c", frozenset({COMMUNE})), COMMUNE, True),
        (Operator("c", frozenset({COMMUNE})), DISTRICT, False),
        (Operator("c", frozenset({COMMUNE})), None, False),
        (Operator("v", frozenset({COMMUNE}), Role.VIEWER), COMMUNE, False),
        (Operator("v", None, Role.VIEWER), DISTRICT, False),
    ],
)
def test_require_unit(operator: Operator, unit: str | None, allowed: bool) -> None:
    """Acting on a unit: the token's units and role decide; refusals are 403, bilingual."""
    request = make_mocked_request("POST", "/x")
    request[OPERATOR] = operator
    if allowed:
        require_unit(request, unit)
        return
    with pytest.raises(web.HTTPForbidden) as refused:
        require_unit(request, unit)
    assert " / " in (refused.value.text or "")


async def test_a_token_removed_from_the_configuration_is_refused_after_reload(
    tmp_path: Path,
) -> None:
    """Revoking: the `[[operators]]` table deleted and SIGHUP's reload; no restart."""
    head = f'[bridge]\ndata_dir = "{tmp_path / "data"}"\n[http]\nlisten = "127.0.0.1:0"\n'
    path = tmp_path / "lienthong.toml"
    path.write_text(head + operator_block(CLERK, "old-token", [], Role.OPERATOR), "utf-8")
    async with build_daemon(load_config(path, {}), path) as daemon:
        url = f"http://127.0.0.1:{daemon.http.port}/whoami"

        async def status_with(token: str) -> int:
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
                return resp.status

        assert await status_with("old-token") == 200
        path.write_text(head + operator_block("B", "new-token", [], Role.OPERATOR), "utf-8")
        assert await daemon.reload()
        assert await status_with("old-token") == 401
        assert await status_with("new-token") == 200
