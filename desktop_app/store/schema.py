"""The metadata schema, in SQLAlchemy Core; portable across SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = 3  # 2: packed_blobs; 3: blob_checksums

metadata_obj = MetaData()

schema_info = Table(
    "schema_info",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
)

projects = Table(
    "projects",
    metadata_obj,
    Column("id", Integer, primary_key=True),
    Column("name", String(260), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

runs = Table(
    "runs",
    metadata_obj,
    Column("id", String(64), primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False, index=True),
    Column("name", String(256)),
    Column("job_type", String(128)),
    Column("state", String(32), nullable=False),
    Column("config", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float),
)

collections = Table(
    "collections",
    metadata_obj,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("type", String(128), nullable=False),
    Column("description", Text),
    # Numbers handed out so far; bumping it under a row lock keeps versions dense.
    Column("version_count", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("project_id", "name", name="uq_collections_project_name"),
)

versions = Table(
    "versions",
    metadata_obj,
    Column("id", String(32), primary_key=True),
    Column("collection_id", Integer, ForeignKey("collections.id"), nullable=False),
    Column("idx", Integer),
    Column("digest", String(32), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("description", Text),
    Column("metadata", Text, nullable=False),
    Column("pending_aliases", Text, nullable=False),
    Column("logged_by", String(64), ForeignKey("runs.id")),
    # A draft found identical to the latest version at commit: the version it became.
    Column("same_as", String(32)),
    Column("created_at", Float, nullable=False),
    Column("committed_at", Float),
    UniqueConstraint("collection_id", "idx", name="uq_versions_collection_idx"),
    Index("ix_versions_collection_state", "collection_id", "state"),
)

entries = Table(
    "entries",
    metadata_obj,
    Column("version_id", String(32), ForeignKey("versions.id"), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("digest", Text, nullable=False),
    # Hex MD5 of stored entries (NULL for references): joins entries to blobs.
    Column("blob", String(32)),
    Column("size", BigInteger),
    Column("ref", Text),
    Column("extra", Text),
    Column("birth_artifact_id", String(64)),
    Index("ix_entries_blob", "blob"),
)

aliases = Table(
    "aliases",
    metadata_obj,
    Column("collection_id", Integer, ForeignKey("collections.id"), primary_key=True),
    Column("alias", String(128), primary_key=True),
    Column("version_id", String(32), ForeignKey("versions.id"), nullable=False, index=True),
)

tags = Table(
    "tags",
    metadata_obj,
    Column("version_id", String(32), ForeignKey("versions.id"), primary_key=True),
    Column("tag", String(128), primary_key=True),
)

usages = Table(
    "usages",
    metadata_obj,
    Column("run_id", String(64), ForeignKey("runs.id"), primary_key=True),
    Column("version_id", String(32), ForeignKey("versions.id"), primary_key=True, index=True),
    Column("created_at", Float, nullable=False),
)

blobs = Table(
    "blobs",
    metadata_obj,
    Column("digest", String(32), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Where a blob kept in a pack file lies: small blobs that arrive in a batch are stored
# together in one pack file (``packs/<pack>.pack``) instead of one file each. A blob with no
# row here is a file of its own.
packed_blobs = Table(
    "packed_blobs",
    metadata_obj,
    Column("digest", String(32), ForeignKey("blobs.digest"), primary_key=True),
    Column("pack", String(32), nullable=False, index=True),
    Column("pack_offset", BigInteger, nullable=False),
)

# The fast checksum (XXH3-128, hex) of a blob uploaded on its own, taken of the bytes the
# store had just verified against the digest: a client checks a large download against it
# instead of computing the MD5 again. Blobs stored before schema 3 have none.
blob_checksums = Table(
    "blob_checksums",
    metadata_obj,
    Column("digest", String(32), ForeignKey("blobs.digest"), primary_key=True),
    Column("xxh3", String(32), nullable=False),
)

# Which project may read a blob: one that uploaded it or committed a version holding it.
project_blobs = Table(
    "project_blobs",
    metadata_obj,
    Column("project_id", Integer, ForeignKey("projects.id"), primary_key=True),
    Column("digest", String(32), ForeignKey("blobs.digest"), primary_key=True, index=True),
)

events = Table(
    "events",
    metadata_obj,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(64), nullable=False),
    Column("project", String(260), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

# One row; bumping it serializes writers so that feed order equals commit order.
feed_head = Table(
    "feed_head",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
)
