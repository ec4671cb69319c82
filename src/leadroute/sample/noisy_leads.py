"""A labelled stream of leads with noisy duplicates, for measuring duplicate detection.

`noisy_lead_stream(people, duplicates, seed)` returns `(lead_id, fields, person_id)` triples.
The fields have the shape `leadroute.domain.normalize` produces (email, email_domain, free_email,
domain, phone in E.164, first_name, last_name, company, company_key, country); a field with no
value is left out. The same arguments always give the same stream (a seeded `random.Random`).

People: first and last names from the lists of eighteen name cultures, at companies of skewed
sizes (a few with thousands of people, most with a handful), each company with its own name and
domain, a country, a legal form and a work-email pattern; every person has a work email, a
personal free-mail address and a phone with their country's calling code.
Hard negatives are built in:
- about 4% of people carry one of a few very common names ("John Smith", "Wei Zhang", ...),
  always at different companies;
- about 3% are family members of another person: same last name, same company and domain, half
  of them sharing the family's phone line, and a first name more than two edits away from every
  relative's;
- two people at one company never have names within two edits of each other in both first and
  last name (in either order): such people cannot be told apart from a typo without their
  email, so a label for them would be a guess.

The stream: each person's first lead, in order, and a share `duplicates` of the stream made of
later leads of an earlier person, each with a few kinds of noise: a typo of one or two edits in a
name (two only in names of seven letters or more), changed case, first and last name swapped, a
nickname, a missing first name, the personal address instead of the work one (or the reverse),
the address written with other case, dots or a +tag, another legal suffix or a typo in the
company name, a new phone, missing company, phone or country. A phone written differently
("(415) 555-0100") normalises to the same E.164 value, so it appears here unchanged.
Rates per later lead: names: a typo 22%, swapped 8%, case 8%, a nickname 4% (of the names
that have one), no first name 3%; email: the work one 55%, the personal one 30%, none 15%, a
quarter of them rewritten; company: another legal form or casing 45%, a typo 8%, missing 12%;
phone: the same 55%, another 10%, missing 35%; country missing 20%. First leads use the work
address 85% of the time, and miss the company 4%, the phone 20%, the country 10%.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

Fields = dict[str, Any]

# culture: (first names, last names, [(country, calling code, national digits, tld, legal forms)])
_CULTURES: dict[str, tuple[str, str, tuple[tuple[str, str, int, str, str], ...]]] = {
    "en": (
        "James Mary Robert Patricia Michael Jennifer William Linda David Elizabeth Richard "
        "Barbara Joseph Susan Thomas Jessica Charles Sarah Christopher Karen Daniel Nancy "
        "Matthew Margaret Anthony Emily Andrew Ashley Joshua Megan Kevin Rachel Brian Olivia",
        "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore "
        "Jackson White Harris Martin Thompson Clark Lewis Robinson Walker Young Allen King "
        "Wright Scott Hill Green Adams Baker Nelson Carter Mitchell Roberts O'Connor Murphy",
        (
            ("US", "1", 10, "com", "Inc|Inc.|Corp|Corporation|LLC|Co."),
            ("GB", "44", 10, "co.uk", "Ltd|Limited|PLC|Ltd."),
        ),
    ),
    "es": (
        "José Antonio Manuel Francisco Juan Javier Carmen Lucía Pilar Isabel Alejandro Pablo "
        "Sergio Raúl Marta Elena Cristina Rocío Diego Álvaro Beatriz Guadalupe Fernando Inés",
        "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín Jiménez "
        "Ruiz Hernández Díaz Moreno Álvarez Romero Navarro Torres Domínguez Vázquez Castillo",
        (
            ("ES", "34", 9, "es", "S.A.|SA|S.L.|SL"),
            ("MX", "52", 10, "com.mx", "S.A. de C.V.|SA de CV|S. de R.L."),
        ),
    ),
    "pt": (
        "João Pedro Lucas Gabriel Matheus Rafael Ana Juliana Mariana Fernanda Beatriz Larissa "
        "Thiago Bruno Gustavo Camila Letícia Vitória Leonardo Rodrigo Patrícia Aline",
        "Silva Santos Oliveira Souza Pereira Costa Ferreira Rodrigues Almeida Nascimento Lima "
        "Araújo Carvalho Gomes Ribeiro Barbosa Cardoso Rocha Dias Teixeira Cavalcanti Moura",
        (("BR", "55", 11, "com.br", "Ltda|Ltda.|S.A.|SA"),),
    ),
    "de": (
        "Lukas Maximilian Jonas Felix Leon Tobias Florian Sebastian Katharina Sabine Julia "
        "Ursula Monika Stefanie Jürgen Wolfgang Dieter Helga Ingrid Sven Birgit Matthias",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
        "Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger",
        (("DE", "49", 11, "de", "GmbH|AG|GmbH & Co. KG|SE"),),
    ),
    "fr": (
        "Jean Pierre Michel Philippe Alain Nicolas Christophe Laurent Nathalie Isabelle Sylvie "
        "Catherine Françoise Valérie Sandrine Céline Aurélie Mathieu Guillaume Étienne Hélène",
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
        "Lefèvre Michel Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel Chevalier",
        (("FR", "33", 9, "fr", "SA|SAS|S.A.S.|SARL"),),
    ),
    "it": (
        "Giuseppe Giovanni Francesco Luca Marco Alessandro Andrea Stefano Giulia Chiara "
        "Francesca Federica Valentina Paola Giorgio Lorenzo Matteo Roberta Simona Elisa",
        "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo "
        "Conti DeLuca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana",
        (("IT", "39", 10, "it", "S.p.A.|SpA|S.r.l.|Srl"),),
    ),
    "nl": (
        "Daan Sem Bram Lars Thijs Ruben Sanne Femke Lotte Anouk Eline Maarten Joost Pieter "
        "Willem Hendrik Annelies Marieke Wouter Jeroen Floor Roos",
        "deJong Jansen deVries vandenBerg vanDijk Bakker Janssen Visser Smit Meijer deBoer "
        "Mulder deGroot Bos Vos Peters Hendriks vanLeeuwen Dekker Brouwer deWit Dijkstra",
        (("NL", "31", 9, "nl", "B.V.|BV|N.V."),),
    ),
    "pl": (
        "Piotr Krzysztof Tomasz Paweł Marcin Michał Grzegorz Jakub Agnieszka Katarzyna "
        "Małgorzata Magdalena Joanna Dorota Ewa Zofia Wojciech Mateusz Bartosz Aleksandra",
        "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański "
        "Woźniak Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk Piotrowski Grabowski",
        (("PL", "48", 9, "pl", "Sp. z o.o.|S.A."),),
    ),
    "sv": (
        "Erik Lars Karl Anders Johan Per Nils Mikael Björn Astrid Ingrid Maja Elsa Linnea "
        "Sofia Karin Kerstin Birgitta Oskar Gustav Freja Signe",
        "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson "
        "Gustafsson Pettersson Jonsson Jansson Hansson Bengtsson Lindberg Lindqvist Berglund",
        (("SE", "46", 9, "se", "AB|Aktiebolag"),),
    ),
    "in": (
        "Aarav Vivaan Aditya Arjun Rohan Rahul Vikram Sanjay Anil Priya Ananya Diya Kavya "
        "Lakshmi Sunita Pooja Neha Deepika Suresh Ramesh Harish Meenakshi Arvind Shreya",
        "Sharma Verma Gupta Singh Kumar Patel Shah Mehta Iyer Nair Reddy Rao Joshi Desai "
        "Chatterjee Banerjee Mukherjee Agarwal Kapoor Malhotra Bhatt Pillai Menon Krishnan",
        (("IN", "91", 10, "in", "Pvt. Ltd.|Private Limited|Ltd"),),
    ),
    "cn": (
        "Wei Fang Min Jing Lei Yang Jun Tao Xiu Ying Hui Qiang Ming Yan Xiaoling Zhiwei "
        "Jianguo Haoran Yuxuan Zihan Meiling Guang",
        "Wang Zhang Liu Chen Yang Huang Zhao Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao Zheng "
        "Liang Xie Song Tang Deng",
        (
            ("CN", "86", 11, "cn", "Co., Ltd.|Limited|Co Ltd"),
            ("SG", "65", 8, "com.sg", "Pte. Ltd.|Pte Ltd"),
        ),
    ),
    "jp": (
        "Hiroshi Takeshi Kenji Satoshi Yuki Haruto Sota Daiki Akira Makoto Yuko Keiko "
        "Naoko Sakura Yui Aoi Hana Emi Kaori Ryota Shota Misaki",
        "Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato "
        "Yoshida Yamada Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Mori",
        (("JP", "81", 10, "jp", "K.K.|Co., Ltd.|Kabushiki Kaisha"),),
    ),
    "kr": (
        "Minjun Seojun Jiho Hyunwoo Dohyun Jiwoo Seoyeon Jiyoung Minji Eunji Sooyoung "
        "Hyejin Jaehyun Sungmin Taeyang Yuna Dahye Jisoo",
        "Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Oh Seo Shin Kwon Hwang Ahn Song",
        (("KR", "82", 10, "co.kr", "Co., Ltd.|Corp."),),
    ),
    "vn": (
        "Anh Minh Hung Dung Tuan Long Khanh Linh Huong Thao Trang Phuong Quang Thanh "
        "Hoang Ngoc Duc Mai Lan Hai",
        "Nguyen Tran Le Pham Hoang Huynh Phan Vu Vo Dang Bui Do Ho Ngo Duong Ly",
        (("VN", "84", 9, "vn", "JSC|Co., Ltd."),),
    ),
    "ar": (
        "Mohammed Ahmed Ali Omar Youssef Khalid Hassan Ibrahim Tariq Karim Fatima Aisha "
        "Mariam Layla Noor Huda Salma Yasmin Rania Samir Nabil Zainab",
        "Al-Sayed Haddad Khoury Mansour Nasser Hamdan Saleh Farouk Aziz Rahman Qureshi "
        "Abdullah Al-Amin Darwish Khalil Bakr Suleiman Othman Ghanem Hariri",
        (
            ("AE", "971", 9, "ae", "LLC|FZE|FZ-LLC"),
            ("EG", "20", 10, "com.eg", "S.A.E.|LLC"),
        ),
    ),
    "ng": (
        "Chinedu Emeka Obinna Ikenna Oluwaseun Babatunde Adebayo Tunde Ngozi Chiamaka "
        "Adaeze Funmilayo Yetunde Folake Chukwuma Kelechi Nnamdi Amaka Temitope Bisola",
        "Okafor Okonkwo Eze Nwosu Adeyemi Ogunleye Balogun Adebayo Olawale Okeke Ibrahim "
        "Bello Abubakar Mohammed Uche Nwachukwu Onyeka Afolabi Oyelaran Chukwu",
        (("NG", "234", 10, "com.ng", "Ltd|Limited|PLC"),),
    ),
    "tr": (
        "Mehmet Mustafa Ahmet Hüseyin Hasan İbrahim Emre Burak Murat Zeynep Elif Ayşe Fatma "
        "Emine Merve Esra Selin Ebru Kerem Can",
        "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan "  # noqa: RUF001
        "Kılıç Aslan Çetin Kara Koç Kurt Özkan Şimşek",  # noqa: RUF001
        (("TR", "90", 10, "com.tr", "A.Ş.|Ltd. Şti."),),
    ),
    "ru": (
        "Alexander Dmitry Sergey Andrey Alexey Ivan Mikhail Nikolai Vladimir Yuri Olga "
        "Tatiana Natalia Svetlana Irina Ekaterina Anastasia Yulia Maxim Artem Ksenia",
        "Ivanov Smirnov Kuznetsov Popov Vasiliev Petrov Sokolov Mikhailov Novikov Fedorov "
        "Morozov Volkov Alexeev Lebedev Semenov Egorov Pavlov Kozlov Stepanov Nikolaev",
        (("RU", "7", 10, "ru", "OOO|AO|PAO"),),
    ),
}
_COMMON_NAMES = (
    ("John", "Smith"),
    ("Maria", "Garcia"),
    ("Wei", "Zhang"),
    ("Mohammed", "Ali"),
    ("Anna", "Müller"),
    ("David", "Lee"),
)
_NICKNAMES = {
    "William": "Bill",
    "Robert": "Bob",
    "James": "Jim",
    "Michael": "Mike",
    "Richard": "Rick",
    "Joseph": "Joe",
    "Thomas": "Tom",
    "Elizabeth": "Liz",
    "Margaret": "Maggie",
    "Jennifer": "Jen",
    "Daniel": "Dan",
    "Anthony": "Tony",
    "Matthew": "Matt",
    "Andrew": "Andy",
    "Alexander": "Alex",
    "Katharina": "Kathi",
    "Francesco": "Checco",
    "Aleksandra": "Ola",
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_WORDS_A = _words(
    "Blue North Apex Silver Nova Bright Iron Green Summit Harbor Cedar Atlas Vertex Orbit "
    "Granite Crystal Falcon Maple Quantum Crimson Golden Polar Solar Lunar Coastal Pioneer "
    "Prime Vivid Swift Noble Urban Alpine Delta Echo Zenith Horizon Keystone Meridian Oak "
    "Willow Aurora Cobalt Ember Lighthouse Redwood Sterling Titan Vector Beacon Cascade "
    "Evergreen Amber Arctic Azure Birch Boulder Canyon Cardinal Citadel Clearwater Comet "
    "Copper Coral Cypress Dawn Desert Eagle Emerald Fjord Flint Fox Glacier Harvest Hawk "
    "Heron Highland Indigo Ivory Jade Juniper Kestrel Lakeside Lantern Laurel Lynx Magnolia "
    "Marble Mesa Midnight Monarch Mosaic Nimbus Obsidian Onyx Osprey Pacific Pine Prairie "
    "Quartz Raven Ridge Sage Sapphire Sequoia Shore Sierra Slate Spruce Stone Tidal Topaz "
    "Tundra Valley Velvet Violet Wren"
)
_WORDS_B = _words(
    "River Peak Labs Systems Logistics Foods Health Analytics Works Dynamics Networks Energy "
    "Capital Robotics Media Software Bio Pharma Freight Foundry Partners Retail Textiles "
    "Motors Security Clouds Data Learning Finance Insurance Studios Ventures Metrics Devices "
    "Materials Solutions Consulting Interactive Aerospace Marine Farms Payments Digital "
    "Holdings Advisors Apparel Architects Automation Brands Chemicals Clinics Components "
    "Construction Dental Design Electric Engineering Equity Fabrics Fitness Furniture Games "
    "Genomics Hospitality Imaging Instruments Lending Lighting Machines Medical Mining Optics "
    "Packaging Paper Plastics Power Printing Publishing Realty Recycling Sensors Shipping "
    "Steel Telecom Therapeutics Tools Travel Vision Water Wellness Wireless"
)
_WORDS_C = _words(
    "Group Global International Technologies Industries Services Europe Americas Worldwide "
    "Partners Enterprises Collective"
)
_LETTERS = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe"})  # noqa: RUF001
_FREE_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "gmx.de")
_LEGAL = re.compile(
    r"(?:\b(?:inc|corp|corporation|llc|co|company|ltd|limited|plc|sa|sl|de|cv|s|r|l|ltda|gmbh|"
    r"ag|kg|se|sas|sarl|spa|srl|bv|nv|sp|z|o|ab|aktiebolag|pvt|private|pte|kk|kabushiki|kaisha|"
    r"jsc|fze|fz|sae|a|b|c|e|k|n|p|v|ş|şti|ooo|ao|pao)\b\W*)+$"
)


def noisy_lead_stream(
    people: int, duplicates: float = 0.3, seed: int = 3
) -> list[tuple[str, dict[str, Any], str]]:
    """`people` distinct people's first leads plus noisy later leads, each labelled by person.

    `duplicates` is the share of the stream made of later leads of an earlier person
    (0 <= duplicates < 1), so the stream holds about people / (1 - duplicates) leads.
    Lead ids are "L0000001", ... in stream order; person ids "P0000001", ...
    """
    if people < 0 or not 0 <= duplicates < 1:
        raise ValueError("people must be >= 0 and duplicates in [0, 1)")
    rng = random.Random(seed)
    crowd = _Crowd(rng, people)
    extra = round(people * duplicates / (1 - duplicates)) if people else 0
    kinds = [True] * people + [False] * extra  # True: a person's first lead
    rng.shuffle(kinds)
    if kinds and not kinds[0]:
        kinds[kinds.index(True)], kinds[0] = False, True
    stream: list[tuple[str, dict[str, Any], str]] = []
    seen = 0
    for position, first in enumerate(kinds, start=1):
        if first:
            person = crowd.people[seen]
            seen += 1
            fields = crowd.first_lead(person)
        else:
            back = rng.randrange(max(0, seen - 500), seen) if rng.random() < 0.3 else None
            person = crowd.people[rng.randrange(seen) if back is None else back]
            fields = crowd.later_lead(person)
        stream.append((f"L{position:07d}", fields, person["id"]))
    return stream


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits: 'Müller' -> 'muller', "O'Connor" -> 'oconnor'."""
    plain = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    return "".join(ch for ch in plain if ch.isalnum() and ch.isascii())


def company_key(name: str) -> str:
    """A company name as the normaliser's company_key is specified ('The Acme Corporation, Inc.'
    -> 'acme'): case folded, punctuation and a leading "the" and trailing legal forms removed."""
    text = re.sub(r"[^\w\s]", " ", name.casefold())
    text = re.sub(r"\s+", " ", text).strip().removeprefix("the ")
    return _LEGAL.sub("", text).strip()


class _Crowd:
    """The generated companies and people, and how a person writes a lead."""

    def __init__(self, rng: random.Random, count: int) -> None:
        self.rng = rng
        self.names = {c: (f.split(), la.split()) for c, (f, la, _) in _CULTURES.items()}
        self.companies: list[dict[str, Any]] = []
        self.staff: list[tuple[list[str], list[str]]] = []  # per company: folded firsts, lasts
        self.taken: set[str] = set()  # domains, emails and phones already used
        self.people: list[dict[str, Any]] = []
        for _ in range(max(8, count // 12)):
            self._add_company()
        while len(self.people) < count:
            self._add_person()

    def _unique(self, make: Callable[[int], str]) -> str:
        for attempt in range(1000):
            value = make(attempt)
            if value not in self.taken:
                self.taken.add(value)
                return value
        raise RuntimeError("could not draw a unique value")

    def _add_company(self) -> None:
        rng = self.rng
        culture = rng.choice(list(_CULTURES))
        country, code, digits, tld, legal = rng.choice(_CULTURES[culture][2])
        surnames = self.names[culture][1]

        def make(_: int) -> str:
            if rng.random() < 0.2:
                words = [rng.choice(surnames), rng.choice(_WORDS_B)]
            else:
                words = [rng.choice(_WORDS_A), rng.choice(_WORDS_B)]
            if rng.random() < 0.4:
                words.append(rng.choice(_WORDS_C))
            return " ".join(words)

        name = self._unique(make)  # no two companies share a name
        slug = fold(name)
        domain = self._unique(lambda n: f"{slug}{n + 1 if n else ''}.{tld}")
        self.companies.append(
            {
                "name": name,
                "domain": domain,
                "country": country,
                "code": code,
                "digits": digits,
                "legal": legal.split("|"),
                "culture": culture,
                "pattern": rng.choice(("first.last", "first.last", "flast", "firstl", "first")),
            }
        )
        self.staff.append(([], []))

    def _clashes(self, company: int, first: str, last: str) -> bool:
        """Someone at the company whose names are within two edits of these (either order)."""
        firsts, lasts = self.staff[company]
        for a, b in ((first, last), (last, first)):
            for _, _, i in process.extract(
                a, firsts, scorer=Levenshtein.distance, score_cutoff=2, limit=None
            ):
                if Levenshtein.distance(b, lasts[i]) <= 2:
                    return True
        return False

    def _add_person(self) -> None:
        rng = self.rng
        roll = rng.random()
        relative = rng.choice(self.people) if roll < 0.03 and self.people else None
        for _ in range(200):
            if relative is not None:
                company, culture = relative["company"], relative["culture"]
                first, last = rng.choice(self.names[culture][0]), relative["last"]
            else:
                company = int(len(self.companies) * rng.random() ** 2)
                culture = self.companies[company]["culture"]
                if rng.random() < 0.3:
                    culture = rng.choice(list(_CULTURES))
                if roll < 0.07:
                    first, last = rng.choice(_COMMON_NAMES)
                else:
                    first = rng.choice(self.names[culture][0])
                    last = rng.choice(self.names[culture][1])
            if not self._clashes(company, fold(first), fold(last)):
                break
        else:
            return  # a crowded name at a crowded company: draw another person
        self.staff[company][0].append(fold(first))
        self.staff[company][1].append(fold(last))
        org = self.companies[company]
        if relative is not None and rng.random() < 0.5:
            phone = relative["phone"]
        else:
            phone = self._new_phone(org)
        self.people.append(
            {
                "id": f"P{len(self.people) + 1:07d}",
                "first": first,
                "last": last,
                "culture": culture,
                "company": company,
                "company_name": f"{org['name']} {rng.choice(org['legal'])}",
                "work": self._work_email(org, fold(first), fold(last)),
                "personal": self._personal_email(fold(first), fold(last)),
                "phone": phone,
            }
        )

    def _new_phone(self, org: dict[str, Any]) -> str:
        rng = self.rng
        return self._unique(
            lambda _: (
                f"+{org['code']}{rng.randint(1, 9)}"
                + "".join(str(rng.randint(0, 9)) for _ in range(org["digits"] - 1))
            )
        )

    def _work_email(self, org: dict[str, Any], first: str, last: str) -> str:
        local = {
            "first.last": f"{first}.{last}",
            "flast": f"{first[:1]}{last}",
            "firstl": f"{first}{last[:1]}",
            "first": first,
        }[org["pattern"]]
        return self._unique(lambda n: f"{local}{n + 1 if n else ''}@{org['domain']}")

    def _personal_email(self, first: str, last: str) -> str:
        rng = self.rng
        style = rng.randrange(3)
        host = rng.choice(_FREE_MAIL)
        year = rng.randint(60, 99)

        def make(n: int) -> str:
            tail = str(rng.randint(1, 9999)) if n else ""
            local = (f"{first}.{last}{year}", f"{first}{last}", f"{first[:1]}{last}{year}")
            return f"{local[style]}{tail}@{host}"

        return self._unique(make)

    # --- leads -----------------------------------------------------------------------------

    def first_lead(self, person: dict[str, Any]) -> Fields:
        rng = self.rng
        org = self.companies[person["company"]]
        work = rng.random() < 0.85
        return _fields(
            first=person["first"],
            last=person["last"],
            email=person["work"] if work else person["personal"],
            company=person["company_name"] if rng.random() < 0.96 else None,
            domain=org["domain"] if work or rng.random() < 0.25 else None,
            phone=person["phone"] if rng.random() < 0.8 else None,
            country=org["country"] if rng.random() < 0.9 else None,
        )

    def later_lead(self, person: dict[str, Any]) -> Fields:
        rng = self.rng
        org = self.companies[person["company"]]
        first, last = self._noisy_name(person["first"], person["last"])
        roll = rng.random()
        email = person["work"] if roll < 0.55 else person["personal"] if roll < 0.85 else None
        if email is not None and rng.random() < 0.25:
            email = self._rewritten_email(email)
        return _fields(
            first=first,
            last=last,
            email=email,
            company=self._noisy_company(person["company_name"], org),
            domain=org["domain"] if roll < 0.55 or rng.random() < 0.25 else None,
            phone=self._noisy_phone(person["phone"], org),
            country=org["country"] if rng.random() < 0.8 else None,
        )

    def _noisy_name(self, first: str, last: str) -> tuple[str | None, str]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.22:  # typos: in one name (a long one may take two), or one in each
            if rng.random() < 0.15:
                return _typo(rng, first, 1), _typo(rng, last, 1)
            if rng.random() < 0.5:
                return first, _typo(rng, last, 1 + (len(last) >= 7 and rng.random() < 0.3))
            return _typo(rng, first, 1 + (len(first) >= 7 and rng.random() < 0.3)), last
        if roll < 0.30:
            return last, first
        if roll < 0.38:
            return (first.upper(), last.upper()) if rng.random() < 0.5 else (first.lower(), last)
        if roll < 0.42:
            return _NICKNAMES.get(first, first), last
        if roll < 0.45:
            return None, last
        return first, last

    def _rewritten_email(self, email: str) -> str:
        rng = self.rng
        local, host = email.split("@")
        roll = rng.random()
        if roll < 0.4:
            return f"{local.title()}@{host}"
        if roll < 0.7:
            return f"{local}+{rng.choice(('webinar', 'news', 'crm', '2024'))}@{host}"
        if host == "gmail.com":
            return (
                f"{local.replace('.', '')}@{host}"
                if "." in local
                else f"{local[:2]}.{local[2:]}@{host}"
            )
        return email.upper().replace(host.upper(), host)

    def _noisy_company(self, name: str, org: dict[str, Any]) -> str | None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            legal = rng.choice([*org["legal"], ""])
            variant = f"{org['name']} {legal}".strip()
            return rng.choice(
                (variant, variant.upper(), f"The {variant}", f"{org['name']}, {legal}".strip(", "))
            )
        if roll < 0.53:
            return f"{_typo(rng, org['name'], 1)} {rng.choice(org['legal'])}"
        if roll < 0.65:
            return None
        return name

    def _noisy_phone(self, phone: str, org: dict[str, Any]) -> str | None:
        roll = self.rng.random()
        if roll < 0.55:
            return phone
        if roll < 0.65:
            return self._new_phone(org)
        return None


def _typo(rng: random.Random, word: str, edits: int) -> str:
    """One or two keyboard slips anywhere in the word: a letter replaced, dropped or doubled,
    or two neighbouring letters swapped."""
    letters = list(word)
    for _ in range(edits):
        if len(letters) < 3:
            break
        i = rng.randrange(len(letters))
        kind = rng.randrange(4)
        if kind == 0:
            new = rng.choice([c for c in "aeiourstnlmk" if c != letters[i].lower()])
            letters[i] = new.upper() if letters[i].isupper() else new
        elif kind == 1:
            del letters[i]
        elif kind == 2:
            letters.insert(i, letters[i].lower())
        else:
            j = i + 1 if i + 1 < len(letters) else i - 1
            letters[i], letters[j] = letters[j], letters[i]
    return "".join(letters)


def _fields(
    *,
    first: str | None,
    last: str | None,
    email: str | None,
    company: str | None,
    domain: str | None,
    phone: str | None,
    country: str | None,
) -> Fields:
    fields: Fields = {}
    if first:
        fields["first_name"] = first
    if last:
        fields["last_name"] = last
    if email:
        host = email.rsplit("@", 1)[1].lower()
        fields["email"] = f"{email.rsplit('@', 1)[0]}@{host}"
        fields["email_domain"] = host
        fields["free_email"] = host in _FREE_MAIL
    if domain:
        fields["domain"] = domain
    if company:
        fields["company"] = company
        fields["company_key"] = company_key(company)
    if phone:
        fields["phone"] = phone
    if country:
        fields["country"] = country
    return fields
