from collections import Counter

from tokengate.demo.data import MODELS, PLANS, TENANTS, USERS, model_named, plan_named, tenant_named


def test_plans_are_the_seed_table():
    assert [(p.name, p.monthly_token_limit, p.allowed_models, p.max_users) for p in PLANS] == [
        ("Enterprise", 10_000_000, ("C1", "C2", "C7"), 100),
        ("Pro", 5_000_000, ("C1", "C7"), 50),
        ("Basic", 1_000_000, ("C1",), 20),
        ("Free", 100_000, ("C1",), 5),
    ]


def test_tenants_are_the_seed_newspapers():
    assert [(t.name, t.plan) for t in TENANTS] == [
        ("서울경제신문", "Enterprise"),
        ("조선일보", "Pro"),
        ("한국경제신문", "Pro"),
        ("중앙일보", "Basic"),
        ("데모신문사", "Free"),
    ]
    assert all(t.teams for t in TENANTS)


def test_fifteen_users_fit_their_tenants():
    assert len(USERS) == 15
    assert len({u.email for u in USERS}) == 15
    per_tenant = Counter(u.tenant for u in USERS)
    for tenant in TENANTS:
        assert 0 < per_tenant[tenant.name] <= plan_named(tenant.plan).max_users
    for user in USERS:
        tenant = tenant_named(user.tenant)
        assert user.email.endswith("@" + tenant.domain)
        assert user.team in {team.name for team in tenant.teams}


def test_every_tenant_has_an_admin_and_every_team_a_member():
    for tenant in TENANTS:
        users = [u for u in USERS if u.tenant == tenant.name]
        assert any(u.role == "tenant_admin" for u in users)
        assert {u.team for u in users} == {team.name for team in tenant.teams}


def test_usage_targets_follow_the_seed():
    percent = {u.name: u.usage_percent for u in USERS}
    assert percent["이기자"] == 45
    assert percent["박기자"] == 80
    assert percent["정인턴"] == 95
    assert percent["데모관리자"] == 95
    near_limit = sorted(u.name for u in USERS if u.usage_percent >= 80)
    assert near_limit == ["데모관리자", "박기자", "정인턴"]
    assert all(5 <= u.usage_percent <= 70 for u in USERS if u.usage_percent < 80)


def test_engines_are_priced_c1_cheapest_c7_dearest():
    c1, c2, c7 = model_named("C1"), model_named("C2"), model_named("C7")
    assert c1.input_price_per_mtok < c2.input_price_per_mtok < c7.input_price_per_mtok
    assert c1.output_price_per_mtok < c2.output_price_per_mtok < c7.output_price_per_mtok
    allowed = {name for plan in PLANS for name in plan.allowed_models}
    assert allowed == {m.name for m in MODELS}
    for model in MODELS:
        assert model.cached_input_price_per_mtok <= model.input_price_per_mtok
        assert model.input_tokens[0] < model.input_tokens[1]
        assert model.output_tokens[0] < model.output_tokens[1]
