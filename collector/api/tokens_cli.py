"""``canhgac-collector token create --role R [--agency A] --name N | list | revoke ID``.

The secret is printed once, on creation; only its SHA-256 is stored in ``<prefix>tokens``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys

from collector.api.connection import add_store_arguments, load, open_store
from collector.api.roles import Role
from collector.api.tokens import TokenError, issue, public_view, revoke
from collector.config import ConfigError, ElasticsearchSettings
from collector.incidents.actor import Actor
from collector.incidents.service import utc_now
from collector.store import StoreUnavailable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_store_arguments(parser)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a token and print its secret once")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--agency", default=None, help="the agency a responder (or viewer) is bound to")
    create.add_argument("--name", required=True, help="who or what holds the token")
    actions.add_parser("list", help="list tokens (never their secrets)")
    revoke_parser = actions.add_parser("revoke", help="revoke a token by id")
    revoke_parser.add_argument("token_id", metavar="ID")


async def _run(args: argparse.Namespace, settings: ElasticsearchSettings) -> int:
    store = open_store(settings, refresh="wait_for")
    operator = Actor(f"cli:{getpass.getuser()}", "admin", None)
    try:
        await store.setup()
        if args.action == "create":
            issued = await issue(
                store, role=Role(args.role), agency=args.agency, name=args.name, by=operator, now=utc_now()
            )
            print(f"token id: {issued.record['id']}")
            print(f"secret (shown once, store it now): {issued.secret}")
        elif args.action == "list":
            for item in await store.list_tokens(10_000):
                print(json.dumps(public_view(item.source), sort_keys=True))
        else:
            revoked = await revoke(store, args.token_id, by=operator, now=utc_now())
            print(f"revoked {revoked['id']} at {revoked['revoked_at']}")
        return 0
    except TokenError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except StoreUnavailable as error:
        print(f"error: Elasticsearch unavailable: {error}", file=sys.stderr)
        return 1
    finally:
        await store.close()


def run(args: argparse.Namespace) -> int:
    try:
        settings = load(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return asyncio.run(_run(args, settings.elasticsearch))
