"""Importer storage choices, measured on the MongoDB-wire server of MONGODB_URI (a fresh database,
dropped afterwards):

1. rows as one document per row vs one document per chunk of 1,000 rows: insert, read back in
   row order, fix one row (10,000 and 100,000 checked rows of the sample client);
2. how big one transaction may be: the import's update plus N MB of outbox records in ONE
   transaction, for growing N, until the server refuses.

    source /work/shared-servers/env.sh   # or make infra-up
    uv run python bench/bench_importer_storage.py [--rows 10000,100000] [--mb 8,16,24,32,40,48]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from typing import Any

from bson import Binary, ObjectId
from pymongo import AsyncMongoClient, WriteConcern
from pymongo.errors import OperationFailure
from pymongo.read_concern import ReadConcern

from portal_importer.adapters.documents import row_to_document
from portal_importer.domain.validation import check_row
from portal_importer.entrypoints.cli import offline_context
from portal_importer.samples import client_row


async def rows_layout(db: Any, count: int, chunk: int) -> str:
    context = offline_context()
    rows = [
        row_to_document("imp", "r1", check_row(n + 2, client_row(n), context, keep_client=True))
        for n in range(1, count + 1)
    ]
    collection = db[f"rows_{count}_{chunk}"]
    await collection.create_index([("import_id", 1), ("rows_id", 1), ("row", 1)], unique=True)
    if chunk:
        docs = [
            {
                "import_id": "imp",
                "rows_id": "r1",
                "row": rows[i]["row"],
                "rows": rows[i : i + chunk],
            }
            for i in range(0, count, chunk)
        ]
        per_insert = 2
    else:
        docs, per_insert = rows, 1000
    started = time.perf_counter()
    for i in range(0, len(docs), per_insert):
        await collection.insert_many(docs[i : i + per_insert])
    inserted = time.perf_counter()
    read = [d async for d in collection.find({"import_id": "imp", "rows_id": "r1"}).sort("row", 1)]
    done = time.perf_counter()
    target = rows[count // 2]["row"]
    if chunk:
        holder = await collection.find_one(
            {"import_id": "imp", "rows_id": "r1", "row": {"$lte": target}}, sort=[("row", -1)]
        )
        assert holder is not None
        await collection.update_one(
            {"_id": holder["_id"], "rows.row": target}, {"$set": {"rows.$.email": "x@y.be"}}
        )
    else:
        await collection.update_one(
            {"import_id": "imp", "rows_id": "r1", "row": target}, {"$set": {"email": "x@y.be"}}
        )
    fixed = time.perf_counter()
    assert len(read) == len(docs)
    layout = f"{chunk} rows a document" if chunk else "1 row a document"
    return (
        f"  {count:>7,} rows, {layout:<20} insert {inserted - started:6.2f} s   "
        f"read {done - inserted:6.2f} s   fix one row {fixed - done:6.3f} s"
    )


async def transaction_of(client: Any, db: Any, megabytes: int) -> str:
    outbox, imports = db[f"outbox_{megabytes}"], db[f"imports_{megabytes}"]
    await imports.insert_one({"_id": "imp", "revision": 0})
    body = Binary(os.urandom(512 * 1024))  # one ImportValidated chunk at its maximum
    events = [
        {"type": "ImportValidated", "id": str(uuid.uuid4()), "key": "imp", "body": body}
        for _ in range(megabytes * 2)
    ]
    records = [{"_id": ObjectId(), "events": events[i : i + 15]} for i in range(0, len(events), 15)]

    async def work(session: Any) -> None:
        await imports.update_one(
            {"_id": "imp", "revision": 0}, {"$inc": {"revision": 1}}, session=session
        )
        await outbox.insert_many(records, session=session)

    started = time.perf_counter()
    try:
        async with client.start_session() as session:
            await session.with_transaction(
                work, read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority")
            )
    except OperationFailure as exc:
        return f"  {megabytes:>3} MB in one transaction: REFUSED ({exc.code}: {str(exc)[:90]})"
    return f"  {megabytes:>3} MB in one transaction: committed in {time.perf_counter() - started:.2f} s"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="10000,100000")
    parser.add_argument("--mb", default="8,16,24,32,40,48")
    args = parser.parse_args()
    client: AsyncMongoClient[Any] = AsyncMongoClient(os.environ["MONGODB_URI"], tz_aware=True)
    db = client[f"bench_storage_{uuid.uuid4().hex[:8]}"]
    print(f"importer storage: {os.cpu_count()} CPU(s), load {os.getloadavg()[0]:.2f}")
    try:
        for count in (int(n) for n in args.rows.split(",")):
            for chunk in (0, 1000):
                print(await rows_layout(db, count, chunk), flush=True)
        for megabytes in (int(n) for n in args.mb.split(",")):
            print(await transaction_of(client, db, megabytes), flush=True)
    finally:
        await client.drop_database(db.name)
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
