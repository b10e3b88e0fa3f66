"""Unit tests of photo storage (auditapp.adapters.storage): local disk, S3 (moto) and config."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from auditapp.adapters import storage as storage_module
from auditapp.adapters.storage import (
    LocalStorage,
    PhotoNotFound,
    PhotoStorage,
    S3Storage,
    StorageKeyError,
    StorageUnavailable,
    photo_key,
    storage_from_config,
    validate_key,
)

SHA = hashlib.sha256(b"photo").hexdigest()
KEY = f"originals/{SHA[:2]}/{SHA[2:4]}/{SHA}.jpg"


# --- keys ----------------------------------------------------------------------------------


def test_photo_key_is_content_addressed():
    assert photo_key("originals", SHA, "jpg") == KEY
    assert photo_key("thumbs", SHA, "jpg").startswith(f"thumbs/{SHA[:2]}/{SHA[2:4]}/")
    assert validate_key(photo_key("display", SHA, "jpg"))


@pytest.mark.parametrize(
    ("kind", "sha", "extension"),
    [
        ("secrets", SHA, "jpg"),
        ("originals", SHA.upper(), "jpg"),
        ("originals", SHA[:-1], "jpg"),
        ("originals", SHA, "j/pg"),
        ("originals", SHA, ""),
    ],
)
def test_photo_key_rejects_bad_parts(kind: str, sha: str, extension: str):
    with pytest.raises(StorageKeyError):
        photo_key(kind, sha, extension)


@pytest.mark.parametrize(
    "key",
    ["originals/ab/cd/x.jpg", "thumbs/a-b_c.d", "display/0/1/2.jpeg", "a"],
)
def test_valid_keys(key: str):
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../escape.jpg",
        "originals/../../escape.jpg",
        "originals/./x.jpg",
        "originals//x.jpg",
        "originals/x.jpg/",
        "originals/.hidden",
        "Originals/X.JPG",
        "originals\\x.jpg",
        "c:/x.jpg",
        "originals/x y.jpg",
        "originals/x.jpg\0",
        "originals/\u0445.jpg",
        "a" * 600,
    ],
)
def test_invalid_keys_are_rejected_everywhere(key: str, tmp_path: Path):
    storage = LocalStorage(tmp_path)

    with pytest.raises(StorageKeyError):
        validate_key(key)
    for call in (
        lambda: storage.put(key, b"x"),
        lambda: storage.get(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.size(key),
    ):
        with pytest.raises(StorageKeyError):
            call()
    assert list(tmp_path.iterdir()) == []


# --- local storage -------------------------------------------------------------------------


def test_local_round_trip(tmp_path: Path):
    storage = LocalStorage(tmp_path / "photos")

    storage.put(KEY, b"jpeg bytes")

    assert isinstance(storage, PhotoStorage)
    assert storage.exists(KEY)
    assert storage.get(KEY) == b"jpeg bytes"
    assert storage.size(KEY) == len(b"jpeg bytes")
    with storage.open(KEY) as stream:
        assert stream.read() == b"jpeg bytes"
    assert (tmp_path / "photos" / KEY).read_bytes() == b"jpeg bytes"
    storage.delete(KEY)
    assert not storage.exists(KEY)
    storage.delete(KEY)  # deleting again is not an error


def test_local_missing_object(tmp_path: Path):
    storage = LocalStorage(tmp_path)

    assert not storage.exists(KEY)
    for call in (storage.get, storage.open, storage.size):
        with pytest.raises(PhotoNotFound):
            call(KEY)
    assert isinstance(PhotoNotFound(KEY), KeyError)


def test_local_put_replaces_atomically_and_leaves_no_temp_files(tmp_path: Path):
    storage = LocalStorage(tmp_path)

    storage.put(KEY, b"first")
    storage.put(KEY, b"second")

    assert storage.get(KEY) == b"second"
    assert [p.name for p in (tmp_path / KEY).parent.iterdir()] == [Path(KEY).name]


def test_local_put_fsyncs_the_file_and_its_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    storage = LocalStorage(tmp_path)

    storage.put(KEY, b"data")

    # The file, its directory, and the parents of the three directories created for it.
    assert synced[0] == "file"
    assert synced.count("dir") == 4


def test_local_put_is_durable_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def recording_fsync(fd: int) -> None:
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def recording_replace(src: Any, dst: Any) -> None:
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    storage = LocalStorage(tmp_path)
    storage.put(KEY, b"old")
    events.clear()

    storage.put(KEY, b"new")

    assert events == ["fsync-file", "replace", "fsync-dir"]


def test_local_failed_put_keeps_the_old_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    storage = LocalStorage(tmp_path)
    storage.put(KEY, b"old")

    def failing_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        storage.put(KEY, b"new")

    monkeypatch.undo()
    assert storage.get(KEY) == b"old"
    assert [p.name for p in (tmp_path / KEY).parent.iterdir()] == [Path(KEY).name]


def test_local_path_stays_under_the_root(tmp_path: Path):
    storage = LocalStorage(tmp_path)

    assert storage.path(KEY) == tmp_path.resolve() / KEY
    assert storage.path(KEY).is_relative_to(storage.root)


# --- S3 ------------------------------------------------------------------------------------


@pytest.fixture
def s3_client(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A boto3 client talking to moto's in-memory S3, with a 'photos' bucket."""
    boto3 = pytest.importorskip("boto3", reason="boto3 is an optional dependency (extra s3)")
    moto = pytest.importorskip("moto", reason="moto is needed for the S3 tests")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="photos")
        yield client


def test_s3_round_trip(s3_client: Any):
    storage = S3Storage("photos", "audits/prod", client=s3_client)

    storage.put(KEY, b"jpeg bytes")

    assert isinstance(storage, PhotoStorage)
    assert storage.exists(KEY)
    assert storage.get(KEY) == b"jpeg bytes"
    assert storage.size(KEY) == len(b"jpeg bytes")
    assert storage.open(KEY).read() == b"jpeg bytes"
    stored = s3_client.get_object(Bucket="photos", Key=f"audits/prod/{KEY}")
    assert stored["ContentType"] == "image/jpeg"
    storage.delete(KEY)
    assert not storage.exists(KEY)
    storage.delete(KEY)


def test_s3_missing_object(s3_client: Any):
    storage = S3Storage("photos", "", client=s3_client)

    assert not storage.exists(KEY)
    for call in (storage.get, storage.open, storage.size):
        with pytest.raises(PhotoNotFound):
            call(KEY)


def test_s3_other_errors_propagate(s3_client: Any):
    storage = S3Storage("no-such-bucket", "", client=s3_client)

    with pytest.raises(Exception) as raised:
        storage.put(KEY, b"x")

    assert not isinstance(raised.value, PhotoNotFound)


def test_s3_keys_are_validated():
    storage = S3Storage("photos", "p", client=object())

    with pytest.raises(StorageKeyError):
        storage.get("../other-prefix/x.jpg")
    with pytest.raises(StorageKeyError):
        S3Storage("photos", "../up", client=object())


class FakeS3Client:
    """Just enough of boto3's S3 client to check the calls without boto3 installed."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, **_: Any) -> None:  # noqa: N803
        self.objects[Bucket, Key] = Body

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        import io

        self._check(Bucket, Key, "NoSuchKey")
        return {"Body": io.BytesIO(self.objects[Bucket, Key])}

    def head_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        self._check(Bucket, Key, "404")
        return {"ContentLength": len(self.objects[Bucket, Key])}

    def delete_object(self, *, Bucket: str, Key: str) -> None:  # noqa: N803
        self.objects.pop((Bucket, Key), None)

    def _check(self, bucket: str, key: str, code: str) -> None:
        if (bucket, key) not in self.objects:
            error = Exception(code)
            error.response = {"Error": {"Code": code}}  # type: ignore[attr-defined]
            raise error


def test_s3_with_a_fake_client():
    client = FakeS3Client()
    storage = S3Storage("b", "/pre/", client=client)

    storage.put(KEY, b"abc")

    assert client.objects == {("b", f"pre/{KEY}"): b"abc"}
    assert (storage.get(KEY), storage.size(KEY), storage.exists(KEY)) == (b"abc", 3, True)
    storage.delete(KEY)
    assert not storage.exists(KEY)
    with pytest.raises(PhotoNotFound):
        storage.get(KEY)


# --- configuration -------------------------------------------------------------------------


def test_config_file_url_and_plain_path(tmp_path: Path):
    from_url = storage_from_config(f"file://{tmp_path}/a")
    from_path = storage_from_config(str(tmp_path / "b"))

    assert isinstance(from_url, LocalStorage)
    assert from_url.root == (tmp_path / "a").resolve()
    assert isinstance(from_path, LocalStorage)
    assert from_path.root == (tmp_path / "b").resolve()


def test_config_s3_url_with_given_client():
    client = FakeS3Client()

    storage = storage_from_config("s3://evidence/photos/prod", s3_client=client)

    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix, storage.client) == ("evidence", "photos/prod", client)


def test_config_s3_url_builds_a_boto3_client_with_the_endpoint(monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("boto3", reason="boto3 is an optional dependency (extra s3)")
    monkeypatch.setenv("AUDITAPP_S3_ENDPOINT_URL", "http://minio.test:9000")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    storage = storage_from_config("s3://evidence")

    assert isinstance(storage, S3Storage)
    assert storage.prefix == ""
    assert storage.client.meta.endpoint_url == "http://minio.test:9000"


def test_boto3_is_imported_lazily():
    assert "boto3" not in vars(storage_module)


@pytest.mark.parametrize(
    "url", ["", "ftp://host/x", "https://bucket.example/x", "file://otherhost/x", "s3:///x"]
)
def test_config_rejects_unsupported_urls(url: str):
    with pytest.raises(ValueError):
        storage_from_config(url, s3_client=FakeS3Client())


def test_s3_walk_lists_keys_under_a_folder(s3_client: Any):
    storage = S3Storage("photos", "audits/prod", client=s3_client)
    other = KEY.replace("originals/", "thumbs/", 1)
    storage.put(KEY, b"a")
    storage.put(other, b"b")

    listed = dict(storage.walk("originals"))

    assert list(listed) == [KEY]
    assert listed[KEY].tzinfo is not None


def test_s3_server_errors_and_lost_connections_are_unavailable():
    from botocore.exceptions import ClientError, EndpointConnectionError

    class Failing:
        def __init__(self, error: Exception) -> None:
            self.error = error

        def put_object(self, **_: Any) -> None:
            raise self.error

        get_object = head_object = put_object

    server_error = ClientError(
        {"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
        "PutObject",
    )
    for error in (server_error, EndpointConnectionError(endpoint_url="http://s3.test")):
        storage = S3Storage("photos", "", client=Failing(error))
        with pytest.raises(StorageUnavailable):
            storage.put(KEY, b"x")
        with pytest.raises(StorageUnavailable):
            storage.get(KEY)
    # A client error (403, 404) is not the storage being down.
    denied = ClientError(
        {"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
        "PutObject",
    )
    with pytest.raises(ClientError):
        S3Storage("photos", "", client=Failing(denied)).put(KEY, b"x")


def test_local_walk_reports_files_and_leftover_temporary_files(tmp_path: Path):
    storage = LocalStorage(tmp_path)
    storage.put(KEY, b"a")
    leftover = storage.path(KEY).parent / ".tmp-x.part"
    leftover.write_bytes(b"half")

    keys = [key for key, _ in storage.walk("originals")]

    assert sorted(keys) == sorted([KEY, KEY.rsplit("/", 1)[0] + "/.tmp-x.part"])
    storage.delete(KEY.rsplit("/", 1)[0] + "/.tmp-x.part")
    assert not leftover.exists()
    assert storage.exists(KEY)
    assert list(storage.walk("thumbs")) == []
