import pytest


@pytest.mark.django_db
@pytest.mark.embedded
def test_the_health_endpoint_reports_the_database_and_the_cache(client, hero_cache):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": hero_cache.backend_name}


@pytest.mark.django_db
def test_the_home_page_leads_to_the_hero_admin(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/heroes/hero/"
