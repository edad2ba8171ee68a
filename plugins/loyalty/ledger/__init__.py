"""The points ledger (LOY): accrual on sales, reversal on refunds, bonuses, pending points,
redemption and adjustment — one module per sub-domain, re-exported here."""

from plugins.loyalty.ledger._store import (
    MAX_POINTS,
    Movement,
    balances,
    debit,
    entries,
    entry,
    expire_lot,
    lock_account,
    record,
    standings,
)
from plugins.loyalty.ledger.accrual import accrue, reverse
from plugins.loyalty.ledger.bonuses import refer, signup_bonus, survey_bonus
from plugins.loyalty.ledger.merge import merge_accounts
from plugins.loyalty.ledger.pending import activate, release_pending
from plugins.loyalty.ledger.spending import (
    adjust,
    keyed,
    redeem,
    replay,
    request_hash,
    restore_paid,
)

__all__ = [
    "MAX_POINTS",
    "Movement",
    "accrue",
    "activate",
    "adjust",
    "balances",
    "debit",
    "entries",
    "entry",
    "expire_lot",
    "keyed",
    "lock_account",
    "merge_accounts",
    "record",
    "redeem",
    "refer",
    "release_pending",
    "replay",
    "request_hash",
    "restore_paid",
    "reverse",
    "signup_bonus",
    "standings",
    "survey_bonus",
]
