"""The demo, end to end: a line awaiting activation goes live on radclient's Start, its
Mon Compte shows the chart after interim updates, and the demo incident shows on the portal of
the subscribers it covers only."""

from __future__ import annotations

from datetime import datetime, time
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from raccord.conftest import PARIS
from raccord.contracts.models import Contract
from raccord.demo.loader import DEMO_CUSTOMERS, DEMO_PASSWORD
from raccord.network.demo import DEMO_NAS_SECRET, network_demo_load
from raccord.network.models import AccountingSession, Incident, NasClient, Outage
from raccord.network.radius_nas import nas_table_load
from raccord.network.tests.conftest import RADCLIENT, RunningServer, packet, radclient


@pytest.mark.slow
@pytest.mark.skipif(RADCLIENT is None, reason="radclient n'est pas installé")
def test_the_demo_line_awaiting_activation_goes_live_on_radclient_s_start__C4_N2_N3(
    transactional_db, settings, tmp_path
):
    # given: the demo as of today, with its network part
    settings.MEDIA_ROOT = tmp_path
    today = timezone.localdate()
    call_command("demo", "--no-serve", "--date", today.isoformat(), stdout=StringIO())
    network_demo_load(today=today)
    assert network_demo_load(today=today) == []  # loaded once
    waiting = Contract.objects.get(status=Contract.Status.EQUIPMENT_RECEIVED)
    assert waiting.activation_date is None
    assert NasClient.objects.count() == 1
    assert Outage.objects.filter(ended_at__isnull=False).exists()
    # lines in service are connected now (yesterday's session still open), not all cut at 23:30
    assert AccountingSession.objects.filter(stopped_at__isnull=True).exists()

    # when: the demo NAS (this machine, its secret from the back-office) sends the Start
    server = RunningServer(nas=nas_table_load(None), default_secret=None)
    try:
        # (dated noon today: a test running across midnight keeps "today")
        noon = int(datetime.combine(today, time(12), tzinfo=PARIS).timestamp())
        start = packet(
            User_Name=waiting.network_login,
            Acct_Status_Type="Start",
            Acct_Session_Id="e2e-1",
            Event_Timestamp=noon,
        )
        assert radclient(server.port, start, secret=DEMO_NAS_SECRET).answered == 1
        waiting.refresh_from_db()
        # then
        assert waiting.status == Contract.Status.ACTIVE
        assert waiting.activation_date == today
        # when: interim updates
        for seconds, received in ((600, 250_000_000), (1200, 1_800_000_000)):
            interim = packet(
                User_Name=waiting.network_login,
                Acct_Status_Type="Interim-Update",
                Acct_Session_Id="e2e-1",
                Acct_Session_Time=seconds,
                Event_Timestamp=noon + seconds,
                Acct_Output_Octets=received,
                Acct_Input_Octets=received // 20,
            )
            assert radclient(server.port, interim, secret=DEMO_NAS_SECRET).answered == 1
    finally:
        server.stop()
    assert AccountingSession.objects.get(session_id="e2e-1").output_octets == 1_800_000_000

    # then: the subscriber's Mon Compte shows the chart with today's bar
    client = Client()
    assert client.login(username=waiting.customer.email, password=DEMO_PASSWORD)
    page = client.get(reverse("portal:network_usage")).content.decode()
    assert "<svg" in page and "1,8 Go reçus" in page

    # and the demo incident shows on the portal of its commune's subscribers only
    incident = Incident.objects.get()
    covered = [
        spec.email
        for spec in DEMO_CUSTOMERS
        if Contract.objects.filter(
            customer__email=spec.email,
            status=Contract.Status.ACTIVE,
            installation_address__code_insee__in=incident.communes,
        ).exists()
    ]
    assert covered
    for spec in DEMO_CUSTOMERS:
        visitor = Client()
        assert visitor.login(username=spec.email, password=DEMO_PASSWORD)
        home = visitor.get(reverse("portal:home")).content.decode()
        assert ("Incident en cours sur votre secteur" in home) == (spec.email in covered), (
            spec.email
        )
