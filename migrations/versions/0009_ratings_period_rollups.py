"""ratings period roll-ups

Branch moments and standards' points summed over windows of months (every run of 3
consecutive months, every calendar year): rating_period_rollup, rating_period_item_rollup.
Derived from the monthly roll-ups; filled here from those already kept, and from now on by
release, dispute resolution and ``ratings rebuild``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 06:00:00

"""
from datetime import date
from functools import reduce
from operator import add

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rating_period_rollup',
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('first_month', sa.Date(), nullable=False),
    sa.Column('checklist_slug', sa.String(length=80), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('total_sq', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_rating_period_rollup_branch_id_branch')),
    sa.PrimaryKeyConstraint('branch_id', 'months', 'first_month', 'checklist_slug', 'channel', name=op.f('pk_rating_period_rollup'))
    )
    op.create_index('ix_rating_period_rollup_window', 'rating_period_rollup', ['months', 'first_month', 'branch_id', 'n', 'total', 'total_sq'], unique=False)
    op.create_table('rating_period_item_rollup',
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('first_month', sa.Date(), nullable=False),
    sa.Column('checklist_slug', sa.String(length=80), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.String(length=80), nullable=False),
    sa.Column('clause', sa.String(length=80), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('earned', sa.Float(), nullable=False),
    sa.Column('possible', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_rating_period_item_rollup_branch_id_branch')),
    sa.PrimaryKeyConstraint('branch_id', 'months', 'first_month', 'checklist_slug', 'channel', 'item_id', 'clause', name=op.f('pk_rating_period_item_rollup'))
    )
    op.create_index('ix_rating_period_item_rollup_window', 'rating_period_item_rollup', ['months', 'first_month', 'checklist_slug', 'item_id', 'clause', 'branch_id', 'n', 'earned', 'possible'], unique=False)
    _fill()


def _add_months(month, count):
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _fill():
    """The windows of the months already kept, derived as
    auditapp.services.ratings.periods.rebuild_periods does (the same statement)."""
    bind = op.get_bind()
    rollup = sa.table('rating_rollup', *(sa.column(c) for c in ('branch_id', 'month', 'checklist_slug', 'channel', 'part_kind', 'n', 'total', 'total_sq')))
    rollup.c.month.type = sa.Date()
    items = sa.table('rating_item_rollup', *(sa.column(c) for c in ('branch_id', 'month', 'checklist_slug', 'channel', 'item_id', 'clause', 'n', 'earned', 'possible')))
    items.c.month.type = sa.Date()
    months = set()
    for (month,) in bind.execute(sa.select(rollup.c.month).distinct()):
        months.add(month if isinstance(month, date) else date.fromisoformat(str(month)))
    windows = set()
    for month in months:
        windows.update((3, _add_months(month, -i)) for i in range(3))
        windows.add((12, date(month.year, 1, 1)))
    if not windows:
        return
    window = sa.values(
        sa.column('months', sa.Integer), sa.column('first_month', sa.Date),
        sa.column('month_index', sa.Integer), sa.column('month', sa.Date), name='period_window',
    ).data([(length, first, i, _add_months(first, i)) for length, first in sorted(windows) for i in range(length)]).cte('period_window')
    for source, target, keys, sums in (
        (rollup, 'rating_period_rollup', ('checklist_slug', 'channel'), ('total', 'total_sq')),
        (items, 'rating_period_item_rollup', ('checklist_slug', 'channel', 'item_id', 'clause'), ('earned', 'possible')),
    ):
        in_order = [
            reduce(add, [sa.func.coalesce(sa.func.sum(sa.case((window.c.month_index == i, source.c[name]))), 0.0) for i in range(12)])
            for name in sums
        ]
        query = (
            sa.select(source.c.branch_id, window.c.months, window.c.first_month, *(source.c[k] for k in keys), sa.func.sum(source.c.n), *in_order)
            .select_from(source)
            .join(window, source.c.month == window.c.month)
            .group_by(source.c.branch_id, window.c.months, window.c.first_month, *(source.c[k] for k in keys))
        )
        if source is rollup:
            query = query.where(rollup.c.part_kind == 'audit')
        # Every window's rows together on disk, as readings read them.
        query = query.order_by(window.c.months, window.c.first_month, source.c.branch_id)
        columns = ['branch_id', 'months', 'first_month', *keys, 'n', *sums]
        target_table = sa.table(target, *(sa.column(c) for c in columns))
        bind.execute(sa.insert(target_table).from_select(columns, query))


def downgrade():
    op.drop_index('ix_rating_period_item_rollup_window', table_name='rating_period_item_rollup')
    op.drop_table('rating_period_item_rollup')
    op.drop_index('ix_rating_period_rollup_window', table_name='rating_period_rollup')
    op.drop_table('rating_period_rollup')
