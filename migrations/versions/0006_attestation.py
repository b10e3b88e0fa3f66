"""staff attestation

Versioned rule sets, attestation periods, internal scores (append-only), sheets frozen when a
period closes, employees' acknowledgements and objections with answers, and awards. New tables
only: nothing existing changes, so upgrading and downgrading are plain creates and drops.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 00:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attestation_rule_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_attestation_rule_set_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attestation_rule_set')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_attestation_rule_set_code_version'))
    )
    op.create_table('attestation_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('rule_set_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_attestation_period_status_known')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_attestation_period_dates_ordered')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'], name=op.f('fk_attestation_period_closed_by_id_user_account')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_attestation_period_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['rule_set_id'], ['attestation_rule_set.id'], name=op.f('fk_attestation_period_rule_set_id_attestation_rule_set')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attestation_period'))
    )
    op.create_table('attestation_award',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('staff_member_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('awarded_by_id', sa.Integer(), nullable=False),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'branch' AND branch_id IS NOT NULL AND staff_member_id IS NULL) OR (kind = 'employee' AND staff_member_id IS NOT NULL AND branch_id IS NULL)", name=op.f('ck_attestation_award_subject_matches_kind')),
    sa.CheckConstraint("kind IN ('branch', 'employee')", name=op.f('ck_attestation_award_kind_known')),
    sa.ForeignKeyConstraint(['awarded_by_id'], ['user_account.id'], name=op.f('fk_attestation_award_awarded_by_id_user_account')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_attestation_award_branch_id_branch')),
    sa.ForeignKeyConstraint(['period_id'], ['attestation_period.id'], name=op.f('fk_attestation_award_period_id_attestation_period')),
    sa.ForeignKeyConstraint(['staff_member_id'], ['staff_member.id'], name=op.f('fk_attestation_award_staff_member_id_staff_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attestation_award'))
    )
    op.create_index('ix_attestation_award_period_id', 'attestation_award', ['period_id'], unique=False)

    op.create_table('attestation_internal_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('staff_member_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score >= 0 AND score <= 100', name=op.f('ck_attestation_internal_score_score_range')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['user_account.id'], name=op.f('fk_attestation_internal_score_entered_by_id_user_account')),
    sa.ForeignKeyConstraint(['period_id'], ['attestation_period.id'], name=op.f('fk_attestation_internal_score_period_id_attestation_period')),
    sa.ForeignKeyConstraint(['staff_member_id'], ['staff_member.id'], name=op.f('fk_attestation_internal_score_staff_member_id_staff_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attestation_internal_score'))
    )
    op.create_index('ix_attestation_internal_score_period_staff', 'attestation_internal_score', ['period_id', 'staff_member_id'], unique=False)

    op.create_table('attestation_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('staff_member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('acknowledged', 'objected')", name=op.f('ck_attestation_response_kind_known')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user_account.id'], name=op.f('fk_attestation_response_answered_by_id_user_account')),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], name=op.f('fk_attestation_response_by_id_user_account')),
    sa.ForeignKeyConstraint(['period_id'], ['attestation_period.id'], name=op.f('fk_attestation_response_period_id_attestation_period')),
    sa.ForeignKeyConstraint(['staff_member_id'], ['staff_member.id'], name=op.f('fk_attestation_response_staff_member_id_staff_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attestation_response'))
    )
    op.create_index('ix_attestation_response_period_staff', 'attestation_response', ['period_id', 'staff_member_id'], unique=False)

    op.create_table('attestation_sheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('staff_member_id', sa.Integer(), nullable=False),
    sa.Column('rule_set_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('points', sa.Float(), nullable=True),
    sa.Column('grade_code', sa.String(length=40), nullable=True),
    sa.Column('sufficient_evidence', sa.Boolean(), nullable=False),
    sa.Column('audit_ids', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('graded', 'not_gradable')", name=op.f('ck_attestation_sheet_status_known')),
    sa.ForeignKeyConstraint(['period_id'], ['attestation_period.id'], name=op.f('fk_attestation_sheet_period_id_attestation_period')),
    sa.ForeignKeyConstraint(['rule_set_id'], ['attestation_rule_set.id'], name=op.f('fk_attestation_sheet_rule_set_id_attestation_rule_set')),
    sa.ForeignKeyConstraint(['staff_member_id'], ['staff_member.id'], name=op.f('fk_attestation_sheet_staff_member_id_staff_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attestation_sheet')),
    sa.UniqueConstraint('period_id', 'staff_member_id', name=op.f('uq_attestation_sheet_period_id_staff_member_id'))
    )
    op.create_index('ix_attestation_sheet_staff_member_id', 'attestation_sheet', ['staff_member_id'], unique=False)



def downgrade():
    op.drop_index('ix_attestation_sheet_staff_member_id', table_name='attestation_sheet')
    op.drop_table('attestation_sheet')
    op.drop_index('ix_attestation_response_period_staff', table_name='attestation_response')
    op.drop_table('attestation_response')
    op.drop_index('ix_attestation_internal_score_period_staff', table_name='attestation_internal_score')
    op.drop_table('attestation_internal_score')
    op.drop_index('ix_attestation_award_period_id', table_name='attestation_award')
    op.drop_table('attestation_award')
    op.drop_table('attestation_period')
    op.drop_table('attestation_rule_set')
