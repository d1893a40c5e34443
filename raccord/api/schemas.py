"""The API's JSON shapes. Amounts are strings with two decimals ("29.90"), never floats (M1)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, IPvAnyAddress, PlainSerializer, WithJsonSchema

from raccord.core.money import CENT

if TYPE_CHECKING:
    from raccord.contracts.models import Contract, ContractOption

# Larger ids cannot exist; refusing them up front keeps them away from the database integer.
MAX_ID = 2**62

Money = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(Decimal(value).quantize(CENT)), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["29.90"]}),
]


class ErrorItem(Schema):
    field: str | None
    message: str


class Error(Schema):
    message: str = Field(description="Message en français, à montrer à la personne.")
    field: str | None = Field(description="Champ en cause, ou null.")
    code: str
    errors: list[ErrorItem] | None = Field(
        None, description="Tous les champs en cause, quand il y en a plusieurs."
    )


# --- addresses and eligibility ----------------------------------------------------------


class AddressOut(Schema):
    id: int
    label: str
    numero: int | None
    rep: str
    street: str = Field(validation_alias="nom_voie")
    postal_code: str = Field(validation_alias="code_postal")
    insee_code: str = Field(validation_alias="code_insee")
    commune: str = Field(validation_alias="nom_commune")


class OptionPriceOut(Schema):
    code: str
    label: str
    monthly_price: Money


class EligibleOfferOut(Schema):
    code: str
    label: str
    technology: str
    technology_label: str
    download_mbps: int
    upload_mbps: int
    monthly_price: Money
    setup_fee: Money = Field(description="Frais de mise en service avant subvention.")
    setup_subsidy: Money = Field(description="Part des frais payée par la collectivité.")
    setup_fee_due: Money = Field(description="Frais de mise en service restant à payer.")
    equipment_subsidy: Money
    subsidy_authority: str = Field(description="Collectivité qui subventionne, ou vide.")
    commitment_months: int
    lead_time_days: int
    options: list[OptionPriceOut]


class EligibilityOut(Schema):
    address: AddressOut
    premises_equipped: bool = Field(
        description="Logement déjà équipé : délai plus court, pas d'installateur."
    )
    eligible: bool
    offers: list[EligibleOfferOut]


# --- customers and contracts --------------------------------------------------------------


class CustomerOut(Schema):
    id: int
    reference: str
    civility: str
    first_name: str
    last_name: str
    email: str
    phone: str
    birth_date: date | None
    postal_address: str
    postal_code: str
    city: str
    created_at: datetime


class ContractBriefOut(Schema):
    id: int
    reference: str
    status: str
    offer_label: str


class CustomerDetailOut(CustomerOut):
    contracts: list[ContractBriefOut]


class CustomerPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CustomerOut]


class ContractOptionOut(Schema):
    code: str
    label: str
    monthly_price: Money

    @staticmethod
    def resolve_code(obj: ContractOption) -> str:
        return obj.option.code


class PaymentOut(Schema):
    method: str
    mandate_reference: str | None
    iban_masked: str | None = Field(description="IBAN masqué ; l'IBAN complet n'est jamais exposé.")
    bic: str | None
    account_holder: str | None


class DeliveryOut(Schema):
    name: str
    address: str
    postal_code: str
    city: str


class ContractOut(Schema):
    id: int
    reference: str
    customer_id: int
    status: str
    status_label: str
    network_login: str
    offer_code: str
    offer_label: str
    download_mbps: int
    upload_mbps: int
    monthly_price: Money
    total_monthly_price: Money = Field(description="Offre et options.")
    setup_fee: Money
    setup_subsidy: Money
    setup_fee_due: Money
    equipment_subsidy: Money
    subsidy_authority: str
    termination_fee: Money
    commitment_months: int
    commitment_start: date | None
    commitment_end: date | None
    activation_date: date | None
    signup_date: date
    signed_at: datetime
    channel: str
    cgv_version: str
    express_start: bool
    installation_mode: str
    installation_address: AddressOut
    installation_complement: str
    delivery: DeliveryOut
    options: list[ContractOptionOut]
    payment: PaymentOut

    # Resolvers read only what ``contract_list``/``contract_get`` fetched up front
    # (select_related / prefetch_related): a page of contracts costs a fixed number of queries.
    @staticmethod
    def resolve_status_label(obj: Contract) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_offer_code(obj: Contract) -> str:
        return obj.offer.code

    @staticmethod
    def resolve_cgv_version(obj: Contract) -> str:
        return obj.cgv_version.version

    @staticmethod
    def resolve_options(obj: Contract) -> list[ContractOption]:
        return list(obj.options.all())

    @staticmethod
    def resolve_delivery(obj: Contract) -> dict[str, str]:
        return {
            "name": obj.delivery_name,
            "address": obj.delivery_address,
            "postal_code": obj.delivery_postal_code,
            "city": obj.delivery_city,
        }

    @staticmethod
    def resolve_payment(obj: Contract) -> dict[str, str | None]:
        mandate = obj.mandate
        return {
            "method": obj.payment_method,
            "mandate_reference": mandate.reference if mandate else None,
            # Only the masked form leaves the server (security rule: IBANs are masked).
            "iban_masked": mandate.iban_masked if mandate else None,
            "bic": mandate.bic if mandate else None,
            "account_holder": mandate.debtor_name if mandate else None,
        }


class ContractPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ContractOut]


# --- sign-ups -------------------------------------------------------------------------------


class SignupIn(Schema):
    """A sign-up sent by a partner or an agent's tool: the same fields, and the same checks, as
    the online funnel (C2)."""

    model_config = ConfigDict(extra="forbid")

    address_id: int = Field(ge=1, le=MAX_ID, description="Identifiant renvoyé par /addresses.")
    offer_code: str = Field(max_length=30)
    option_codes: list[Annotated[str, Field(max_length=30)]] = Field(
        default_factory=list, max_length=20
    )
    civility: Literal["mme", "m", ""] = ""
    first_name: str = Field(max_length=200)
    last_name: str = Field(max_length=200)
    email: str = Field(max_length=254)
    phone: str = Field(max_length=30)
    birth_date: date | None = None
    installation_complement: str = Field("", max_length=200)
    delivery_same_as_installation: bool = True
    delivery_name: str = Field("", max_length=200)
    delivery_address: str = Field("", max_length=300)
    delivery_postal_code: str = Field("", max_length=10)
    delivery_city: str = Field("", max_length=200)
    payment_method: Literal["sepa", "cheque"]
    iban: str = Field("", max_length=50)
    account_holder: str = Field("", max_length=140)
    installation_mode: Literal["kit", "installer", "equipped"]
    cgv_version_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="Version des CGV acceptée ; absente : la version en vigueur.",
    )
    cgv_accepted: bool = False
    express_start: bool = Field(
        False, description="Démarrage demandé avant la fin du délai de rétractation."
    )
    special_mentions: str = Field("", max_length=2000)
    channel: Literal["api", "phone", "paper"] | None = Field(
        None,
        description="« api » pour un jeton partenaire ; « phone » (défaut) ou « paper » pour "
        "un jeton agent.",
    )
    signup_ip: IPvAnyAddress | None = Field(
        None, description="Adresse IP du client lors de l'acceptation (jeton partenaire)."
    )
