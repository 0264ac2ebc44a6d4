"""Synthetic people and firms: names, Ghana card numbers, e-mail addresses and phone numbers.

Everything is drawn from small fixed word lists with a seeded generator; no real person's data.
"""

from __future__ import annotations

import numpy as np

GIVEN_NAMES = (
    "Kwame", "Kofi", "Kwabena", "Kwaku", "Yaw", "Kojo", "Kwasi", "Fiifi", "Ekow", "Nana", "Ama",
    "Akosua", "Abena", "Akua", "Yaa", "Afua", "Adwoa", "Esi", "Efua", "Araba", "Adjoa", "Mawuli",
    "Selorm", "Edem", "Elikem", "Dzifa", "Enam", "Abdul", "Fuseini", "Mohammed", "Ibrahim", "Alhassan",
    "Issah", "Amina", "Zainab", "Hawa", "Fatima", "Rashida", "Sumaila", "Mahama", "Naa", "Nii", "Ayele",
    "Dede", "Korkor", "Emmanuel", "Grace", "Samuel", "Comfort", "Daniel", "Felicia", "Joseph", "Priscilla",
)  # fmt: skip
FAMILY_NAMES = (
    "Mensah", "Owusu", "Boateng", "Asante", "Osei", "Appiah", "Agyeman", "Adjei", "Amoah", "Darko",
    "Ofori", "Frimpong", "Addo", "Quaye", "Tetteh", "Danquah", "Sarpong", "Yeboah", "Acheampong",
    "Bawa", "Iddrisu", "Mahama", "Salifu", "Abubakar", "Dery", "Kuffour", "Ansah", "Gyamfi", "Nyarko",
    "Amponsah", "Baidoo", "Quansah", "Aidoo", "Arthur", "Essien", "Lamptey", "Ankrah", "Kpodo", "Agbeko",
    "Dzansi", "Fiawoo", "Tamakloe", "Seidu", "Yakubu", "Alhassan", "Zakaria", "Bukari", "Awuni", "Atta",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "live.com")
MOBILE_PREFIXES = ("20", "23", "24", "26", "27", "50", "54", "55", "56", "57", "59")
FOREIGN_COUNTRIES = ("NG", "CI", "BF", "TG", "GB", "CN", "IN", "LB", "NL", "US")


def person_names(rng: np.random.Generator, count: int) -> list[str]:
    given = rng.integers(0, len(GIVEN_NAMES), count)
    family = rng.integers(0, len(FAMILY_NAMES), count)
    return [f"{GIVEN_NAMES[g]} {FAMILY_NAMES[f]}" for g, f in zip(given, family, strict=True)]


def ghana_card_ids(rng: np.random.Generator, count: int) -> list[str]:
    """Ghana card numbers, ``GHA-`` + 9 digits + ``-`` + a check digit; unique within the call."""
    numbers = rng.choice(900_000_000, size=count, replace=False) + 100_000_000
    checks = rng.integers(0, 10, count)
    return [f"GHA-{n:09d}-{c}" for n, c in zip(numbers, checks, strict=True)]


def personal_emails(rng: np.random.Generator, names: list[str], serials: np.ndarray) -> list[str]:
    """Addresses like kofi.mensah123@gmail.com; the serial keeps them unique."""
    domains = rng.integers(0, len(EMAIL_DOMAINS), len(names))
    return [
        f"{name.lower().replace(' ', '.')}{serial}@{EMAIL_DOMAINS[d]}"
        for name, serial, d in zip(names, serials, domains, strict=True)
    ]


def ghana_mobiles(rng: np.random.Generator, count: int) -> list[str]:
    """Ghanaian mobile numbers in E.164 form, e.g. +233241234567."""
    prefixes = rng.integers(0, len(MOBILE_PREFIXES), count)
    numbers = rng.integers(0, 10_000_000, count)
    return [f"+233{MOBILE_PREFIXES[p]}{n:07d}" for p, n in zip(prefixes, numbers, strict=True)]


def countries(rng: np.random.Generator, count: int, share_ghana: float = 0.92) -> list[str]:
    foreign = rng.integers(0, len(FOREIGN_COUNTRIES), count)
    ghanaian = rng.random(count) < share_ghana
    return ["GH" if g else FOREIGN_COUNTRIES[f] for g, f in zip(ghanaian, foreign, strict=True)]
