"""The NAS clients: which shared secret a packet's source address uses."""

from __future__ import annotations

import ipaddress
from typing import Any


class NasTable:
    """Which secret a source address uses: the NAS clients configured in the back-office
    (an address or a network each), else the ``--secret`` given on the command line."""

    def __init__(self, clients: list[tuple[str, str]], default_secret: str | None = None) -> None:
        self._exact: dict[str, bytes] = {}
        self._networks: list[tuple[Any, bytes]] = []
        for network, secret in clients:
            net = ipaddress.ip_network(network.strip(), strict=False)
            if net.num_addresses == 1:
                self._exact[str(net.network_address)] = secret.encode()
            else:
                self._networks.append((net, secret.encode()))
        # The most specific network first.
        self._networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
        self._default = default_secret.encode() if default_secret else None
        self._cache: dict[str, bytes | None] = {}

    @property
    def empty(self) -> bool:
        return not self._exact and not self._networks and self._default is None

    def secret_for(self, address: str) -> bytes | None:
        try:
            return self._cache[address]
        except KeyError:
            pass
        secret = self._exact.get(address)
        if secret is None and self._networks:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                ip = None
            if ip is not None:
                for net, candidate in self._networks:
                    if ip.version == net.version and ip in net:
                        secret = candidate
                        break
        if secret is None:
            secret = self._default
        if len(self._cache) < 100_000:
            self._cache[address] = secret
        return secret


def nas_table_load(default_secret: str | None = None) -> NasTable:
    from raccord.network.models import NasClient

    clients = list(NasClient.objects.filter(is_active=True).values_list("network", "secret"))
    return NasTable(clients, default_secret)
