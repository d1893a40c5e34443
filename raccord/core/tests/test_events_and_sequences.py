import threading

import pytest
from django.db import connection, transaction

from raccord.conftest import paris
from raccord.core.events import Actor, event_record
from raccord.core.masking import iban_mask, mask_ibans_in_text
from raccord.core.models import Event, Sequence
from raccord.core.sequences import sequence_next


@pytest.mark.django_db
def test_events_are_append_only():
    event = event_record(
        actor=Actor.system(), verb="x.y", summary="s", at=paris(2027, 1, 1), subject_type="t"
    )
    event.summary = "changed"
    with pytest.raises(ValueError):
        event.save()
    assert Event.objects.get().summary == "s"


@pytest.mark.django_db
def test_sequence_numbers_follow_each_other_and_a_rollback_gives_its_number_back():
    with transaction.atomic():
        assert sequence_next("demo") == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        assert sequence_next("demo") == 2
        raise RuntimeError("rolled back")
    with transaction.atomic():
        assert sequence_next("demo") == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_share_a_number():
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("in-memory SQLite is one connection; the PostgreSQL run checks the locking")
    taken: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            for _ in range(20):
                with transaction.atomic():
                    number = sequence_next("concurrent")
                with lock:
                    taken.append(number)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == list(range(1, 81))
    assert Sequence.objects.get(name="concurrent").value == 80


def test_sequence_refuses_to_run_outside_a_transaction(transactional_db):
    with pytest.raises(RuntimeError):
        sequence_next("nope")


def test_iban_masking_keeps_only_the_country_check_digits_and_last_four():
    assert iban_mask("FR76 3000 6000 0112 3456 7890 189") == "FR76 **** **** 0189"
    text = mask_ibans_in_text("nouveau RIB FR7630006000011234567890189 reçu")
    assert text == "nouveau RIB FR76 **** **** 0189 reçu"
