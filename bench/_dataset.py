"""A deterministic, realistic-looking address book and the two benchmark users.

Companies and their contacts get names, e-mail addresses, phones, cities and
countries from a seeded generator, so two runs with the same size load the
same rows. Everything is created through the ORM (stored computed fields,
commercial partner, address sync all happen as in real use) and is tagged with
``ref = "bench-..."`` so that a reused database is topped up, not reloaded.
"""

import random

REF_PREFIX = "bench-"
COMPANY_SHARE = 10  # one partner in ten is a company
BATCH = 500

CITIES = {
    "BE": ["Brussels", "Antwerp", "Ghent", "Liège", "Namur", "Leuven"],
    "FR": ["Paris", "Lyon", "Lille", "Nantes", "Toulouse", "Bordeaux"],
    "DE": ["Berlin", "Hamburg", "Munich", "Cologne", "Leipzig", "Bremen"],
    "NL": ["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Groningen"],
    "LU": ["Luxembourg", "Esch-sur-Alzette", "Differdange"],
    "ES": ["Madrid", "Barcelona", "Valencia", "Seville", "Bilbao"],
    "IT": ["Rome", "Milan", "Turin", "Naples", "Bologna"],
    "GB": ["London", "Leeds", "Bristol", "Glasgow", "Manchester"],
    "US": ["Boston", "Chicago", "Denver", "Austin", "Seattle", "Atlanta"],
    "CA": ["Toronto", "Montreal", "Calgary", "Ottawa"],
}
FIRST_NAMES = (
    "Alice Bram Chloé Dries Emma Farid Greta Hugo Inès Jonas Kato Lena Mehdi Nora "
    "Olivier Paula Quentin Rosa Sven Tess Umar Vera Wout Xavier Yara Zeno Anouk "
    "Bastien Célia Daan Elif Finn Giulia Hamza Ilse Jasper Lotte Marco Nina Pieter"
).split()
LAST_NAMES = (
    "Peeters Janssens Maes Jacobs Dubois Lambert Martin Bernard Müller Schmidt "
    "Fischer de Vries van Dijk Bakker Garcia Martinez Rossi Russo Smith Jones "
    "Taylor Brown Wilson Moreau Laurent Simon Michel Lefebvre Wouters Claes "
    "Goossens Hermans Leroy Roux Vincent Fournier Girard Bonnet Dupont Mertens"
).split()
COMPANY_WORDS = (
    "Atlas Beacon Cedar Delta Ember Fjord Granite Harbor Iris Juniper Keystone "
    "Lumen Meridian Nimbus Orchard Pioneer Quartz Riverside Summit Timber "
    "Unity Vertex Willow Zenith"
).split()
COMPANY_KINDS = (
    "Logistics Foods Engineering Consulting Textiles Pharma Robotics Energy "
    "Furniture Software Printing Optics"
).split()
COMPANY_FORMS = ["SA", "SRL", "GmbH", "BV", "Ltd", "Inc.", "SAS", "SpA"]


def _slug(text):
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _phone(rng, country):
    prefix = {"US": "+1", "CA": "+1", "GB": "+44", "DE": "+49", "FR": "+33"}
    digits = " ".join(f"{rng.randrange(100):02d}" for _ in range(4))
    return f"{prefix.get(country, '+32')} {rng.randrange(2, 9)} {digits}"


def company_values(rng, index, country_ids):
    code = rng.choice(list(CITIES))
    name = (
        f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} "
        f"{rng.choice(COMPANY_FORMS)} {index}"
    )
    return {
        "name": name,
        "is_company": True,
        "ref": f"{REF_PREFIX}c{index}",
        "email": f"info@{_slug(name)}.example.com",
        "phone": _phone(rng, code),
        "street": f"{rng.randrange(1, 250)} {rng.choice(LAST_NAMES)} Street",
        "city": rng.choice(CITIES[code]),
        "zip": f"{rng.randrange(1000, 99999)}",
        "country_id": country_ids[code],
    }


def person_values(rng, index, country_ids, companies):
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    values = {
        "name": f"{first} {last}",
        "is_company": False,
        "ref": f"{REF_PREFIX}p{index}",
        "email": f"{_slug(first)}.{_slug(last)}{index}@example.org",
        "phone": None,
        "function": rng.choice(["Buyer", "Accountant", "CEO", "Engineer", None]),
    }
    # Four contacts in five work for a company and share its address.
    if companies and rng.random() < 0.8:
        company = rng.choice(companies)
        values.update(parent_id=company.id, type="contact")
        values["phone"] = _phone(rng, company.country_id.code)
        return values
    code = rng.choice(list(CITIES))
    values.update(
        city=rng.choice(CITIES[code]),
        country_id=country_ids[code],
        phone=_phone(rng, code),
    )
    return values


def _create_in_batches(model, values):
    created = model.browse()
    for start in range(0, len(values), BATCH):
        created |= model.create(values[start : start + BATCH])
    return created


def load_partners(env, total, seed=18):
    """Make sure ``total`` benchmark partners exist; the number created now."""
    partners = env["res.partner"].with_context(tracking_disable=True)
    existing = partners.search_count([("ref", "=like", REF_PREFIX + "%")])
    if existing >= total:
        return 0
    rng = random.Random(seed + existing)
    countries = env["res.country"].search([("code", "in", list(CITIES))])
    country_ids = {country.code: country.id for country in countries}

    wanted = total - existing
    n_companies = max(1, wanted // COMPANY_SHARE)
    companies = _create_in_batches(
        partners,
        [company_values(rng, existing + i, country_ids) for i in range(n_companies)],
    )
    people = [
        person_values(rng, existing + i, country_ids, companies)
        for i in range(wanted - n_companies)
    ]
    _create_in_batches(partners, people)
    env.flush_all()
    return wanted


def ensure_user(env, login, *, password=None):
    """An internal user (base.group_user only) with ``password`` or none at all."""
    users = env["res.users"].with_context(active_test=False, no_reset_password=True)
    user = users.search([("login", "=", login)])
    if not user:
        user = users.create(
            {
                "name": login.replace("_", " ").title(),
                "login": login,
                "email": f"{login}@example.com",
                "groups_id": [(6, 0, [env.ref("base.group_user").id])],
            }
        )
    user.active = True
    if password:
        user.password = password
    return user


def fresh_api_key(env, user, name="bench"):
    """Replace the user's benchmark keys by one new global key; its clear text."""
    keys = env["res.users.apikeys"].sudo()
    keys.search([("user_id", "=", user.id), ("name", "=", name)]).unlink()
    # sudo as that user: a key without expiry, while env.user stays the owner.
    return keys.with_user(user).sudo()._generate(None, name, None)
