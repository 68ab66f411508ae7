from django.urls import reverse


def test_home_page_answers(client, db):
    response = client.get(reverse("regulation:home"))
    assert response.status_code == 200
    assert "Next deadlines and dates" in response.content.decode()
