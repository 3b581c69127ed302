"""Whole-site backups: one ``.tar.gz`` holding the database content as JSON and the uploaded media.

The archive holds ``manifest.json`` (format, time, row counts per model), ``data.json`` (Django's
JSON serialization of every model of the ``accounts`` and ``blog`` apps plus auth groups, primary
keys kept, foreign keys to users, groups and permissions as natural keys so the file loads into a
database whose permission ids differ) and ``media/`` (everything under MEDIA_ROOT). Every model of
those apps is included, so models added later (comments, reader days) are backed up with no
change here. User rows include password hashes: keep archives private.
"""

import datetime
import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.contrib.auth.models import Group
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from caching.generation import content_changed

from .db import reset_sequences

FORMAT = 1
APP_LABELS = ("accounts", "blog")
MANIFEST, DATA, MEDIA = "manifest.json", "data.json", "media"


class ExactJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds (it cuts them to milliseconds)."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


class BackupError(Exception):
    """A backup cannot be written or restored; the message says why, for the command line."""


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=dict)
    media_files: int = 0
    media_bytes: int = 0

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def backup_models() -> list:
    """The models a backup holds, in an order that loads (referenced models first)."""
    app_list = [(apps.get_app_config(label), None) for label in APP_LABELS]
    app_list.append((apps.get_app_config("auth"), [Group]))
    return serializers.sort_dependencies(app_list, allow_cycles=True)


def media_files(media_root: Path) -> list[Path]:
    if not media_root.is_dir():
        return []
    return sorted(path for path in media_root.rglob("*") if path.is_file())


def summarise(media_root: Path) -> Summary:
    """What a backup made now would hold."""
    files = media_files(media_root)
    return Summary(
        counts={model._meta.label: model._base_manager.count() for model in backup_models()},
        media_files=len(files),
        media_bytes=sum(path.stat().st_size for path in files),
    )


def write_backup(destination: Path, media_root: Path, *, include_media: bool = True) -> Summary:
    """Write the archive to ``destination`` atomically (a temporary file, then a rename)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    # One transaction: on PostgreSQL a repeatable snapshot, so rows and counts agree.
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        models = backup_models()
        summary = Summary(counts={model._meta.label: 0 for model in models})
        rows = []
        for model in models:
            queryset = model._base_manager.order_by("pk")
            rows.extend(
                json.loads(
                    serializers.serialize(
                        "json",
                        queryset.iterator(),
                        use_natural_foreign_keys=True,
                        cls=ExactJSONEncoder,
                    )
                )
            )
            summary.counts[model._meta.label] = queryset.count()
    files = media_files(media_root) if include_media else []
    summary.media_files = len(files)
    summary.media_bytes = sum(path.stat().st_size for path in files)
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "counts": summary.counts,
        "media_files": summary.media_files,
    }
    handle, temporary = tempfile.mkstemp(dir=destination.parent, suffix=".partial")
    os.close(handle)
    try:
        with tarfile.open(temporary, "w:gz") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
            _add_bytes(archive, DATA, json.dumps(rows, ensure_ascii=False).encode())
            for path in files:
                archive.add(path, arcname=f"{MEDIA}/{path.relative_to(media_root).as_posix()}")
        os.chmod(temporary, 0o600)  # password hashes inside
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return summary


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(content))


def existing_rows() -> dict[str, int]:
    """Rows already present in the models a restore would fill (empty dict: safe to restore)."""
    counts = {model._meta.label: model._base_manager.count() for model in backup_models()}
    return {label: count for label, count in counts.items() if count}


def restore_backup(
    source: Path, media_root: Path, *, flush: bool = False, dry_run: bool = False
) -> Summary:
    """Load an archive written by ``write_backup`` into this database, and its media.

    Refuses a database that already holds any of the backed-up rows unless ``flush`` is given,
    which deletes them first. All database work is one transaction: it lands whole or not at
    all (``dry_run`` rolls it back after checking every row loads and every count matches).
    """
    if not (source.is_file() and tarfile.is_tarfile(source)):
        raise BackupError(f"{source} is not a readable .tar.gz backup.")
    with tarfile.open(source, "r:gz") as archive:
        manifest = _read_json(archive, MANIFEST)
        if manifest.get("format") != FORMAT:
            raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
        data = archive.extractfile(DATA).read()
        media_members = _media_members(archive)
        with transaction.atomic():
            present = existing_rows()
            if present and not flush:
                listing = ", ".join(f"{count} {label}" for label, count in present.items())
                raise BackupError(
                    f"The database is not empty ({listing}). Restore into an empty database, "
                    "or pass --flush to delete these rows first."
                )
            if present:
                _delete_all()
            summary = _load(data)
            loaded = {label: count for label, count in summary.counts.items() if count}
            expected = {label: count for label, count in manifest["counts"].items() if count}
            if loaded != expected:
                raise BackupError(f"Row counts differ from the manifest: {loaded} != {expected}")
            _reset_sequences()
            if dry_run:
                transaction.set_rollback(True)
        summary.media_files = len(media_members)
        summary.media_bytes = sum(member.size for member in media_members)
        if not dry_run:
            _extract_media(archive, media_members, media_root)
            content_changed()
    return summary


def _read_json(archive: tarfile.TarFile, name: str):
    try:
        return json.loads(archive.extractfile(name).read())
    except (KeyError, AttributeError, ValueError) as exc:
        raise BackupError(f"The archive has no valid {name}.") from exc


def _media_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = []
    for member in archive.getmembers():
        if member.name in {MANIFEST, DATA}:
            continue
        path = PurePosixPath(member.name)
        if (
            path.parts[:1] != (MEDIA,)
            or path.is_absolute()
            or ".." in path.parts
            or not member.isfile()
        ):
            raise BackupError(f"Refusing unexpected archive member {member.name!r}.")
        members.append(member)
    return members


def _delete_all() -> None:
    for model in reversed(backup_models()):
        model._base_manager.all().delete()


def _load(data: bytes) -> Summary:
    summary = Summary(counts={model._meta.label: 0 for model in backup_models()})
    deferred = []
    objects = serializers.deserialize(
        "json", data.decode(), handle_forward_references=True, ignorenonexistent=False
    )
    for deserialized in objects:
        deserialized.save()
        if deserialized.deferred_fields:
            deferred.append(deserialized)
        label = deserialized.object._meta.label
        summary.counts[label] = summary.counts.get(label, 0) + 1
    for deserialized in deferred:
        deserialized.save_deferred_fields()
    return summary


def _reset_sequences() -> None:
    """PostgreSQL: point each id sequence past the restored ids so new rows get fresh ones."""
    models = backup_models()
    models += [
        f.remote_field.through
        for model in models
        for f in model._meta.local_many_to_many
        if f.remote_field.through._meta.auto_created
    ]
    reset_sequences(*models)


def _extract_media(
    archive: tarfile.TarFile, members: list[tarfile.TarInfo], media_root: Path
) -> None:
    media_root.mkdir(parents=True, exist_ok=True)
    for member in members:
        target = media_root / PurePosixPath(member.name).relative_to(MEDIA)
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.extractfile(member) as source, open(target, "wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
