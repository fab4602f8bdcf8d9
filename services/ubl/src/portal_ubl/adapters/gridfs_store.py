"""PDFs and UBL files in MongoDB GridFS, each with its sha256 (the claim check of DocumentReady).

The same bytes under the same name are stored once: a retried intake reuses the blob it left.
"""

from __future__ import annotations

import hashlib
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.database import AsyncDatabase

from portal_ubl.domain.document import Blob


class BlobNotFound(LookupError):
    pass


class GridFsBlobStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], bucket: str = "blobs") -> None:
        self._bucket = AsyncGridFSBucket(db, bucket_name=bucket)
        self._files = db[f"{bucket}.files"]

    async def ensure_indexes(self) -> None:
        await self._files.create_index([("metadata.sha256", 1), ("filename", 1)])

    async def put(self, data: bytes, *, filename: str, media_type: str) -> Blob:
        sha = hashlib.sha256(data).hexdigest()
        found = await self._files.find_one(
            {"metadata.sha256": sha, "filename": filename, "length": len(data)}
        )
        if found is not None:
            blob_id = found["_id"]
        else:
            blob_id = await self._bucket.upload_from_stream(
                filename, data, metadata={"sha256": sha, "media_type": media_type}
            )
        return Blob(str(blob_id), sha, len(data), filename, media_type)

    async def get(self, blob_id: str) -> bytes:
        try:
            stream = await self._bucket.open_download_stream(ObjectId(blob_id))
        except (NoFile, InvalidId) as exc:
            raise BlobNotFound(blob_id) from exc
        data: bytes = await stream.read()
        return data
