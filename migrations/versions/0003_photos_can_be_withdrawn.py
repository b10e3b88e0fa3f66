"""photos can be withdrawn

A shopper may take back a wrong photo while the report is open; the row stays (for QA) with
the status 'withdrawn' and the time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:41:07.830644

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

OLD = "status IN ('processing', 'ready', 'failed')"
NEW = "status IN ('processing', 'ready', 'failed', 'withdrawn')"


def upgrade():
    with op.batch_alter_table('audit_photo', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f('ck_audit_photo_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_audit_photo_status_known'), NEW)


def downgrade():
    # Withdrawn photos cannot be expressed in the old schema: they become 'failed' with a note.
    op.execute(
        "UPDATE audit_photo SET status = 'failed', error = 'withdrawn by the shopper' "
        "WHERE status = 'withdrawn'"
    )
    with op.batch_alter_table('audit_photo', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_photo_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_audit_photo_status_known'), OLD)
        batch_op.drop_column('withdrawn_at')
