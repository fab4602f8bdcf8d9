"""Command line: `python -m portal_infra up|down|status|token`."""

from __future__ import annotations

import argparse
import os
import sys

from portal_contracts.identity import Caller, Role, issue_token
from portal_infra import dev_identity, kafka, local, mongodb, peppol
from portal_infra.process import MissingTool

# An HS256 development key (docker-compose's default). `make up` itself verifies tokens against the
# local sign-in's JWKS (portal_infra.dev_identity), and `make token` signs with that ES256 key
# unless --hs256 asks for this one. Not a secret; refused wherever a JWKS URL is configured.
DEV_JWT_KEY = "local-development-only-key-not-a-secret-32b"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal_infra")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start local Kafka and the MongoDB-wire server (idempotent)")
    sub.add_parser("down", help="stop them by pid")
    sub.add_parser("build", help="fetch Kafka's jars and build the MongoDB-wire server (cached)")
    sub.add_parser("status", help="print the URLs of the servers that run")
    sub.add_parser(
        "peppol-rules", help="print the directory of the official UBL rules (fetched if needed)"
    )
    token = sub.add_parser(
        "token", help="print a JWT signed with the local sign-in's key (what `make up` verifies)"
    )
    token.add_argument("--hs256", action="store_true", help="sign with PORTAL_JWT_KEY instead")
    token.add_argument("--office", required=True)
    token.add_argument("--user", required=True)
    token.add_argument("--role", choices=[r.value for r in Role], default="admin")
    token.add_argument("--groups", default="")
    token.add_argument("--lang", default="fr")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            for key, value in local.up().items():
                print(f"{key}={value}")
        elif args.command == "down":
            local.down()
        elif args.command == "build":
            print(f"# Kafka jars: {kafka.kafka_libs()}")
            print(f"# MongoDB-wire server: {mongodb.server_binary()}")
        elif args.command == "peppol-rules":
            print(peppol.rules_dir())
        elif args.command == "status":
            for key, value in local.running().items():
                print(f"{key}={value}")
        elif args.command == "token":
            caller = Caller(
                office_id=args.office,
                user_id=args.user,
                role=Role(args.role),
                groups=tuple(g for g in args.groups.split(",") if g),
                language=args.lang,
            )
            if args.hs256:
                print(issue_token(caller, os.environ.get("PORTAL_JWT_KEY", DEV_JWT_KEY)))
            else:
                print(dev_identity.load().issue(caller))
    except MissingTool as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
