"""no period item roll-ups

Standards are no longer summed by window of months: a release wrote one such row per item and
window (four per item), the largest part of its roll-up work, and the readings of standards are
computed from the monthly item roll-ups (and kept in memory until the ratings change). The
moments by window (rating_period_rollup) stay. On PostgreSQL, extended statistics tell the
planner how many (branch, standard) pairs the monthly item roll-ups hold.

Downgrade makes the table again and fills it from the monthly item roll-ups, as 0009 did.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 12:30:00

"""
from datetime import date
from functools import reduce
from operator import add

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_rating_period_item_rollup_window', table_name='rating_period_item_rollup')
    op.drop_table('rating_period_item_rollup')
    if op.get_bind().dialect.name == 'postgresql':
        # How many (branch, standard) pairs there are, for the planner: grouping a period's
        # monthly item rows by them, it then hashes in memory instead of sorting on disk.
        op.execute(
            'CREATE STATISTICS rating_item_rollup_standard (ndistinct)'
            ' ON branch_id, checklist_slug, item_id, clause FROM rating_item_rollup'
        )
        op.execute('ANALYZE rating_item_rollup')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP STATISTICS IF EXISTS rating_item_rollup_standard')
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
    """The windows (every run of 3 months, every calendar year) of the months kept, summed in
    month order as 0009 did."""
    bind = op.get_bind()
    keys = ('checklist_slug', 'channel', 'item_id', 'clause')
    items = sa.table('rating_item_rollup', *(sa.column(c) for c in ('branch_id', 'month', *keys, 'n', 'earned', 'possible')))
    items.c.month.type = sa.Date()
    windows = set()
    for (month,) in bind.execute(sa.select(items.c.month).distinct()):
        month = month if isinstance(month, date) else date.fromisoformat(str(month))
        windows.update((3, _add_months(month, -i)) for i in range(3))
        windows.add((12, date(month.year, 1, 1)))
    if not windows:
        return
    window = sa.values(
        sa.column('months', sa.Integer), sa.column('first_month', sa.Date),
        sa.column('month_index', sa.Integer), sa.column('month', sa.Date), name='period_window',
    ).data([(length, first, i, _add_months(first, i)) for length, first in sorted(windows) for i in range(length)]).cte('period_window')
    in_order = [
        reduce(add, [sa.func.coalesce(sa.func.sum(sa.case((window.c.month_index == i, items.c[name]))), 0.0) for i in range(12)])
        for name in ('earned', 'possible')
    ]
    query = (
        sa.select(items.c.branch_id, window.c.months, window.c.first_month, *(items.c[k] for k in keys), sa.func.sum(items.c.n), *in_order)
        .select_from(items)
        .join(window, items.c.month == window.c.month)
        .group_by(items.c.branch_id, window.c.months, window.c.first_month, *(items.c[k] for k in keys))
        .order_by(window.c.months, window.c.first_month, items.c.branch_id)
    )
    columns = ['branch_id', 'months', 'first_month', *keys, 'n', 'earned', 'possible']
    target = sa.table('rating_period_item_rollup', *(sa.column(c) for c in columns))
    bind.execute(sa.insert(target).from_select(columns, query))
