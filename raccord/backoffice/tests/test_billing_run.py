"""The monthly run page: preview (dry run, nothing written), launch after confirmation (an
agent event, the run in the background), progress (B1, B6, B8)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from raccord.billing.models import BillingRun, Document
from raccord.billing.run import billing_run
from raccord.contracts.models import Contract
from raccord.contracts.services import (
    contract_activate,
    contract_equipment_receive,
    contract_kit_ship,
)
from raccord.core.events import Actor
from raccord.core.models import Event, OperatorProfile, Policy

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
RUNS = reverse("backoffice:billing_runs")
LAUNCH = reverse("backoffice:billing_run_launch")


def _text(response) -> str:
    return unescape(response.content.decode()).replace("\u00a0", " ").replace("\u202f", " ")


def _euros(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",") + " €"


def _pin_today(monkeypatch, day: date) -> None:
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: day)


@pytest.fixture
def february(monkeypatch) -> date:
    day = date(2027, 2, 2)  # the invoice day of February (B1)
    _pin_today(monkeypatch, day)
    return day


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def active(contract: Contract) -> Contract:
    contract_kit_ship(contract=contract, on=date(2027, 1, 10), actor=SYSTEM)
    contract_equipment_receive(contract=contract, on=date(2027, 1, 15), actor=SYSTEM)
    return contract_activate(contract=contract, on=date(2027, 1, 20), source="radius", actor=SYSTEM)


@pytest.fixture
def billing_client(billing_agent) -> Client:
    client = Client()
    client.force_login(billing_agent)
    return client


def _writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


# --- access --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["billing", "admin"])
def test_billing_and_admin_roles_open_the_run_page(make_staff, role: str, db: None) -> None:
    client = Client()
    client.force_login(make_staff(role))
    response = client.get(RUNS)
    assert response.status_code == 200
    assert "Facturation mensuelle" in _text(response)
    # the navigation leads there
    assert f'href="{RUNS}" aria-current="page"' in response.content.decode()


def test_an_agent_may_not_run_the_billing(agent_client: Client, db: None) -> None:
    assert agent_client.get(RUNS).status_code == 403
    assert agent_client.post(LAUNCH, {"mois": "2027-02", "confirmer": "on"}).status_code == 403
    assert agent_client.post(RUNS, {"mois": "2027-02"}).status_code == 403
    assert agent_client.get(reverse("backoffice:billing_run", args=["2027-02"])).status_code == 403
    assert RUNS not in agent_client.get(reverse("backoffice:dashboard")).content.decode()
    assert not Event.objects.filter(verb="billing.run_launched").exists()


def test_anonymous_visitors_go_to_the_login_page(client: Client, db: None) -> None:
    response = client.get(RUNS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("backoffice:login"))


# --- preview -------------------------------------------------------------------------------


def _preview(client: Client, month: str = "2027-02"):
    """Ask for a preview (POST, eager Celery) and follow the redirect to its page."""
    response = client.post(RUNS, {"mois": month})
    assert response.status_code == 302
    return response, client.get(response["Location"])


def test_the_preview_counts_and_totals_without_writing_anything__B8(
    billing_client: Client, active: Contract, february: date
) -> None:
    # given
    Policy.get()
    OperatorProfile.get()
    # when the agent asks for the preview and follows the redirect
    with CaptureQueriesContext(connection) as queries:
        posted, response = _preview(billing_client)
    # then the task ran during the POST (no broker) and the page shows its figures
    assert posted["Location"].startswith(f"{RUNS}?mois=2027-02&apercu=")
    assert response.status_code == 200
    html = _text(response)
    assert "Aperçu de février 2027" in html
    assert "Rien n'a été enregistré." in html
    assert '<dd data-figure="invoices">1</dd>' in html
    assert '<dd data-figure="credit_notes">0</dd>' in html
    assert "02/02/2027" in html  # the documents' date (B1)
    assert 'http-equiv="refresh"' not in html
    assert _writes(queries) == []
    assert not BillingRun.objects.exists()
    assert not Document.objects.exists()
    assert not Event.objects.filter(verb__startswith="billing.").exists()
    # and the launch form comes with the month filled in
    assert f'action="{LAUNCH}"' in html
    assert 'name="mois" value="2027-02"' in html


def test_the_preview_is_asked_for_with_a_post_protected_against_csrf(
    billing_agent, active: Contract, february: date
) -> None:
    # given a browser that enforces CSRF like a real one
    client = Client(enforce_csrf_checks=True)
    client.force_login(billing_agent)
    page = client.get(RUNS).content.decode()
    # then the « Aperçu » form posts with a token
    assert f'<form method="post" action="{RUNS}"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    # and a post without the token is refused, nothing computed
    assert client.post(RUNS, {"mois": "2027-02"}).status_code == 403


def test_a_preview_still_computing_shows_its_progress_and_refreshes__B8(
    billing_client: Client, active: Contract, february: date, monkeypatch
) -> None:
    # given a worker that has taken the task and done half of the customers
    from raccord.billing.tasks_preview import billing_preview_task, preview_cache_key

    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(billing_preview_task, "delay", lambda *args: queued.append(args))
    posted = billing_client.post(RUNS, {"mois": "2027-02"})
    month_iso, request_id = queued[0]
    assert month_iso == "2027-02-01"
    key = preview_cache_key(month=date(2027, 2, 1), request_id=request_id)
    state = cache.get(key)
    cache.set(key, {**state, "done": 2000, "total": 4000}, 60)
    # when
    html = _text(billing_client.get(posted["Location"]))
    status = billing_client.get(posted["Location"] + "&format=json")
    # then
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "2000 clients traités sur 4000" in html
    assert '<progress id="apercu-progression" max="4000" value="2000">' in html
    assert "Lancer la facturation" not in html  # not before the figures are known
    body = status.json()
    assert (body["status"], body["done"], body["total"]) == ("running", 2000, 4000)
    # when the worker ends, the page shows the figures and stops refreshing
    billing_preview_task(month_iso, request_id)
    html = _text(billing_client.get(posted["Location"]))
    assert '<dd data-figure="invoices">1</dd>' in html
    assert 'http-equiv="refresh"' not in html
    assert billing_client.get(posted["Location"] + "&format=json").json()["status"] == "done"


def test_asking_again_for_a_month_being_previewed_joins_it_instead_of_computing_twice(
    billing_client: Client, make_staff, active: Contract, february: date, monkeypatch
) -> None:
    # given a preview of February queued on a broker, not finished
    from raccord.billing.tasks_preview import billing_preview_task

    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(billing_preview_task, "delay", lambda *args: queued.append(args))
    first = billing_client.post(RUNS, {"mois": "2027-02"})
    # when the same agent clicks again, and another billing agent asks too
    again = billing_client.post(RUNS, {"mois": "2027-02"})
    other = Client()
    other.force_login(make_staff("billing", email="autre@raccord.test"))
    theirs = other.post(RUNS, {"mois": "2027-02"})
    # then one computation only, which both follow
    assert len(queued) == 1
    assert again["Location"] == first["Location"] == theirs["Location"]
    assert "déjà en cours de calcul" in _text(billing_client.get(again["Location"]))
    # and another month is a preview of its own
    billing_client.post(RUNS, {"mois": "2027-03"})
    assert [month for month, _id in queued] == ["2027-02-01", "2027-03-01"]


def test_a_preview_whose_worker_died_does_not_block_a_new_one(
    billing_client: Client, active: Contract, february: date, monkeypatch
) -> None:
    from datetime import timedelta

    from raccord.billing.tasks_preview import (
        PREVIEW_STALE_AFTER,
        billing_preview_task,
        preview_cache_key,
    )

    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(billing_preview_task, "delay", lambda *args: queued.append(args))
    billing_client.post(RUNS, {"mois": "2027-02"})
    # given the preview last moved longer ago than a live worker would take
    key = preview_cache_key(month=date(2027, 2, 1), request_id=queued[0][1])
    state = cache.get(key)
    moved = timezone.now() - timedelta(seconds=PREVIEW_STALE_AFTER + 5)
    cache.set(key, {**state, "updated_at": moved.isoformat()}, 60)
    # when the agent asks again
    again = billing_client.post(RUNS, {"mois": "2027-02"})
    # then a new preview is computed
    assert len(queued) == 2
    assert queued[1][1] != queued[0][1]
    assert queued[1][1] in again["Location"]


def test_an_agent_asking_for_too_many_previews_is_told_to_wait(
    billing_client: Client, active: Contract, february: date
) -> None:
    from raccord.backoffice.billing_views import PREVIEW_RATE_LIMIT

    # given as many previews as allowed (eager Celery: each one computed and done)
    for index in range(PREVIEW_RATE_LIMIT):
        assert billing_client.post(RUNS, {"mois": f"2027-{index + 2:02d}"}).status_code == 302
    # when one more is asked for
    response = billing_client.post(RUNS, {"mois": "2027-02"})
    # then it is refused with a French reason, and nothing is computed
    assert response.status_code == 429
    assert "Trop d'aperçus demandés en peu de temps" in _text(response)
    assert not BillingRun.objects.exists()


def test_a_failed_preview_says_so_in_french(
    billing_client: Client, active: Contract, february: date, monkeypatch
) -> None:
    def boom(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr("raccord.billing.tasks_preview.billing_run", boom)
    _posted, response = _preview(billing_client)
    html = _text(response)
    assert response.status_code == 200
    assert "Le calcul de l'aperçu a échoué. Rien n'a été enregistré" in html
    assert 'http-equiv="refresh"' not in html
    assert "Lancer la facturation" not in html


@pytest.mark.parametrize("request_id", ["0" * 32, "pas-un-identifiant", "../../etc"])
def test_an_unknown_or_expired_preview_gets_a_clear_french_message(
    billing_client: Client, february: date, request_id: str
) -> None:
    response = billing_client.get(RUNS, {"mois": "2027-02", "apercu": request_id})
    assert response.status_code == 404
    html = _text(response)
    assert "Cet aperçu est introuvable ou a expiré" in html
    assert "Demandez un nouvel aperçu." in html
    assert 'http-equiv="refresh"' not in html
    body = billing_client.get(
        RUNS, {"mois": "2027-02", "apercu": request_id, "format": "json"}
    ).json()
    assert body["status"] == "unknown"
    assert "introuvable ou a expiré" in body["message"]


def test_a_preview_belongs_to_its_month(
    billing_client: Client, active: Contract, february: date
) -> None:
    posted, _response = _preview(billing_client)
    other_month = posted["Location"].replace("mois=2027-02", "mois=2027-03")
    assert billing_client.get(other_month).status_code == 404


def test_a_month_link_fills_the_form_without_computing(
    billing_client: Client, active: Contract, february: date, monkeypatch
) -> None:
    from raccord.billing.tasks_preview import billing_preview_task

    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(billing_preview_task, "delay", lambda *args: queued.append(args))
    html = _text(billing_client.get(RUNS, {"mois": "2027-03"}))
    assert 'name="mois" value="2027-03"' in html
    assert "Aperçu de" not in html
    assert queued == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("février", "Indiquez un mois au format AAAA-MM, par exemple 2027-02."),
        ("2027-13", "Indiquez un mois au format AAAA-MM, par exemple 2027-02."),
        ("1900-01", "Indiquez un mois entre 2000 et 2100."),
        ("", "Indiquez le mois à facturer."),
    ],
)
def test_a_bad_month_gets_a_french_error_next_to_its_field(
    billing_client: Client, february: date, value: str, message: str
) -> None:
    OperatorProfile.get()  # a singleton created on first read, not by the page
    with CaptureQueriesContext(connection) as queries:
        response = billing_client.post(RUNS, {"mois": value})
    assert response.status_code == 400
    html = _text(response)
    assert f'<p class="error" id="id_mois-error">{message}</p>' in html
    assert 'aria-invalid="true"' in html
    assert "Aperçu de" not in html
    assert _writes(queries) == []
    # the same from a link
    assert billing_client.get(RUNS, {"mois": value}).status_code == 400


# --- launch --------------------------------------------------------------------------------


def test_launching_runs_the_month_records_an_event_and_shows_progress__B1_B6(
    operator_identity: object,
    billing_client: Client,
    billing_agent,
    active: Contract,
    february: date,
    media,
    django_capture_on_commit_callbacks,
) -> None:
    # given the preview's figures
    preview = _text(_preview(billing_client)[1])
    # when the billing agent confirms
    with django_capture_on_commit_callbacks(execute=True):
        response = billing_client.post(LAUNCH, {"mois": "2027-02", "confirmer": "on"})
    # then the run happened (Celery runs eagerly without a broker)
    progress_url = reverse("backoffice:billing_run", args=["2027-02"])
    assert response.status_code == 302
    assert response["Location"] == progress_url
    run = BillingRun.objects.get(month=date(2027, 2, 1))
    assert run.status == BillingRun.Status.DONE
    assert (run.invoices, run.credit_notes) == (1, 0)
    invoice = Document.objects.get(run=run)
    assert invoice.customer_id == active.customer_id
    # the preview had announced exactly that (dry run = real run)
    assert f'<dd data-figure="total_invoiced">{_euros(invoice.total)}</dd>' in preview
    # the launch is in the history: by the agent, no customer
    event = Event.objects.get(verb="billing.run_launched")
    assert event.actor_kind == Event.ActorKind.AGENT
    assert event.actor_user == billing_agent
    assert event.customer_id is None
    assert event.data == {"month": "2027-02-01", "resumed": False}
    assert "février 2027" in event.summary
    # the progress page says it is done, and stops refreshing
    page = billing_client.get(progress_url)
    html = _text(page)
    assert "terminée" in html
    assert '<dd data-figure="invoices">1</dd>' in html
    assert 'http-equiv="refresh"' not in html
    # the list of runs shows it
    runs = _text(billing_client.get(RUNS))
    assert 'data-run="2027-02"' in runs
    assert _euros(invoice.total) in runs


def test_launching_needs_the_confirmation(
    billing_client: Client, active: Contract, february: date, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = billing_client.post(LAUNCH, {"mois": "2027-02"})
    assert response.status_code == 400
    html = _text(response)
    assert (
        '<p class="error" id="id_confirmer-error">Cochez la case pour confirmer le lancement.</p>'
        in html
    )
    assert callbacks == []
    assert not BillingRun.objects.exists()
    assert not Event.objects.filter(verb="billing.run_launched").exists()


def test_a_month_cannot_be_launched_before_its_invoice_day__B1(
    billing_client: Client, active: Contract, monkeypatch
) -> None:
    _pin_today(monkeypatch, date(2027, 2, 1))
    response = billing_client.post(LAUNCH, {"mois": "2027-02", "confirmer": "on"})
    assert response.status_code == 400
    assert (
        "La facturation de février 2027 est datée du 2 février 2027 : elle pourra être lancée "
        "à partir de ce jour." in _text(response)
    )
    assert not BillingRun.objects.exists()


def test_a_finished_month_is_not_launched_again__B8(
    billing_client: Client, february: date, db: None
) -> None:
    BillingRun.objects.create(
        month=date(2027, 1, 1),
        run_date=date(2027, 1, 2),
        status=BillingRun.Status.DONE,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    response = billing_client.post(LAUNCH, {"mois": "2027-01", "confirmer": "on"})
    assert response.status_code == 400
    assert "La facturation de janvier 2027 est déjà terminée" in _text(response)
    assert not Event.objects.filter(verb="billing.run_launched").exists()


def test_the_launch_is_a_post(billing_client: Client, february: date) -> None:
    assert billing_client.get(LAUNCH, {"mois": "2027-02", "confirmer": "on"}).status_code == 405


# --- progress ------------------------------------------------------------------------------


def test_a_run_in_progress_refreshes_its_page_and_reports_as_json__B8(
    billing_client: Client, february: date, db: None
) -> None:
    # given a run that has started and not finished
    BillingRun.objects.create(
        month=date(2027, 2, 1), run_date=date(2027, 2, 2), started_at=timezone.now()
    )
    url = reverse("backoffice:billing_run", args=["2027-02"])
    # when
    html = _text(billing_client.get(url))
    status = billing_client.get(reverse("backoffice:billing_run_status", args=["2027-02"]))
    # then
    assert '<meta http-equiv="refresh" content="5">' in html
    assert "en cours" in html
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "running"
    assert (body["invoices"], body["credit_notes"]) == (0, 0)
    assert body["finished_at"] is None


def test_a_month_never_launched_does_not_refresh(billing_client: Client, february: date) -> None:
    html = _text(billing_client.get(reverse("backoffice:billing_run", args=["2027-05"])))
    assert "Cette facturation n'a pas été lancée." in html
    assert 'http-equiv="refresh"' not in html
    body = billing_client.get(reverse("backoffice:billing_run_status", args=["2027-05"])).json()
    assert (body["status"], body["launched"]) == ("not_started", False)


def test_an_unknown_month_is_a_404(billing_client: Client, february: date) -> None:
    assert billing_client.get(reverse("backoffice:billing_run", args=["mai"])).status_code == 404


def test_the_run_list_costs_a_fixed_number_of_queries(
    billing_client: Client, february: date, django_assert_max_num_queries
) -> None:
    for month in range(1, 13):
        BillingRun.objects.create(
            month=date(2026, month, 1),
            run_date=date(2026, month, 2),
            status=BillingRun.Status.DONE,
            started_at=timezone.now(),
        )
    OperatorProfile.get()
    # session, user, role, runs, their documents counted, operator (the page's header and
    # the identity every invoice carries, B9)
    with django_assert_max_num_queries(7):
        html = _text(billing_client.get(RUNS))
    assert html.count('<tr data-run="') == 12


def test_the_run_cannot_be_launched_without_the_operator_identity__B9(
    billing_client: Client, active: Contract, february: date
) -> None:
    # given an operator whose profile has no SIREN nor VAT number (a fresh install)
    OperatorProfile.get()
    # then the page says so before anything
    html = _text(billing_client.get(RUNS))
    assert 'id="identite-operateur"' in html and "SIREN" in html
    # and launching is refused with the reason, nothing is run
    response = billing_client.post(LAUNCH, {"mois": "2027-02", "confirmer": "on"})
    assert response.status_code == 400
    assert "le SIREN est vide ou invalide" in _text(response)
    assert not BillingRun.objects.exists()


def test_the_preview_of_a_month_already_billed_says_so_and_offers_no_launch__B8(
    operator_identity: object, billing_client: Client, active: Contract, february: date
) -> None:
    # given February billed
    billing_run(month=date(2027, 2, 1), at=timezone.now(), render_pdfs=False)
    # when the agent previews it again
    html = _text(_preview(billing_client)[1])
    # then the page says the month is done (nothing more to issue) and offers no launch
    assert 'id="mois-termine"' in html and "déjà terminée" in html
    # what a preview may still count (a credit note since, say) goes on the next month's run
    assert "facturation du mois suivant" in html
    assert '<dd data-figure="invoices">0</dd>' in html
    assert f'action="{LAUNCH}"' not in html
