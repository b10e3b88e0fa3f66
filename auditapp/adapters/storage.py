"""Where photo evidence is kept: a small storage interface, on local disk or on S3.

Keys are relative, content-addressed paths built by ``photo_key`` (``originals/ab/cd/<sha256>.jpg``,
``display/...``, ``thumbs/...``), validated on every call so that no key can leave the storage
root. Writes are durable before they return: an acknowledged upload must survive a crash.
``storage_from_config`` picks the backend from a URL (``file:///srv/photos``, a plain path, or
``s3://bucket/prefix``). boto3 is optional and imported only when S3 is configured.

When the storage itself fails (S3 answering 5xx, unreachable, timing out) the backends raise
``StorageUnavailable``: the API answers 503 with a retry hint, and since an upload stores the
file before it records a row, a refused upload leaves nothing half-stored.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

#: The kinds of stored copies, each a top-level folder.
KINDS = ("originals", "display", "thumbs")
_KEY = re.compile(r"[a-z0-9][a-z0-9._-]*(?:/[a-z0-9][a-z0-9._-]*)*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXTENSION = re.compile(r"[a-z0-9]{1,5}")
_MAX_KEY_LENGTH = 512


class StorageKeyError(ValueError):
    """A key that is not a safe relative path of ``[a-z0-9/._-]``."""


class PhotoNotFound(KeyError):
    """No object is stored under the key."""


class StorageUnavailable(RuntimeError):
    """The storage did not answer, or answered with a server error; worth retrying later."""

    #: Seconds a client should wait before retrying.
    retry_after = 10


@runtime_checkable
class PhotoStorage(Protocol):
    """Byte storage for photos, addressed by validated keys."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` durably, replacing any previous object atomically."""
        ...

    def get(self, key: str) -> bytes:
        """Return the bytes stored under ``key``; raise ``PhotoNotFound`` if there are none."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Return a readable binary stream of the object; raise ``PhotoNotFound`` if absent."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object under ``key``; removing an absent object is not an error."""
        ...

    def size(self, key: str) -> int:
        """The object's size in bytes; raise ``PhotoNotFound`` if absent."""
        ...

    def walk(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """``(key, last modified)`` of every object under the folder ``prefix``."""
        ...


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key, else raise ``StorageKeyError``.

    Allowed: lowercase letters, digits, ``.``, ``_`` and ``-`` in ``/``-separated segments; no
    empty, ``.`` or ``..`` segment, no leading ``/`` and no segment starting with a dot.
    """
    if (
        not isinstance(key, str)
        or len(key) > _MAX_KEY_LENGTH
        or not _KEY.fullmatch(key)
        or any(part in (".", "..") for part in key.split("/"))
    ):
        raise StorageKeyError(f"invalid storage key: {key!r}")
    return key


def photo_key(kind: str, sha256: str, extension: str) -> str:
    """The content-addressed key of a stored copy, e.g. ``originals/ab/cd/<sha256>.jpg``."""
    if kind not in KINDS:
        raise StorageKeyError(f"unknown kind of copy: {kind!r}")
    if not _SHA256.fullmatch(sha256):
        raise StorageKeyError(f"not a lowercase hex sha256: {sha256!r}")
    if not _EXTENSION.fullmatch(extension):
        raise StorageKeyError(f"invalid extension: {extension!r}")
    return f"{kind}/{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}"


class LocalStorage:
    """Photos as files under a root directory, written atomically and fsynced."""

    def __init__(self, root: Path | str) -> None:
        """Use ``root`` (created if missing) as the storage directory."""
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        """Show where the files live."""
        return f"LocalStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """The file that holds ``key`` (for serving with ``send_file``)."""
        return self.root.joinpath(*validate_key(key).split("/"))

    def _any_path(self, key: str) -> Path:
        """The file of ``key``, or of a leftover temporary file ``walk`` reported (its folder
        a valid key, its name ``.tmp-*.part``)."""
        folder, _, name = key.rpartition("/")
        if folder and name.startswith(".tmp-") and name.endswith(".part") and "/" not in name:
            return self.path(folder) / name
        return self.path(key)

    def put(self, key: str, data: bytes) -> None:
        """Write to a temporary file beside the target, fsync it, rename it over, fsync the dir.

        A reader sees the old object or the new one, never a partial file, and once this returns
        the object survives a power cut.
        """
        target = self.path(key)
        created = self._make_parents(target.parent)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(target.parent)
        # New directories must be recorded in their parents too.
        for directory in created:
            _fsync_dir(directory.parent)

    def get(self, key: str) -> bytes:
        """Read the whole object."""
        with self.open(key) as stream:
            return stream.read()

    def open(self, key: str) -> BinaryIO:
        """Open the object's file for reading."""
        try:
            return self.path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise PhotoNotFound(key) from exc

    def exists(self, key: str) -> bool:
        """Whether the object's file exists."""
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the object's file and make the removal durable."""
        target = self._any_path(key)
        try:
            target.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(target.parent)

    def size(self, key: str) -> int:
        """The file's size in bytes."""
        try:
            return self.path(key).stat().st_size
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise PhotoNotFound(key) from exc

    def walk(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """``(key, modified)`` of the files under the folder ``prefix`` (temporary files left by
        an interrupted ``put`` included: they are named ``.tmp-*.part``, not valid keys, and are
        reported under their path so a clean-up can remove them)."""
        base = self.path(prefix)
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file():
                key = path.relative_to(self.root).as_posix()
                yield key, datetime.fromtimestamp(path.stat().st_mtime, UTC)

    def _make_parents(self, directory: Path) -> list[Path]:
        """Create ``directory`` and missing parents below the root; return those created."""
        missing: list[Path] = []
        current = directory
        while current != self.root and not current.exists():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            with contextlib.suppress(FileExistsError):
                path.mkdir()
        return list(reversed(missing))


def _fsync_dir(directory: Path) -> None:
    """Flush a directory entry change (a rename, a new file) to disk."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms that cannot open directories (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems that refuse fsync on directories
        pass
    finally:
        os.close(fd)


class S3Storage:
    """Photos as objects in an S3 (or S3-compatible) bucket under a key prefix.

    ``client`` is a boto3 S3 client; S3 acknowledges a put only once the object is stored
    durably, and objects are replaced atomically.
    """

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        """Use ``bucket``/``prefix`` through ``client`` (a boto3 S3 client made if omitted)."""
        if not bucket:
            raise ValueError("an S3 bucket name is required")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            validate_key(self.prefix)
        self.client = client if client is not None else _make_s3_client()

    def __repr__(self) -> str:
        """Show the bucket and prefix."""
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def object_key(self, key: str) -> str:
        """The S3 object key of a storage key."""
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        """Upload the object in one request; S3 replaces objects atomically."""
        name = self.object_key(key)
        with self._unavailable():
            self.client.put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentType=_content_type(key)
            )

    def get(self, key: str) -> bytes:
        """Download the whole object."""
        name = self.object_key(key)
        with self._unavailable(), self._not_found(key):
            response = self.client.get_object(Bucket=self.bucket, Key=name)
            body = response["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

    def open(self, key: str) -> BinaryIO:
        """Return the object's bytes as a stream (photos are small enough to hold)."""
        return io.BytesIO(self.get(key))

    def exists(self, key: str) -> bool:
        """Whether the object exists (a HEAD request)."""
        try:
            self.size(key)
        except PhotoNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        """Delete the object (S3 does not complain about absent ones)."""
        name = self.object_key(key)
        with self._unavailable():
            self.client.delete_object(Bucket=self.bucket, Key=name)

    def size(self, key: str) -> int:
        """The object's size from a HEAD request."""
        name = self.object_key(key)
        with self._unavailable(), self._not_found(key):
            response = self.client.head_object(Bucket=self.bucket, Key=name)
        return int(response["ContentLength"])

    def walk(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """``(key, last modified)`` of the objects under the folder ``prefix``."""
        start = f"{self.object_key(prefix)}/"
        paginator = self.client.get_paginator("list_objects_v2")
        with self._unavailable():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
                for entry in page.get("Contents", []):
                    name = str(entry["Key"])
                    key = name[len(self.prefix) + 1 :] if self.prefix else name
                    yield key, entry["LastModified"]

    @contextlib.contextmanager
    def _unavailable(self) -> Iterator[None]:
        """Turn server errors, timeouts and refused connections into ``StorageUnavailable``."""
        try:
            yield
        except PhotoNotFound:
            raise
        except Exception as exc:
            error = getattr(exc, "response", None)
            status = 0
            if isinstance(error, dict):
                status = int(error.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            # botocore's connection and timeout errors carry no response at all.
            if status >= 500 or (error is None and type(exc).__module__.startswith("botocore")):
                raise StorageUnavailable(f"photo storage unavailable: {exc}") from exc
            raise

    @contextlib.contextmanager
    def _not_found(self, key: str) -> Iterator[None]:
        """Turn S3's 404 / NoSuchKey client errors into ``PhotoNotFound``."""
        try:
            yield
        except Exception as exc:
            error = getattr(exc, "response", None)
            code = str(error.get("Error", {}).get("Code", "")) if isinstance(error, dict) else ""
            if code in ("404", "NoSuchKey", "NotFound"):
                raise PhotoNotFound(key) from exc
            raise


def _content_type(key: str) -> str:
    """The media type to record for an object, from its key's extension."""
    extension = key.rsplit(".", 1)[-1]
    return {
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "png": "image/png",
        "webp": "image/webp",
        "heic": "image/heic",
    }.get(extension, "application/octet-stream")


def _make_s3_client() -> Any:
    """A boto3 S3 client, with the endpoint from AUDITAPP_S3_ENDPOINT_URL when set (MinIO)."""
    try:
        import boto3
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError("S3 photo storage needs boto3: install auditapp[s3]") from exc
    from botocore.config import Config

    endpoint = os.environ.get("AUDITAPP_S3_ENDPOINT_URL") or None
    # A few quick retries, then StorageUnavailable: the client retries the upload itself, and a
    # request hanging for a minute on a sick storage would hold a web worker hostage.
    config = Config(
        retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30
    )
    return boto3.client("s3", endpoint_url=endpoint, config=config)


def storage_from_config(url: str, *, s3_client: Any = None) -> PhotoStorage:
    """Build the storage named by ``url``: ``file:///path`` or a path, or ``s3://bucket/prefix``.

    ``s3_client`` overrides the boto3 client that would be made for an S3 URL.
    """
    if not url:
        raise ValueError("no photo storage configured")
    parts = urlsplit(url)
    if parts.scheme == "s3":
        return S3Storage(parts.netloc, parts.path, client=s3_client)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"file URL with a remote host: {url!r}")
        return LocalStorage(Path(unquote(parts.path)))
    if parts.scheme and len(parts.scheme) > 1:
        # (A one-letter "scheme" is a Windows drive letter.)
        raise ValueError(f"unsupported photo storage URL: {url!r}")
    return LocalStorage(Path(url))
