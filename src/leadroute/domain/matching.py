"""Lead-to-account matching by domain (exact, normalised); fuzzy matching builds on this."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from leadroute.domain.org import Account, Org

# The most common consumer mail domains; the data pipeline brings a maintained list.
FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.co.jp",
        "yahoo.com.mx",
        "yahoo.fr",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mail.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "t-online.de",
        "orange.fr",
        "free.fr",
        "libero.it",
        "bol.com.br",
        "uol.com.br",
        "naver.com",
        "proton.me",
        "protonmail.com",
        "yandex.ru",
        "mail.ru",
        "qq.com",
        "163.com",
        "126.com",
        "zoho.com",
        "rediffmail.com",
    }
)


def domain_of(value: Any) -> str | None:
    """'https://www.Acme.com/about' or 'ada@acme.com' or 'acme.com' -> 'acme.com'."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    elif "//" in text or "/" in text:
        text = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    text = text.strip(".")
    return text.removeprefix("www.") or None


def match_account(data: Mapping[str, Any], org: Org) -> Account | None:
    """The account whose domain equals the lead's company domain, website or email domain."""
    by_domain = org.accounts_by_domain
    if not by_domain:
        return None
    for key in ("domain", "website", "email"):
        domain = domain_of(data.get(key))
        if domain is None or (key == "email" and domain in FREE_MAIL):
            continue
        account = by_domain.get(domain)
        if account is not None:
            return account
    return None
