"""rating state

One row saying which state the ratings are in (a version raised by every committed change of
what ratings read, and a token naming the row), so that readings kept in memory between
requests are used only while nothing has changed. A database whose row is missing (emptied)
keeps no reading until its next change makes the row again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 09:30:00

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rating_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_state'))
    )
    op.execute(
        sa.text("INSERT INTO rating_state (id, token, version) VALUES (1, :token, 0)").bindparams(
            token=uuid.uuid4().hex
        )
    )


def downgrade():
    op.drop_table('rating_state')
