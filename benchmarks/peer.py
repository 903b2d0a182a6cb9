"""peer: mycity's `me` beside PostGraphile v4 and a minimal route, from the same PostgreSQL.

A city choosing a GraphQL server over PostgreSQL would look at PostGraphile. This serves
the same answer, a signed-in caller's own row, three ways, on this machine, interleaved:

- **mycity**: `mycity serve --workers 2` (its runner in the parent), `{ me { citizen { id
  name idNumber phone realNameLevel } } }` with a citizen's access token: the token checked,
  the door, the row read from `citizen_profile` and its personal values opened;
- **PostGraphile** 4.14.1 from npm (`npm install` into a cache directory, once), production
  mode, `--cluster-workers 2`, a JWT (HS256) whose `sub` a SQL function `me()` reads the
  caller's row of a plain table by: `{ me { id name idNumber phone realNameLevel } }`;
- **route**: `benchmarks/peer_route.py`, a Starlette route under mycity's own server (2
  workers): mycity's token checked once and remembered, one row by id from a psycopg pool,
  JSON. What the work costs with no GraphQL and no door.

The plain table holds what mycity answers each citizen, copied from mycity's own answers.
Each round runs each server: a warm-up, 32 connections closed loop (req/s; the server's CPU
per answer from its processes' counters), then 1 connection (p50, p99); rounds rotate the
order, and each figure is the median of the rounds. wrk, and every answer checked, as in the
`http` benchmark. Needs node and npm (skips with one line without them) and PostgreSQL.
Targets: mycity's req/s at least 1.0x PostGraphile's and 0.5x the route's; its p99 at 1
connection no worse than PostGraphile's.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import psycopg
from psycopg import sql

from benchmarks.citizens import register_pool
from benchmarks.common import POSTGRES_URL, Report, note, postgres_required, postgres_unreachable
from benchmarks.http import CONNECTIONS, WORKERS, city_command, city_environment
from benchmarks.loadgen import Run, closed_loop, require_wrk, wrk_version
from benchmarks.servers import free_port, group_cpu_s, post_graphql, served
from mycity.identity.keys import KeyStore

POSTGRAPHILE = "postgraphile@4.14.1"
CACHE = Path(os.environ.get("MYCITY_BENCH_NPM_CACHE", Path.home() / ".cache" / "mycity-bench"))
SERVERS = ("mycity", "postgraphile", "route")
QUERY = {"mycity": "peer_mycity", "postgraphile": "peer_me", "route": "peer_me"}
ME = "{ me { citizen { id name idNumber phone realNameLevel } } }"
TARGETS = {"postgraphile": 1.0, "route": 0.5}  # mycity's req/s, at least this ratio


def installed_postgraphile() -> Path | None:
    """PostGraphile's command, installed once into the cache; None (noted) without npm."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None
    folder = CACHE / POSTGRAPHILE.replace("@", "-")
    command = folder / "node_modules" / ".bin" / "postgraphile"
    if not command.exists():
        folder.mkdir(parents=True, exist_ok=True)
        note(f"installing {POSTGRAPHILE} into {folder}")
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", POSTGRAPHILE],
            cwd=folder,
            check=True,
            timeout=600,
        )
    return command


def citizen_id(global_id: str) -> str:
    """The UUID in a GraphQL global id (`Citizen:<uuid>`, base64)."""
    return base64.b64decode(global_id).decode().partition(":")[2]


def copy_rows(url: str, tokens: list[str], schema: str) -> list[str]:
    """The plain table and `me()`, holding what mycity answers each citizen; their ids."""
    rows = []
    for token in tokens:
        me = post_graphql(url, ME, token=token)["data"]["me"]["citizen"]
        fields = (me["name"], me["idNumber"], me["phone"], me["realNameLevel"])
        rows.append((citizen_id(me["id"]), *fields))
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {}.citizen (id uuid PRIMARY KEY, name text, id_number text, "
                "phone text, real_name_level text)"
            ).format(sql.Identifier(schema))
        )
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL("INSERT INTO {}.citizen VALUES (%s, %s, %s, %s, %s)").format(
                    sql.Identifier(schema)
                ),
                rows,
            )
        conn.execute(
            sql.SQL(
                "CREATE FUNCTION {0}.me() RETURNS {0}.citizen AS $$ SELECT * FROM {0}.citizen "
                "WHERE id = nullif(current_setting('jwt.claims.sub', true), '')::uuid "
                "$$ LANGUAGE sql STABLE"
            ).format(sql.Identifier(schema))
        )
    return [row[0] for row in rows]


def drop(schema: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def postgraphile_tokens(ids: list[str], secret: str) -> list[str]:
    expiry = int(time.time()) + 7200
    return [
        jwt.encode({"sub": i, "aud": "postgraphile", "exp": expiry}, secret, "HS256") for i in ids
    ]


def measured(url: str, group: int, query: str, tokens: Path, seconds: int) -> tuple[Run, float]:
    """A closed-loop run at 32 connections, and the server's CPU ms per correct answer."""
    before = group_cpu_s(group)
    run = closed_loop(url, query, connections=CONNECTIONS, seconds=seconds, tokens=tokens)
    used = group_cpu_s(group) - before
    return run, 1000 * used / max(run.good, 1)


def run(quick: bool) -> Report:
    require_wrk()
    report = Report("peer", quick)
    pool, rounds, warmup_s, throughput_s, single_s = (
        (100, 2, 1, 3, 2) if quick else (1000, 3, 2, 10, 8)
    )
    report.sizes.update(
        pool=pool, rounds=rounds, wrk=wrk_version(), workers=WORKERS, connections=CONNECTIONS
    )
    reason = postgres_unreachable()
    if reason and postgres_required():
        raise SystemExit(f"PostgreSQL is unreachable and CI=true: {reason}")
    command = installed_postgraphile()
    if reason or command is None:
        why = f"PostgreSQL is unreachable ({reason})" if reason else "node and npm are needed"
        report.note(f"skipped: {why} (PostGraphile serves from PostgreSQL, installed by npm)")
        report.checks["skipped"] = True
        return report
    report.sizes["postgraphile"] = POSTGRAPHILE
    with tempfile.TemporaryDirectory(prefix="mycity-bench-") as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        keys = tmp / "keys"
        KeyStore(keys, generate_missing=True).init()
        (tmp / "data").mkdir()
        env = city_environment(stack, "postgres", keys, tmp, name="peer")
        port = free_port()
        city_url, city_group = stack.enter_context(
            served(city_command(port, "auto"), port, env, tmp / "mycity.log", WORKERS)
        )
        tokens = register_pool(city_url, Path(env["MYCITY_DATA_DIR"]) / "sms-outbox.jsonl", pool)
        schema = f"bench_{os.getpid()}_peer_rows"
        stack.callback(drop, schema)
        ids = copy_rows(city_url, tokens, schema)
        secret = secrets.token_hex(32)
        files = {"mycity": tmp / "tokens.txt", "route": tmp / "tokens.txt"}
        files["mycity"].write_text("".join(f"{t}\n" for t in tokens))
        files["postgraphile"] = tmp / "postgraphile-tokens.txt"
        files["postgraphile"].write_text(
            "".join(f"{t}\n" for t in postgraphile_tokens(ids, secret))
        )
        port = free_port()
        graphile = [
            *(str(command), "-c", POSTGRES_URL, "-s", schema, "--cluster-workers", str(WORKERS)),
            *("--jwt-secret", secret, "--disable-query-log", "--host", "127.0.0.1"),
            *("--port", str(port)),
        ]
        servers = {
            "mycity": (city_url, city_group),
            "postgraphile": stack.enter_context(
                served(
                    graphile,
                    port,
                    os.environ | {"NODE_ENV": "production"},
                    tmp / "postgraphile.log",
                    WORKERS,
                    started=None,
                    cwd=command.parent,
                )
            ),
        }
        port = free_port()
        route = [sys.executable, "-m", "mycity.server", "benchmarks.peer_route:create_app"]
        route_env = os.environ | {
            "PEER_DATABASE_URL": POSTGRES_URL,
            "PEER_TABLE": f'"{schema}".citizen',
            "MYCITY_KEYS_DIR": str(keys),
        }
        servers["route"] = stack.enter_context(
            served(
                [*route, "--port", str(port), "--workers", str(WORKERS)],
                port,
                route_env,
                tmp / "route.log",
                WORKERS,
            )
        )
        figures: dict[str, dict[str, list[float]]] = {s: {} for s in SERVERS}
        bad: dict[str, int] = {}
        for r in range(rounds):
            order = SERVERS[r % 3 :] + SERVERS[: r % 3]
            for name in order:
                url, group = servers[name]
                query, tokens_file = QUERY[name], files[name]
                closed_loop(
                    url, query, connections=CONNECTIONS, seconds=warmup_s, tokens=tokens_file
                )
                many, cpu_ms = measured(url, group, query, tokens_file, throughput_s)
                one = closed_loop(url, query, connections=1, seconds=single_s, tokens=tokens_file)
                for key, value in (
                    ("rps", many.rps),
                    ("cpu_ms_per_request", cpu_ms),
                    ("p50_ms_1conn", one.p50_ms),
                    ("p99_ms_1conn", one.p99_ms),
                ):
                    figures[name].setdefault(key, []).append(value)
                bad[name] = bad.get(name, 0) + many.bad_count + one.bad_count
                note(
                    f"round {r + 1} {name}: {many.rps:,.0f} req/s ({cpu_ms:.2f} ms CPU each), "
                    f"1 connection p50 {one.p50_ms:.2f} ms, p99 {one.p99_ms:.2f} ms"
                )
    for name in SERVERS:
        for key, values in figures[name].items():
            unit = "req/s" if key == "rps" else "ms"
            base = f"postgraphile.{key}" if key != "rps" else "postgraphile.rps"
            report.add(f"{name}.{key}", statistics.median(values), unit, base)
    for peer, least in TARGETS.items():
        ratio = report.figures["mycity.rps"].value / report.figures[f"{peer}.rps"].value
        report.checks[f"mycity_rps_vs_{peer}"] = round(ratio, 3)
        report.checks[f"mycity_rps_ge_{least}x_{peer}"] = ratio >= least
    report.checks["mycity_p99_1conn_le_postgraphile"] = (
        report.figures["mycity.p99_ms_1conn"].value
        <= report.figures["postgraphile.p99_ms_1conn"].value
    )
    report.checks["bad_answers"] = bad
    report.checks["answers_correct"] = not any(bad.values())
    report.sizes["hosts"] = {n: urlsplit(u).netloc for n, (u, _) in servers.items()}
    return report
