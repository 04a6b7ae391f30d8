"""The debt rule, written once in handlers/ledger.py for settlement, deposit and reports."""

import pytest

from handlers.ledger import compute_debt_fen


@pytest.mark.parametrize(("available_fen", "debt_fen"), [(489_998, 489_998), (0, 0), (-5, 0)])
def test_debt_is_the_debit_balance_of_the_available_account(
    available_fen: int, debt_fen: int
) -> None:
    assert compute_debt_fen(available_fen) == debt_fen


def test_a_credit_balance_is_no_debt() -> None:
    assert compute_debt_fen(-5_000) == 0
    assert compute_debt_fen(0) == 0
    assert compute_debt_fen(7) == 7
