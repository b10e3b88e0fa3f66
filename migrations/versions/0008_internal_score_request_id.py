"""internal scores: a client-made request id, so a retried entry is stored once

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attestation_internal_score', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.Uuid(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_attestation_internal_score_request_id'), ['request_id']
        )


def downgrade():
    with op.batch_alter_table('attestation_internal_score', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('uq_attestation_internal_score_request_id'), type_='unique'
        )
        batch_op.drop_column('request_id')
