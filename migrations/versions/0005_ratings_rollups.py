"""ratings roll-ups

Released audits by branch-local month (rating_audit) and monthly roll-ups per branch, part and
standard (rating_rollup, rating_item_rollup). Filled by release and dispute resolution from
now on; run ``flask --app auditapp ratings rebuild`` once after upgrading to count the audits
released before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rating_audit',
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('checklist_slug', sa.String(length=80), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['audit_id'], ['audit.id'], name=op.f('fk_rating_audit_audit_id_audit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_rating_audit_branch_id_branch')),
    sa.PrimaryKeyConstraint('audit_id', name=op.f('pk_rating_audit'))
    )
    op.create_index('ix_rating_audit_branch_month', 'rating_audit', ['branch_id', 'month'], unique=False)
    op.create_index('ix_rating_audit_month_branch_score', 'rating_audit', ['month', 'branch_id', 'score'], unique=False)
    op.create_table('rating_rollup',
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('checklist_slug', sa.String(length=80), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('part_kind', sa.String(length=10), nullable=False),
    sa.Column('part_key', sa.String(length=80), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('total_sq', sa.Float(), nullable=False),
    sa.Column('earned', sa.Float(), nullable=False),
    sa.Column('possible', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_rating_rollup_branch_id_branch')),
    sa.PrimaryKeyConstraint('branch_id', 'month', 'checklist_slug', 'channel', 'part_kind', 'part_key', name=op.f('pk_rating_rollup'))
    )
    op.create_index('ix_rating_rollup_kind_month', 'rating_rollup', ['part_kind', 'month', 'branch_id', 'n', 'total', 'total_sq'], unique=False)
    op.create_table('rating_item_rollup',
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('checklist_slug', sa.String(length=80), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.String(length=80), nullable=False),
    sa.Column('clause', sa.String(length=80), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('earned', sa.Float(), nullable=False),
    sa.Column('possible', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_rating_item_rollup_branch_id_branch')),
    sa.PrimaryKeyConstraint('branch_id', 'month', 'checklist_slug', 'channel', 'item_id', 'clause', name=op.f('pk_rating_item_rollup'))
    )
    op.create_index('ix_rating_item_rollup_month', 'rating_item_rollup', ['month', 'checklist_slug'], unique=False)


def downgrade():
    op.drop_index('ix_rating_item_rollup_month', table_name='rating_item_rollup')
    op.drop_table('rating_item_rollup')
    op.drop_index('ix_rating_rollup_kind_month', table_name='rating_rollup')
    op.drop_table('rating_rollup')
    op.drop_index('ix_rating_audit_month_branch_score', table_name='rating_audit')
    op.drop_index('ix_rating_audit_branch_month', table_name='rating_audit')
    op.drop_table('rating_audit')
