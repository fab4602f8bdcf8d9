"""The documents' files, read from the platform's blob store (the claim check of DocumentReady).

The ubl service stores each UBL and PDF in a GridFS bucket and announces them by id and sha256;
delivery only reads them, by id, and checks the bytes against the announced sha256. The bucket is
the platform's object store (as S3 would be), configured by ``DELIVERY_BLOB_DATABASE`` and
``DELIVERY_BLOB_BUCKET``. A file that is gone — the document was deleted — reads as None, and the
delivery is cancelled rather than sent.
"""

from __future__ import annotations

import hashlib

from bson import ObjectId
from bson.errors import InvalidId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.database import AsyncDatabase

from portal_delivery.domain.delivery import FileRef
from portal_servicekit.mongo import Document


class FileChanged(Exception):
    """The stored bytes do not match the sha256 announced for them."""


class GridFsDocumentFiles:
    def __init__(self, db: AsyncDatabase[Document], bucket: str) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=bucket)

    async def read(self, file: FileRef) -> bytes | None:
        try:
            stream = await self.bucket.open_download_stream(ObjectId(file.blob_id))
        except (NoFile, InvalidId):
            return None
        data: bytes = await stream.read()
        if hashlib.sha256(data).hexdigest() != file.sha256:
            raise FileChanged(file.blob_id)
        return data
