"""Photo uploads (multipart) and photos as the reader may see them."""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, post_load, validate

from auditapp.schemas.common import ApiSchema, Id
from auditapp.services.photos import DisputePhoto, EvidencePhoto


class PhotoFile(Upload):
    """The ``file`` part of a multipart upload (documented as binary)."""

    default_error_messages = {"required": "Send the photo as multipart field 'file'."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not hasattr(value, "read"):
            raise ValidationError("Send the photo as a file part, not as a text field.")
        return value


def _read(upload: Any) -> bytes:
    """The uploaded file's bytes; an empty file is refused on the ``file`` field."""
    data = upload.read()
    if not data:
        raise ValidationError("The file is empty.", "file")
    return bytes(data)


class PhotoUploadSchema(ApiSchema):
    """A photo file and the form fields that come with it (multipart/form-data)."""

    file = PhotoFile(required=True, metadata={"description": "JPEG, PNG, WebP or HEIC"})
    assignment_id = Id(required=True)
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    photo_uuid = fields.UUID(required=True)

    @post_load
    def _upload(self, data: dict[str, Any], **_: Any) -> EvidencePhoto:
        return EvidencePhoto(
            data["assignment_id"], data["item_id"], data["photo_uuid"], _read(data["file"])
        )


class DisputePhotoUploadSchema(ApiSchema):
    """A manager's dispute photo and its form fields (multipart/form-data)."""

    file = PhotoFile(required=True, metadata={"description": "JPEG, PNG, WebP or HEIC"})
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    photo_uuid = fields.UUID(required=True)

    @post_load
    def _upload(self, data: dict[str, Any], **_: Any) -> DisputePhoto:
        return DisputePhoto(data["item_id"], data["photo_uuid"], _read(data["file"]))


class PhotoSchema(ApiSchema):
    """A photo as everyone may see it (no EXIF data, no file names).

    Photo schemas dump a ``visibility.PhotoView``: a field the reader may not see is absent.
    """

    id = fields.Integer()
    item_id = fields.String()
    purpose = fields.String()
    status = fields.String(metadata={"description": "processing, ready or failed"})
    width = fields.Integer()
    height = fields.Integer()
    error = fields.String(allow_none=True)


class PhotoQASchema(PhotoSchema):
    """A photo with what only QA sees: capture time, GPS, the reuse verdict. The shopper gets
    the receipt of their own uploads (photo id, hash, format, size, times) and nothing else of
    these; see the role table in docs/security.md."""

    client_uuid = fields.UUID()
    sha256 = fields.String()
    format = fields.String()
    byte_size = fields.Integer()
    captured_at = fields.DateTime(allow_none=True)
    gps_lat = fields.Float(allow_none=True)
    gps_lon = fields.Float(allow_none=True)
    reuse_kind = fields.String(allow_none=True)
    reused_from_photo_id = Id(allow_none=True)
    uploaded_at = fields.DateTime()
    withdrawn_at = fields.DateTime(allow_none=True)
