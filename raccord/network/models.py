"""Network accounting: NAS clients, sessions (N1), daily usage, incidents and outages (N3).

Sessions are written by ``raccord.network.accounting`` only (the RADIUS server and the radacct
sync feed the same function); nothing else edits them. Times are stored in UTC, days are
calendar days in Europe/Paris."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def network_validate(value: str) -> None:
    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValidationError(
            _("Indiquez une adresse IP (192.0.2.10) ou un réseau (192.0.2.0/24).")
        ) from None


class NasClient(models.Model):
    """A NAS (BNG, radio base station controller…) allowed to send accounting to the built-in
    RADIUS server, with its shared secret. The secret is needed in clear to check the packets'
    authenticators, so it is stored as typed; it is never shown back (the admin form only
    replaces it)."""

    name = models.CharField(_("nom"), max_length=100, unique=True)
    network = models.CharField(
        _("adresse ou réseau"),
        max_length=50,
        validators=[network_validate],
        help_text=_("Adresse IP source des paquets (192.0.2.10) ou réseau (192.0.2.0/24)."),
    )
    secret = models.CharField(_("secret partagé"), max_length=128)
    is_active = models.BooleanField(_("actif"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("client RADIUS (NAS)")
        verbose_name_plural = _("clients RADIUS (NAS)")

    def __str__(self) -> str:
        return f"{self.name} ({self.network})"


class AccountingSession(models.Model):
    """One network session, keyed by ``key`` = NAS address + Acct-Session-Id (N1).

    Every field is a merge that does not depend on the order of the records nor on repeats:
    ``started_at`` is the earliest start any record gives (the Start's time, or a record's time
    minus its session time), counters and session time are maxima, ``stopped_at`` the earliest
    Stop (or the NAS reboot that closed it), ``last_record_at`` the time of the record that
    brought the most progress. ``usage_days`` keeps each Paris day's highest counters
    (``YYYYMMDD:in:out`` separated by commas), from which the daily usage is derived."""

    # Every record rewrites its session: what a row costs the database is chosen. The key is
    # unique by a constraint (``unique=True`` would add a pattern-matching index nothing
    # uses); the contract index is the (contract, started_at) one, and contracts are never
    # deleted, so no constraint check per inserted row; the table leaves room in its pages
    # (migration 0002) so that an Interim-Update rewrites its row in place.
    key = models.CharField(max_length=320)
    nas_address = models.CharField(_("NAS"), max_length=64)
    session_id = models.CharField(_("identifiant de session"), max_length=253)
    login = models.CharField(_("identifiant réseau"), max_length=64)
    contract = models.ForeignKey(
        "contracts.Contract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="network_sessions",
        db_index=False,
        db_constraint=False,
    )
    started_at = models.DateTimeField(_("début"))
    last_record_at = models.DateTimeField(_("dernier relevé"))
    stopped_at = models.DateTimeField(_("fin"), null=True, blank=True)
    # Set when ``stopped_at`` comes from an Accounting-On/Off of the NAS rather than a Stop: a
    # later record of the session moves it to the next reboot, or reopens it.
    closed_by_reload = models.BooleanField(default=False)
    # Acct-Input-Octets: what the subscriber sent (upload); Output: what it received.
    input_octets = models.BigIntegerField(_("octets envoyés"), default=0)
    output_octets = models.BigIntegerField(_("octets reçus"), default=0)
    session_time = models.BigIntegerField(_("durée (s)"), default=0)
    terminate_cause = models.CharField(_("cause de fin"), max_length=40, blank=True)
    framed_ip = models.CharField(_("adresse IP attribuée"), max_length=45, blank=True)
    calling_station = models.CharField(
        _("équipement (Calling-Station-Id)"), max_length=64, blank=True
    )
    usage_days = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["contract", "started_at"], name="network_session_contract"),
            models.Index(
                fields=["nas_address"],
                condition=Q(stopped_at__isnull=True),
                name="network_session_open_by_nas",
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["key"], name="network_session_key")]
        verbose_name = _("session réseau")
        verbose_name_plural = _("sessions réseau")

    def __str__(self) -> str:
        return f"{self.login} {self.session_id}@{self.nas_address}"


class NasReload(models.Model):
    """An Accounting-On/Off of a NAS: its sessions open at that time ended then, including the
    ones whose records arrive later (N1)."""

    nas_address = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["nas_address", "at"], name="network_nasreload_unique")
        ]
        verbose_name = _("redémarrage de NAS")
        verbose_name_plural = _("redémarrages de NAS")

    def __str__(self) -> str:
        return f"{self.nas_address} {self.at:%Y-%m-%d %H:%M:%S}"


class DailyUsage(models.Model):
    """Volume of a contract's sessions on one Paris day, derived from the sessions' counters."""

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="network_usage"
    )
    day = models.DateField(_("jour"))
    input_octets = models.BigIntegerField(_("octets envoyés"), default=0)
    output_octets = models.BigIntegerField(_("octets reçus"), default=0)

    class Meta:
        ordering = ["contract_id", "day"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "day"], name="network_dailyusage_unique")
        ]
        verbose_name = _("consommation journalière")
        verbose_name_plural = _("consommations journalières")

    def __str__(self) -> str:
        return f"{self.contract_id} {self.day}"


class RadacctCursor(models.Model):
    """How far ``raccord radius sync-radacct`` has read a FreeRADIUS ``radacct`` table."""

    source = models.CharField(max_length=200, unique=True)
    last_id = models.BigIntegerField(default=0)
    last_update = models.DateTimeField(null=True, blank=True)
    rows_read = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    # The end of the last pass, whether it found rows or not, and why the last one failed.
    checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("curseur radacct")

    def __str__(self) -> str:
        return self.source


class JournalPosition(models.Model):
    """How far ``raccord radius merge`` has stored a RADIUS journal into the sessions: the
    segment and the byte offset of the first record not merged yet. Saved in the transaction
    that stores the records before it, so a merger stopped at any point neither skips nor
    repeats a record. One row per journal (the id written in its directory)."""

    journal = models.CharField(max_length=64, unique=True)
    directory = models.CharField(max_length=500, blank=True)
    segment = models.BigIntegerField(default=0)
    offset = models.BigIntegerField(default=0)
    records = models.BigIntegerField(default=0)
    merged_until = models.DateTimeField(null=True, blank=True)
    # The merger's last report (every few seconds while it runs): what the journal still held
    # then, so the back-office can tell a merge that keeps up from one behind or stopped.
    reported_at = models.DateTimeField(null=True, blank=True)
    waiting_records = models.BigIntegerField(default=0)
    waiting_bytes = models.BigIntegerField(default=0)
    waiting_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("position du journal RADIUS")

    def __str__(self) -> str:
        return f"{self.directory or self.journal} {self.segment}:{self.offset}"


class Incident(models.Model):
    """A network incident declared by an agent: a zone or a relay site, the communes it
    affects, when it started and when it is expected to end (N3). Shown in Mon Compte to the
    subscribers of those communes while it lasts."""

    title = models.CharField(_("intitulé"), max_length=150)
    zone = models.ForeignKey(
        "catalog.Zone",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("zone"),
    )
    relay_site = models.CharField(_("site relais"), max_length=150, blank=True)
    communes = models.JSONField(
        _("communes touchées (codes INSEE)"),
        default=list,
        blank=True,
        help_text=_("Vide : toute la zone."),
    )
    started_at = models.DateTimeField(_("début"))
    expected_end_at = models.DateTimeField(_("rétablissement prévu"), null=True, blank=True)
    ended_at = models.DateTimeField(_("fin"), null=True, blank=True)
    public_message = models.TextField(_("message aux abonnés"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("incident réseau")
        verbose_name_plural = _("incidents réseau")

    def __str__(self) -> str:
        return self.title

    def covers(self, *, insee_code: str, ban_id: str = "") -> bool:
        """Whether a line at this address is affected: one of the listed communes, or, when
        no commune is listed, anywhere in the zone."""
        if self.communes:
            return insee_code in self.communes
        if self.zone is not None:
            return self.zone.covers(insee_code=insee_code, ban_id=ban_id)
        return False


class Outage(models.Model):
    """A span of more than the policy's hours (48) during which an active line had no session
    (N3), found by the daily job. ``ended_at`` is empty while it lasts."""

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="network_outages"
    )
    started_at = models.DateTimeField(_("début"))
    ended_at = models.DateTimeField(_("fin"), null=True, blank=True)
    detected_on = models.DateField(_("détectée le"))

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "started_at"], name="network_outage_unique")
        ]
        verbose_name = _("coupure détectée")
        verbose_name_plural = _("coupures détectées")

    def __str__(self) -> str:
        return f"{self.contract_id} {self.started_at:%Y-%m-%d %H:%M}"
