"""custody log, alert lifecycle, legal holds, digests, retention purges

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 08:40:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UtcDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "custody_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_log")),
        sa.UniqueConstraint("seq", name=op.f("uq_custody_log_seq")),
    )
    with op.batch_alter_table("custody_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custody_log_event"), ["event"], unique=False)
        batch_op.create_index("ix_custody_log_subject", ["subject_type", "subject_id"], unique=False)

    op.create_table(
        "alert_lifecycle",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", UtcDateTime, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", UtcDateTime, nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("resolve_note", sa.Text(), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("escalated_at", UtcDateTime, nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_lifecycle_alert_id_alerts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert_lifecycle")),
    )

    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=200), nullable=False),
        sa.Column("placed_at", UtcDateTime, nullable=False),
        sa.Column("lifted_by", sa.String(length=200), nullable=True),
        sa.Column("lifted_at", UtcDateTime, nullable=True),
        sa.Column("lift_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_legal_holds_item_id_items"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_holds_item_id"), ["item_id"], unique=False)

    op.create_table(
        "digest_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=100), nullable=False),
        sa.Column("sent_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_entries")),
        sa.UniqueConstraint("kind", "subject_id", name=op.f("uq_digest_entries_kind")),
    )

    op.create_table(
        "item_purges",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("purged_at", UtcDateTime, nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_item_purges_item_id_items"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_purges")),
    )


def downgrade() -> None:
    op.drop_table("item_purges")
    op.drop_table("digest_entries")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_holds_item_id"))
    op.drop_table("legal_holds")
    op.drop_table("alert_lifecycle")
    with op.batch_alter_table("custody_log", schema=None) as batch_op:
        batch_op.drop_index("ix_custody_log_subject")
        batch_op.drop_index(batch_op.f("ix_custody_log_event"))
    op.drop_table("custody_log")
